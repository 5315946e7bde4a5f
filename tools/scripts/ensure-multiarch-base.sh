#!/usr/bin/env bash
# Makes the offline Python base image a two-platform image in the loopback registry: the amd64 image of
# ensure-base-image.sh plus an arm64 one, published as one manifest list under the same tag. The arm64 rootfs is
# made once per machine and cached next to the amd64 one (never per test): mmdebstrap's `extract` variant unpacks the
# packages without running their maintainer scripts, so nothing runs under QEMU (about 1-2 minutes, mostly downloads;
# the `apt` variant took 10+ minutes under emulation). The two maintainer-script effects a Python image needs
# (/etc/passwd and /etc/group from base-passwd, shadow files, the ld.so cache) are one emulated RUN step of the image build.
# Needs arm64 emulation (services.sh enables qemu-aarch64) and the registry on 127.0.0.1:5000.
# Usage: ensure-multiarch-base.sh [image]   (default: $IMAGESPEC_TEST_BASE_IMAGE or localhost:5000/imagespec/python-base:3.11)
set -euo pipefail
IMAGE="${1:-${IMAGESPEC_TEST_BASE_IMAGE:-localhost:5000/imagespec/python-base:3.11}}"
DOCKER="${DOCKER:-/usr/bin/docker}"
HOSTPORT="${IMAGE%%/*}"
REPO_TAG="${IMAGE#*/}"
REPO="${REPO_TAG%:*}"
TAG="${REPO_TAG##*:}"
API="http://${HOSTPORT/localhost/127.0.0.1}/v2/$REPO"
LIST='application/vnd.docker.distribution.manifest.list.v2+json'
ACCEPT="$LIST, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"

has_both() {
  local doc
  doc="$(curl -fsS -H "Accept: $ACCEPT" "$API/manifests/$TAG" 2>/dev/null)" || return 1
  printf '%s' "$doc" | python3 -c '
import json, sys
doc = json.load(sys.stdin)
have = {(m.get("platform") or {}).get("architecture") for m in doc.get("manifests", [])}
sys.exit(0 if {"amd64", "arm64"} <= have else 1)'
}
# IMAGESPEC_BASE_REBUILD=1 re-publishes (after the cached rootfs or the local arm64 image was removed).
if [ "${IMAGESPEC_BASE_REBUILD:-}" != 1 ] && has_both; then echo "multi-platform base $IMAGE present"; exit 0; fi

MIRROR="${DEBIAN_MIRROR:-$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | grep debian | head -n1)}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
CACHE="${IMAGESPEC_BASE_CACHE:-/var/cache/imagespec}"
mkdir -p "$CACHE"
TAR="$CACHE/python-base-bookworm-arm64.tar"
if [ ! -s "$TAR" ] && [ -e "$TAR.partial" ] && pgrep -f "$TAR.partial" >/dev/null; then
  echo "waiting for the arm64 rootfs being built into $TAR.partial"
  for _ in $(seq 1 1800); do [ -s "$TAR" ] && break; pgrep -f "$TAR.partial" >/dev/null || break; sleep 1; done
fi
if [ ! -s "$TAR" ]; then
  echo "unpacking the arm64 base rootfs from $MIRROR (once per machine)"
  # `extract` installs only what --include names (and its dependencies), so the Essential set a shell needs is listed.
  mmdebstrap --quiet --format=tar --variant=extract --architectures=arm64 \
    --include=python3,python3-pip,python3-venv,ca-certificates,base-files,base-passwd,bash,bsdutils,coreutils,dash \
    --include=debianutils,diffutils,findutils,grep,gzip,hostname,libc-bin,login,mawk,ncurses-base,ncurses-bin \
    --include=passwd,perl-base,sed,sysvinit-utils,tar,util-linux \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    bookworm "$TAR.partial" "$MIRROR"
  mv "$TAR.partial" "$TAR"
fi

# The arm64 image. `docker import --platform linux/arm64` needs an experimental daemon on Docker 20.10 (otherwise the
# platform is ignored and the image says amd64), so the rootfs is added to an empty image by a BuildKit build for
# linux/arm64 instead: the same single layer, with an arm64 config.
ARM="$IMAGE-linux-arm64"
if [ "$("$DOCKER" image inspect --format '{{.Architecture}}' "$ARM" 2>/dev/null)" != "arm64" ]; then
  ctx="$(mktemp -d /tmp/imagespec-arm64-base.XXXXXX)"
  ln "$TAR" "$ctx/rootfs.tar" 2>/dev/null || cp "$TAR" "$ctx/rootfs.tar"
  printf '%s\n' 'FROM scratch' 'ADD rootfs.tar /' \
    'RUN cp /usr/share/base-passwd/passwd.master /etc/passwd && cp /usr/share/base-passwd/group.master /etc/group && pwconv && grpconv && ldconfig' \
    'ENV LANG=C.UTF-8' 'CMD ["python3"]' >"$ctx/Dockerfile"
  DOCKER_BUILDKIT=1 "$DOCKER" build -q --platform linux/arm64 -t "$ARM" "$ctx" >/dev/null
  rm -rf "$ctx"
fi
[ "$("$DOCKER" image inspect --format '{{.Architecture}}' "$ARM")" = "arm64" ] || { echo "the arm64 base is not arm64" >&2; exit 1; }

# Push both children (the amd64 one under its usual tag first), then put the manifest list over the tag.
"$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1 || bash "$(dirname "$0")/ensure-base-image.sh" "$IMAGE"
"$DOCKER" push -q "$IMAGE" >/dev/null
"$DOCKER" push -q "$ARM" >/dev/null
python3 - "$API" "$TAG" "$TAG-linux-arm64" "$ACCEPT" "$LIST" <<'PY'
import hashlib, json, sys, urllib.request
api, tag, arm_tag, accept, list_type = sys.argv[1:]
def child(ref, arch):
    req = urllib.request.Request(f"{api}/manifests/{ref}", headers={"Accept": accept})
    with urllib.request.urlopen(req) as res:
        body = res.read()
        media = res.headers["Content-Type"].split(";")[0]
    if json.loads(body).get("manifests"):  # the tag is a list already: take its amd64 child
        m = next(m for m in json.loads(body)["manifests"] if m["platform"]["architecture"] == arch)
        return m
    return {"mediaType": media, "digest": "sha256:" + hashlib.sha256(body).hexdigest(), "size": len(body),
            "platform": {"architecture": arch, "os": "linux"}}
index = {"schemaVersion": 2, "mediaType": list_type, "manifests": [child(tag, "amd64"), child(arm_tag, "arm64")]}
req = urllib.request.Request(f"{api}/manifests/{tag}", data=json.dumps(index).encode(), method="PUT",
                             headers={"Content-Type": list_type})
urllib.request.urlopen(req).read()
PY
has_both || { echo "the registry does not hold both platforms under $IMAGE" >&2; exit 1; }
echo "multi-platform base $IMAGE published (linux/amd64, linux/arm64)"
