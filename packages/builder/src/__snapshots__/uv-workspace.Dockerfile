#syntax=docker/dockerfile:1.5
FROM ghcr.io/astral-sh/uv:0.5.1 as uv
FROM mambaorg/micromamba:2.0.3-debian12-slim as micromamba

FROM debian:bookworm-slim

WORKDIR /
USER root

RUN --mount=from=micromamba,source=/etc/ssl/certs/ca-certificates.crt,target=/tmp/ca-certificates.crt     [ -f /etc/ssl/certs/ca-certificates.crt ] ||     mkdir -p /etc/ssl/certs/ && cp /tmp/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt

RUN id -u flytekit || useradd --create-home --shell /bin/bash flytekit
RUN chown -R flytekit /root && chown -R flytekit /home

RUN --mount=type=cache,sharing=locked,mode=0777,target=/opt/micromamba/pkgs,id=micromamba     --mount=from=micromamba,source=/usr/bin/micromamba,target=/usr/bin/micromamba     micromamba config set use_lockfiles False &&     ( micromamba create -n runtime --root-prefix /opt/micromamba     -c conda-forge      python=3.11      || micromamba install -n runtime --root-prefix /opt/micromamba     -c conda-forge      python=3.11  ) &&     chown -R flytekit /opt/micromamba


# Configure user space
ENV PATH="/opt/micromamba/envs/runtime/bin:$PATH"     UV_PYTHON=/opt/micromamba/envs/runtime/bin/python     UV_COMPILE_BYTECODE=1     UV_LINK_MODE=copy     FLYTE_SDK_RICH_TRACEBACKS=0     SSL_CERT_DIR=/etc/ssl/certs     PYTHONPATH=/root

WORKDIR /root
RUN --mount=type=cache,sharing=locked,mode=0777,target=/root/.cache/uv,id=uv     --mount=from=uv,source=/uv,target=/usr/bin/uv     --mount=type=bind,target=uv.lock,src=uv.lock     --mount=type=bind,target=pyproject.toml,src=pyproject.toml     --mount=type=bind,target=packages/member/pyproject.toml,src=.imagespec-project/packages/member/pyproject.toml          uv sync --locked --no-dev --no-install-project --no-install-workspace &&     chown -R flytekit /root/.venv
RUN --mount=type=cache,sharing=locked,mode=0777,target=/root/.cache/uv,id=uv     --mount=from=uv,source=/uv,target=/usr/bin/uv     --mount=type=bind,target=/tmp/imagespec-project,src=.imagespec-project,rw     cd /tmp/imagespec-project &&     UV_PROJECT_ENVIRONMENT=/root/.venv uv sync --locked --no-dev --no-editable --no-install-project &&     chown -R flytekit /root/.venv
WORKDIR /

# Update PATH and UV_PYTHON to point to the venv created by uv sync
ENV PATH="/root/.venv/bin:$PATH"     UV_PYTHON=/root/.venv/bin/python


# Adds nvidia just in case it exists
ENV PATH="$PATH:/usr/local/nvidia/bin:/usr/local/cuda/bin"     LD_LIBRARY_PATH="/usr/local/nvidia/lib64:$LD_LIBRARY_PATH"







RUN --mount=type=cache,sharing=locked,mode=0777,target=/root/.cache/uv,id=uv     --mount=from=uv,source=/uv,target=/usr/bin/uv 

WORKDIR /root
SHELL ["/bin/bash", "-c"]

USER flytekit
RUN mkdir -p $HOME &&     echo "export PATH=$PATH" >> $HOME/.profile

# NOTE: Important to set this env var all the way at the bottom
# Otherwise the slightest change to an imagespec's ID would unnecessarily invalidate
# too many layers in the build cache.
ENV _F_IMG_ID=HLI2Re2hSMXruWu9v9jt4A
