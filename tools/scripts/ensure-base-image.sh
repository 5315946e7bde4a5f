#!/usr/bin/env bash
# Builds the offline Python base image (Debian bookworm python3 + pip + venv + poetry) with mmdebstrap and
# `docker import`, unless the engine already has it. No registry pulls: only Debian's mirror is used.
# Usage: ensure-base-image.sh [image]   (default: $IMAGESPEC_TEST_BASE_IMAGE or localhost:5000/imagespec/python-base:3.11)
set -euo pipefail
IMAGE="${1:-${IMAGESPEC_TEST_BASE_IMAGE:-localhost:5000/imagespec/python-base:3.11}}"
DOCKER="${DOCKER:-/usr/bin/docker}"
if "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then echo "base image $IMAGE present"; exit 0; fi
MIRROR="${DEBIAN_MIRROR:-$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | grep debian | head -n1)}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
CACHE="${IMAGESPEC_BASE_CACHE:-/var/cache/imagespec}"
mkdir -p "$CACHE"
TAR="$CACHE/python-base-bookworm.tar"
if [ ! -s "$TAR" ]; then
  echo "building base rootfs from $MIRROR (about 40 s)"
  mmdebstrap --quiet --format=tar --variant=apt --include=python3,python3-pip,python3-venv,python3-poetry,ca-certificates \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    bookworm "$TAR.partial" "$MIRROR"
  mv "$TAR.partial" "$TAR"
fi
"$DOCKER" import --change 'CMD ["python3"]' --change 'ENV LANG=C.UTF-8' "$TAR" "$IMAGE" >/dev/null
echo "base image $IMAGE imported"
