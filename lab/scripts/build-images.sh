#!/usr/bin/env bash
# Builds the lab images without any registry, cached by the hash of their
# recipes: golive-lab/base:<hash> (debootstrap + docker import) and
# golive-lab/node:<hash> (Dockerfile FROM the base), also tagged
# golive-lab/node:current for molecule. Prints the node image name.
set -euo pipefail
# shellcheck source=lab/scripts/lib.sh
source "$(dirname "$0")/lib.sh"

mkdir -p "$LAB_STATE"
base_hash=$(recipe_hash lab/images/base)
base_image=$LAB_IMAGE_REPO/base:$base_hash
node_hash=$(printf '%s %s' "$base_hash" "$(recipe_hash lab/images/node)" | sha256sum | cut -c1-12)
node_image=$LAB_IMAGE_REPO/node:$node_hash

if ! have_image "$base_image"; then
  command -v debootstrap >/dev/null 2>&1 \
    || die "debootstrap is missing; install it with: apt-get install -y debootstrap (or run scripts/setup.sh)"
  # shellcheck source=lab/images/base/debootstrap.conf
  source "$LAB_DIR/images/base/debootstrap.conf"
  rootfs=$(mktemp -d /tmp/golive-lab-rootfs.XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  log "building $base_image with debootstrap ($SUITE from $MIRROR, about a minute)"
  if ! debootstrap --variant="$VARIANT" --include="$INCLUDE" "$SUITE" "$rootfs" "$MIRROR" \
      >"$LAB_STATE/debootstrap.log" 2>&1; then
    tail -n 20 "$LAB_STATE/debootstrap.log" >&2
    die "debootstrap failed (full log: $LAB_STATE/debootstrap.log); check that $MIRROR is reachable"
  fi
  tar -C "$rootfs" -c . | docker import -c 'CMD ["/sbin/init"]' - "$base_image" >/dev/null
  rm -rf "$rootfs"
  trap - EXIT
fi

if ! have_image "$node_image"; then
  log "building $node_image from $base_image (apt inside, about a minute)"
  if ! docker build -q --build-arg "BASE_IMAGE=$base_image" -t "$node_image" \
      "$LAB_DIR/images/node" >"$LAB_STATE/node-build.log" 2>&1; then
    tail -n 30 "$LAB_STATE/node-build.log" >&2
    die "docker build of $node_image failed (full log: $LAB_STATE/node-build.log)"
  fi
fi
docker tag "$node_image" "$LAB_IMAGE_REPO/node:current"
printf '%s\n' "$node_image"
