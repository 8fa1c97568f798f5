# The logpipe agent as an image. docker build -t logpipe:latest .
# Multi-stage: the build stage has the C compiler for the compiled hot path (LOGPIPE_COMPILE=1); the final stage
# has only Python and the venv. Runs as the non-root user logpipe (uid 10001); give it the group that owns the
# host's Docker socket at run time (Compose `group_add`, `docker run --group-add $(stat -c %g /var/run/docker.sock)`):
# that GID differs between hosts, so it cannot be baked in. Friendly to a read-only root file system: it writes
# only to /var/lib/logpipe (a volume) and, with PYTHONDONTWRITEBYTECODE, nowhere else.
# BASE: any Debian-like image with Python >= 3.11 and venv (a test can pass a locally made one: --build-arg BASE=...).
ARG BASE=python:3.11-slim-bookworm

FROM ${BASE} AS build
# the C compiler, and the Python headers where the base lacks them (Debian's python3 keeps them in python3-dev)
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev $(python3 -c 'import os, sysconfig; \
        print("" if os.path.exists(sysconfig.get_path("include") + "/Python.h") else "python3-dev")') \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# the lock's versions, every file checked against its hash (requirements/agent.txt is uv.lock's agent set, exported
# by `make lock`), in a layer of their own: a code change does not download them again
# PIP_CERT: pip trusts the base's CA store (ca-certificates, plus what the base added) rather than its own bundle
COPY requirements/agent.txt requirements/agent.txt
RUN python3 -m venv /opt/logpipe \
    && PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
        /opt/logpipe/bin/pip install --no-cache-dir --require-hashes --no-deps -r requirements/agent.txt
COPY pyproject.toml setup.py README.md ./
COPY logpipe logpipe
COPY rules rules
# then logpipe itself, with nothing left to resolve
RUN PIP_CERT=/etc/ssl/certs/ca-certificates.crt LOGPIPE_COMPILE=1 \
        /opt/logpipe/bin/pip install --no-cache-dir --no-deps . \
    && /opt/logpipe/bin/logpipe rules check

# The settings come before the venv is copied in: a code change then rebuilds only that last layer (each step
# copies the whole file system on some storage drivers, such as vfs).
FROM ${BASE}
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/logpipe --shell /usr/sbin/nologin logpipe \
    && install -d -o logpipe -g logpipe -m 0750 /var/lib/logpipe /etc/logpipe
ENV PATH=/opt/logpipe/bin:$PATH \
    LOGPIPE_STATE_DIR=/var/lib/logpipe \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER logpipe
WORKDIR /var/lib/logpipe
VOLUME /var/lib/logpipe
EXPOSE 9108
# /health answers 503 when degraded (Docker lost, a sink failing): urlopen raises, the check fails
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9108/health', timeout=4)"]
ENTRYPOINT ["logpipe"]
CMD ["follow", "--metrics-address", "0.0.0.0:9108", "--no-view", "clipforge-api"]
COPY --from=build /opt/logpipe /opt/logpipe
