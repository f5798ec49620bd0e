#!/usr/bin/env bash
# The container tools and a base image for the container test (tests/container.rs), made
# without a registry: podman and runc from Debian's packages, and a Debian bookworm
# (`debootstrap --variant=minbase`, from the machine's configured Debian mirror) imported
# as a local image. Prints the export to eval:
#
#   eval "$(bash scripts/container-base.sh)"   # sets RECORDS_CONTAINER_BASE
#
# Needs root (debootstrap). Does nothing that is already done: the packages, the image.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
IMAGE="${RECORDS_CONTAINER_BASE:-localhost/retort-bookworm-minbase:latest}"
ROOT="${RETORT_CONTAINER_ROOT:-/tmp/retort-container-base}"

want=()
command -v podman >/dev/null 2>&1 || want+=(podman)
command -v runc >/dev/null 2>&1 || want+=(runc)
command -v debootstrap >/dev/null 2>&1 || want+=(debootstrap)
if [ "${#want[@]}" -gt 0 ]; then
    apt-get update -q >/dev/null
    apt-get install -y -q "${want[@]}" >/dev/null
fi

# podman's defaults fail on these machines: rlimits it may not raise, hybrid cgroups.
mkdir -p "$ROOT"
cat > "$ROOT/containers.conf" <<'CONF'
[containers]
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
CONF
export CONTAINERS_CONF="$ROOT/containers.conf"

if ! podman image exists "$IMAGE"; then
    # The machine's own Debian mirror, as apt knows it.
    mirror="$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)"
    mirror="${mirror:-http://deb.debian.org/debian}"
    rm -rf "$ROOT/rootfs"
    debootstrap --variant=minbase bookworm "$ROOT/rootfs" "$mirror" >"$ROOT/debootstrap.log" 2>&1 \
        || { tail -n 20 "$ROOT/debootstrap.log" >&2; exit 1; }
    tar -C "$ROOT/rootfs" -c . | podman import - "$IMAGE" >"$ROOT/import.log" 2>&1
    rm -rf "$ROOT/rootfs"
fi
echo "export RECORDS_CONTAINER_BASE=$IMAGE"
echo "export CONTAINERS_CONF=$CONTAINERS_CONF"
