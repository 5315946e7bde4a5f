#syntax=docker/dockerfile:1.5
FROM uv:1 as uv
FROM mm:1 as micromamba

FROM debian:bookworm-slim

WORKDIR /
USER root
RUN --mount=type=cache,sharing=locked,mode=0777,target=/var/cache/apt,id=apt     apt-get update && apt-get install -y --no-install-recommends     curl 'x;y'

RUN --mount=from=micromamba,source=/etc/ssl/certs/ca-certificates.crt,target=/tmp/ca-certificates.crt     [ -f /etc/ssl/certs/ca-certificates.crt ] ||     mkdir -p /etc/ssl/certs/ && cp /tmp/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt

RUN id -u flytekit || useradd --create-home --shell /bin/bash flytekit
RUN chown -R flytekit /root && chown -R flytekit /home

RUN --mount=type=cache,sharing=locked,mode=0777,target=/opt/micromamba/pkgs,id=micromamba     micromamba create python=3.12


# Configure user space
ENV PATH="/opt/micromamba/envs/runtime/bin:$PATH"     UV_PYTHON=/opt/micromamba/envs/runtime/bin/python     UV_COMPILE_BYTECODE=1     UV_LINK_MODE=copy     FLYTE_SDK_RICH_TRACEBACKS=0     SSL_CERT_DIR=/etc/ssl/certs     PYTHONPATH=/root A="two words" B=plain

RUN --mount=type=bind,target=r.txt,src=r.txt     --mount=type=secret,id=secret_0,target=/etc/s     uv pip install -r r.txt


# Adds nvidia just in case it exists
ENV PATH="$PATH:/usr/local/nvidia/bin:/usr/local/cuda/bin"     LD_LIBRARY_PATH="/usr/local/nvidia/lib64:$LD_LIBRARY_PATH"

ENTRYPOINT ["/bin/sh", "\u00e9"]

COPY --chown=flytekit ./src /root

COPY --chown=flytekit a/b.txt /root/a/
COPY --chown=flytekit ["dir x", "/root/dir x/"]

RUN --mount=type=cache,sharing=locked,mode=0777,target=/root/.cache/uv,id=uv     --mount=from=uv,source=/uv,target=/usr/bin/uv echo hi && ls

WORKDIR /root
SHELL ["/bin/bash", "-c"]

USER flytekit
RUN mkdir -p $HOME &&     echo "export PATH=$PATH" >> $HOME/.profile

# NOTE: Important to set this env var all the way at the bottom
# Otherwise the slightest change to an imagespec's ID would unnecessarily invalidate
# too many layers in the build cache.
ENV _F_IMG_ID=abc-DEF
