#!/usr/bin/env bash
# Sets up (Debian packages, build) and runs the whole stack in the foreground under the Aspire AppHost.
#   ./run.sh [--port 8080] [--chat-replicas 2] [--data .data] [--dashboard-port 18888]
# Prints "Dashboard: …" and "Gateway: …" once everything is healthy. Ctrl+C or SIGTERM stops it all; this script
# returns only when DCP has finished stopping every resource.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
dotnet artifacts/bin/AppHost/release/AppHost.dll "$@" &
apphost=$!
# a background job of a script ignores SIGINT: pass Ctrl+C (and SIGTERM) on to the AppHost as SIGTERM
trap 'kill -TERM "$apphost" 2>/dev/null || true' INT TERM

# DCP runs detached and goes on cleaning up for some seconds after the AppHost exits. Each of its processes names the
# same kubeconfig file: note it while the AppHost runs, then wait until no process names it any more.
kubeconfig_file="$(mktemp)"
(
  while kill -0 "$apphost" 2>/dev/null; do
    kc=$(pgrep -af -- "dcp start-apiserver --monitor $apphost " | grep -oE -- '--kubeconfig [^ ]+' | head -1 | cut -d' ' -f2 || true)
    if [ -n "$kc" ]; then echo "$kc" > "$kubeconfig_file"; exit 0; fi
    sleep 1
  done
) &

status=0
wait "$apphost" || status=$?
# interrupted by the trap: wait for the AppHost itself
while kill -0 "$apphost" 2>/dev/null; do wait "$apphost" || status=$?; done
kubeconfig="$(cat "$kubeconfig_file")"; rm -f "$kubeconfig_file"
if [ -n "$kubeconfig" ]; then
  while pgrep -f -- "$kubeconfig" >/dev/null; do sleep 0.5; done
fi
exit "$status"
