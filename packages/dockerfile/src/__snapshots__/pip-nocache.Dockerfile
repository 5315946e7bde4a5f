FROM debian:bookworm-slim

WORKDIR /
USER root

RUN id -u flytekit || useradd --create-home --shell /bin/bash flytekit
RUN chown -R flytekit /root && chown -R flytekit /home



# Configure user space
ENV PATH="/root/.venv/bin:$PATH"     UV_PYTHON=/root/.venv/bin/python     UV_COMPILE_BYTECODE=1     UV_LINK_MODE=copy     FLYTE_SDK_RICH_TRACEBACKS=0     SSL_CERT_DIR=/etc/ssl/certs     PYTHONPATH=/root A="two words" B=plain

RUN python3 -m venv /root/.venv &&     pip install x


# Adds nvidia just in case it exists
ENV PATH="$PATH:/usr/local/nvidia/bin:/usr/local/cuda/bin"     LD_LIBRARY_PATH="/usr/local/nvidia/lib64:$LD_LIBRARY_PATH"

ENTRYPOINT ["/bin/sh", "\u00e9"]

COPY --chown=flytekit ./src /root

COPY --chown=flytekit a/b.txt /root/a/
COPY --chown=flytekit ["dir x", "/root/dir x/"]


WORKDIR /root
SHELL ["/bin/bash", "-c"]

USER flytekit
RUN mkdir -p $HOME &&     echo "export PATH=$PATH" >> $HOME/.profile

# NOTE: Important to set this env var all the way at the bottom
# Otherwise the slightest change to an imagespec's ID would unnecessarily invalidate
# too many layers in the build cache.
ENV _F_IMG_ID=abc-DEF
