#!/bin/sh
# Make the base image `debian:bookworm-slim` from Debian's own packages when no registry can be
# reached: debootstrap a minimal bookworm and import it under the name a registry would give it,
# so the Containerfile's FROM line is the same everywhere. Does nothing when the image exists.
# Usage (root): deploy/base-image.sh [IMAGE]   (podman and debootstrap installed)
set -eu
image="${1:-docker.io/library/debian:bookworm-slim}"
if podman image exists "$image"; then
    exit 0
fi
# The machine's own Debian mirror (deb822 or one-line sources), else the public one.
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
if [ -z "$mirror" ]; then
    mirror=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
fi
mirror="${mirror:-http://deb.debian.org/debian}"
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >/dev/null
# What the slim image leaves out too: apt's package lists and the docs.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*
tar -C "$rootfs" -c . | podman import --message "debootstrap --variant=minbase bookworm" - "$image" >/dev/null
echo "made $image from $mirror"
