FROM python:3.11-slim

WORKDIR /
USER root
RUN apt-get update && apt-get install -y --no-install-recommends     git

RUN id -u flytekit || useradd --create-home --shell /bin/bash flytekit
RUN chown -R flytekit /root && chown -R flytekit /home



# Configure user space
ENV PATH="/root/.venv/bin:$PATH"     UV_PYTHON=/root/.venv/bin/python     UV_COMPILE_BYTECODE=1     UV_LINK_MODE=copy     FLYTE_SDK_RICH_TRACEBACKS=0     SSL_CERT_DIR=/etc/ssl/certs     PYTHONPATH=/root

WORKDIR /root
RUN --mount=type=bind,target=requirements_pip.txt,src=requirements_pip.txt     --mount=type=secret,id=secret_0,target=/root/.netrc     python3 -m venv --system-site-packages /root/.venv &&     /root/.venv/bin/python -m pip install --requirement requirements_pip.txt &&     chown -R flytekit /root/.venv
WORKDIR /


# Adds nvidia just in case it exists
ENV PATH="$PATH:/usr/local/nvidia/bin:/usr/local/cuda/bin"     LD_LIBRARY_PATH="/usr/local/nvidia/lib64:$LD_LIBRARY_PATH"







RUN echo ok

WORKDIR /root
SHELL ["/bin/bash", "-c"]

USER flytekit
RUN mkdir -p $HOME &&     echo "export PATH=$PATH" >> $HOME/.profile

# NOTE: Important to set this env var all the way at the bottom
# Otherwise the slightest change to an imagespec's ID would unnecessarily invalidate
# too many layers in the build cache.
ENV _F_IMG_ID=oH1epgXbRPpwbAUnkNCNpw
