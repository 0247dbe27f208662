#!/usr/bin/env bash
# Sets up (Debian packages, Node packages, build) and runs every test.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh --tests
dotnet test tests/AiAssistant.Tests/AiAssistant.Tests.csproj -c Release --no-build -nologo \
  --logger "console;verbosity=normal" --blame-hang-timeout 10m
