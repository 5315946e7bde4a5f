#!/usr/bin/env bash
# Installs and starts what imagespec's tests and demo need on a Debian machine, idempotently:
# system packages (docker.io, docker-registry, mmdebstrap, buildah, qemu-user-static, ...), pnpm 12, dockerd, a
# loopback registry on 127.0.0.1:5000, arm64 emulation (binfmt_misc), the offline Python base image (amd64, plus arm64
# published with it as one index in the registry), and the workspace's node_modules.
# Source it, then call `services_up`; `services_down` stops only what services_up started.
# Exported for the tests: IMAGESPEC_CI_REGISTRY (host:port of the loopback registry).

IMAGESPEC_ROOT="${IMAGESPEC_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
SERVICES_DIR="${IMAGESPEC_SERVICES_DIR:-/tmp/imagespec-services}"
_started_dockerd=""
_started_registry=""

_log() { printf '[services] %s\n' "$*" >&2; }

_ping_engine() { curl -fsS --max-time 2 --unix-socket /var/run/docker.sock http://d/_ping >/dev/null 2>&1; }

install_system() {
  local need=()
  for pair in dockerd:docker.io docker-registry:docker-registry mmdebstrap:mmdebstrap htpasswd:apache2-utils \
              openssl:openssl git:git curl:curl /usr/sbin/sshd:openssh-server ssh-agent:openssh-client buildah:buildah \
              qemu-aarch64-static:qemu-user-static /usr/sbin/update-binfmts:binfmt-support; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
  done
  [ -x /usr/bin/docker ] || need+=(docker.io)
  /usr/bin/python3 -c 'import docker' >/dev/null 2>&1 || need+=(python3-docker)
  if [ ${#need[@]} -gt 0 ]; then
    _log "apt-get install ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q "${need[@]}" >/dev/null
  fi
  if [ "$(pnpm --version 2>/dev/null)" != "12.21.0" ]; then
    _log "npm i -g pnpm@12.21.0"
    npm i -g pnpm@12.21.0 >/dev/null 2>&1
  fi
}

# arm64 emulation for multi-platform builds: QEMU's aarch64 interpreter registered with binfmt_misc (flag F, so it
# also works inside containers and build steps).
enable_arm64_emulation() {
  if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || true
  fi
  if ! grep -qs '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64; then
    _log "enabling qemu-aarch64 in binfmt_misc"
    update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
  fi
  if ! grep -qs '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64; then
    _log "qemu-aarch64 could not be enabled in binfmt_misc (arm64 builds cannot run here)"; return 1
  fi
}

start_dockerd() {
  if _ping_engine; then _log "docker engine already running"; return 0; fi
  mkdir -p "$SERVICES_DIR"
  _log "starting dockerd"
  dockerd --iptables=false >"$SERVICES_DIR/dockerd.log" 2>&1 &
  echo $! >"$SERVICES_DIR/dockerd.pid"
  _started_dockerd=1
  for _ in $(seq 1 300); do _ping_engine && return 0; sleep 0.2; done
  _log "dockerd did not answer /_ping within 60 s:"; tail -n 30 "$SERVICES_DIR/dockerd.log" >&2; return 1
}

start_registry() {
  export IMAGESPEC_CI_REGISTRY=127.0.0.1:5000
  if curl -fsS --max-time 2 http://127.0.0.1:5000/v2/ >/dev/null 2>&1; then _log "registry already on 127.0.0.1:5000"; return 0; fi
  mkdir -p "$SERVICES_DIR/registry/data"
  cat >"$SERVICES_DIR/registry/config.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $SERVICES_DIR/registry/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:5000
  secret: imagespec-local
YAML
  _log "starting docker-registry on 127.0.0.1:5000"
  /usr/bin/docker-registry serve "$SERVICES_DIR/registry/config.yml" >"$SERVICES_DIR/registry.log" 2>&1 &
  echo $! >"$SERVICES_DIR/registry.pid"
  _started_registry=1
  for _ in $(seq 1 100); do curl -fsS http://127.0.0.1:5000/v2/ >/dev/null 2>&1 && return 0; sleep 0.1; done
  _log "registry did not start:"; cat "$SERVICES_DIR/registry.log" >&2; return 1
}

services_up() {
  install_system
  start_dockerd
  start_registry
  bash "$IMAGESPEC_ROOT/tools/scripts/ensure-base-image.sh"
  enable_arm64_emulation
  bash "$IMAGESPEC_ROOT/tools/scripts/ensure-multiarch-base.sh"
  (cd "$IMAGESPEC_ROOT" && pnpm install --frozen-lockfile --reporter=silent)
}

services_down() {
  if [ -n "$_started_registry" ] && [ -f "$SERVICES_DIR/registry.pid" ]; then
    kill "$(cat "$SERVICES_DIR/registry.pid")" 2>/dev/null || true
  fi
  if [ -n "$_started_dockerd" ] && [ -f "$SERVICES_DIR/dockerd.pid" ]; then
    local pid; pid="$(cat "$SERVICES_DIR/dockerd.pid")"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  fi
}
