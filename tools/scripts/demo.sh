#!/usr/bin/env bash
# The main job on the example spec: set up the machine (engine, loopback registry, offline base image, pnpm
# workspace), build the packages, then `imagespec build` examples/hello (pushed to localhost:5000) and run the image.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source tools/scripts/services.sh
index_pid=""
cleanup() { [ -n "$index_pid" ] && kill "$index_pid" 2>/dev/null; services_down; }
trap cleanup EXIT
services_up
pnpm exec nx run @imagespec/cli:build --output-style=stream-without-prefixes >/dev/null
pnpm exec tsx tools/scripts/demo-index.ts > /tmp/imagespec-demo-index.log 2>&1 &
index_pid=$!
for _ in $(seq 1 100); do grep -q 'index ready' /tmp/imagespec-demo-index.log 2>/dev/null && break; sleep 0.1; done
export IMAGESPEC_DOCKERFILE_SYNTAX=none IMAGESPEC_BUILD_NETWORK=host
# Relative paths in a spec (source_root: src) resolve from the working directory, as in flytekit: run from the project.
spec=imagespec.yaml
root=$PWD
cd examples/hello
imagespec() { node "$root/packages/cli/dist/bin.cjs" "$@"; }
echo "\$ imagespec validate $spec && imagespec name $spec"
imagespec validate "$spec"
image=$(imagespec name "$spec")
echo "$image"
echo "\$ imagespec build $spec"
imagespec build "$spec" --progress plain
echo "\$ imagespec exists $spec"
imagespec exists "$spec" || true
echo "\$ docker run --rm $image python -m hello"
/usr/bin/docker run --rm "$image" python -m hello
