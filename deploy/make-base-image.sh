#!/usr/bin/env bash
# Make a Debian 12 base image with Python 3.11 on a host that reaches an apt mirror but no image registry (as the
# test machines here): debootstrap a minimal system, then `docker import` it. Then build the agent on it:
#   deploy/make-base-image.sh && docker build --network host --build-arg BASE=logpipe-base:bookworm -t logpipe .
# Usage: deploy/make-base-image.sh [TAG] (default logpipe-base:bookworm; kept when it exists). Needs root,
# debootstrap (apt-get install debootstrap) and a Docker daemon. MIRROR overrides the Debian mirror.
set -euo pipefail
tag=${1:-logpipe-base:bookworm}
mirror=${MIRROR:-http://deb.debian.org/debian}
if docker image inspect "$tag" > /dev/null 2>&1; then
    echo "$tag exists"
    exit 0
fi
root=$(mktemp -d /var/tmp/logpipe-base.XXXXXX)
chmod 0755 "$root"  # the image's / (mktemp made it 0700: no user but root could reach anything)
trap 'rm -rf "$root"' EXIT
# minbase: essential packages and apt only; python3-venv for the agent's venv, ca-certificates for TLS to receivers
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$root" "$mirror" > "$root.log"
printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb http://deb.debian.org/debian-security bookworm-security main\n' \
    "$mirror" "$mirror" > "$root/etc/apt/sources.list"
# the host's own CAs (a TLS-inspecting proxy it trusts, say): builds on this base reach PyPI as the host does
if compgen -G "/usr/local/share/ca-certificates/*.crt" > /dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
    chroot "$root" update-ca-certificates > /dev/null
fi
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb "$root.log"
tar --numeric-owner -C "$root" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8' \
    --change 'CMD ["/bin/bash"]' - "$tag" > /dev/null
echo "$tag made from $mirror"
