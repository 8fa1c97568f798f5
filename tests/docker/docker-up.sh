#!/usr/bin/env bash
# Bring up a Docker daemon for the follower's tests on a machine without one (no registry, no bridge network),
# and a tiny busybox image to run test containers from. Idempotent; used by .ci/run and the test fixture.
#   tests/docker/docker-up.sh        # prints "docker: ok" when the daemon answers and busybox:local exists
set -euo pipefail
log() { echo "[docker-up] $*" >&2; }
if ! command -v dockerd >/dev/null || ! [ -x /bin/busybox ]; then
    log "installing docker.io busybox-static"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq docker.io busybox-static >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
    log "starting dockerd (log: /tmp/logpipe-dockerd.log)"
    nohup setsid dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs \
        >/tmp/logpipe-dockerd.log 2>&1 < /dev/null &
    # the tests may stop and restart a daemon only if this script started it: they compare this pid
    echo $! > /tmp/logpipe-dockerd.pid
    for _ in $(seq 1 120); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
    docker info >/dev/null 2>&1 || { tail -20 /tmp/logpipe-dockerd.log >&2; log "dockerd did not come up"; exit 1; }
fi
if ! docker image inspect busybox:local >/dev/null 2>&1; then
    root=$(mktemp -d); chmod 755 "$root"
    mkdir -p "$root/bin" "$root/tmp"
    cp /bin/busybox "$root/bin/busybox"
    for applet in $(/bin/busybox --list); do [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"; done
    tar -C "$root" -c . | docker import - busybox:local >/dev/null
    rm -rf "$root"
    log "imported busybox:local"
fi
echo "docker: ok"
