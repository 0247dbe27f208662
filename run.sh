#!/usr/bin/env bash
# Sets up (Debian packages, build) and runs the whole stack in the foreground. Options go to the launcher:
#   --port 8080  --chat-replicas 2  --data .data
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
exec dotnet artifacts/bin/AppHost/release/AppHost.dll "$@"
