#!/usr/bin/env bash
# Runs a command with the engine, the loopback registry and the base image up; stops what it started afterwards.
# Usage: bash tools/scripts/with-services.sh pnpm test
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/services.sh"
trap services_down EXIT
services_up
export IMAGESPEC_REQUIRE_ENGINE=1
"$@"
