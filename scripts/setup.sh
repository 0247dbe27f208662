#!/usr/bin/env bash
# Sets up a fresh Debian machine for AiAssistant: the servers, Node.js and npm from Debian's packages when missing, the web
# app's build (Web/, Vite), then a Release build.
#   scripts/setup.sh          what ./run.sh needs
#   scripts/setup.sh --tests  also Debian's chromium (the browser tests) and the packages of the Node suites (tests/sdk:
#                             @directus/sdk, tests/chat: ai, tests/mcp: @modelcontextprotocol/sdk, tests/web: playwright-core,
#                             tests/kubernetes: kubernetes-models), and checks for kubectl
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=false
[ "${1:-}" = "--tests" ] && want_tests=true

missing=()
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if $want_tests; then
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]} from Debian's packages"
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  # Debian's policy-rc.d keeps apt from starting these as system services; we run our own instances.
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

command -v dotnet >/dev/null 2>&1 || { echo "setup: the .NET 10 SDK is required (dotnet on PATH)"; exit 1; }

echo "setup: building the web app (Web/)"
npm ci --prefix Web --no-audit --no-fund
npm run build --prefix Web

if $want_tests; then
  echo "setup: installing the Node suites' packages (tests/sdk, tests/chat, tests/mcp, tests/web, tests/kubernetes)"
  for suite in sdk chat mcp web kubernetes; do npm ci --prefix "tests/$suite" --no-audit --no-fund; done
  # the Kubernetes manifests' test renders them with kubectl kustomize; Debian 12's kubernetes-client (1.20) is too old
  command -v kubectl >/dev/null 2>&1 || echo "setup: kubectl is not on PATH: KubernetesManifestsTests will fail until it is (tested with 1.32; an old one's kustomize may lack labels and components)"
fi

echo "setup: building (Release)"
dotnet build AiAssistant.sln -c Release -nologo -clp:ErrorsOnly -v:quiet
