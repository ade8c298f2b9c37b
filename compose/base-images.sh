#!/usr/bin/env bash
# Offline stand-ins for the two base images the compose file names, built from Debian
# packages, for machines that cannot pull from Docker Hub (CI here):
#
#   compose/base-images.sh            # prints KD_PYTHON_IMAGE=... KD_REDIS_IMAGE=...
#   eval "$(compose/base-images.sh)"; docker-compose build
#
# One minbase bookworm root filesystem with python3, python3-venv and redis-server is
# imported once and tagged under both names; a second run finds the tags and is instant.
# The Debian mirror is the one apt uses on this host (read from /etc/apt/sources.list*),
# or KD_DEBIAN_MIRROR. Needs root, debootstrap and a Docker engine (DOCKER_HOST).
set -euo pipefail

PYTHON_IMAGE="${KD_BASE_PYTHON_IMAGE:-kombu-dash-base/python:bookworm}"
REDIS_IMAGE="${KD_BASE_REDIS_IMAGE:-kombu-dash-base/redis:bookworm}"
SUITE=bookworm
PACKAGES=python3,python3-venv,redis-server

say() { printf 'base-images: %s\n' "$*" >&2; }

have() { docker image inspect "$1" >/dev/null 2>&1; }

mirror() {
  if [[ -n "${KD_DEBIAN_MIRROR:-}" ]]; then echo "$KD_DEBIAN_MIRROR"; return; fi
  local f url
  # deb822 (.sources): the URIs of a stanza whose Suites name the suite itself
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r "$f" ]] || continue
    url=$(awk -v suite="$SUITE" '
      /^URIs:/ { uris = $2 } /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) hit = 1 }
      /^[[:space:]]*$/ { if (hit && uris) { print uris; done = 1; exit } uris = ""; hit = 0 }
      END { if (!done && hit && uris) print uris }' "$f")
    [[ -n "$url" ]] && { echo "$url"; return; }
  done
  # one-line format: deb [options] URL SUITE components
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r "$f" ]] || continue
    url=$(sed -E 's/\[[^]]*\]//' "$f" | awk -v suite="$SUITE" '$1 == "deb" && $3 == suite { print $2; exit }')
    [[ -n "$url" ]] && { echo "$url"; return; }
  done
  say "no Debian mirror for $SUITE in /etc/apt/sources.list*; set KD_DEBIAN_MIRROR"
  return 1
}

if have "$PYTHON_IMAGE" && have "$REDIS_IMAGE"; then
  say "cached: $PYTHON_IMAGE $REDIS_IMAGE"
else
  command -v debootstrap >/dev/null || { say "debootstrap is missing (apt-get install debootstrap)"; exit 1; }
  url=$(mirror)
  rootfs=$(mktemp -d /var/tmp/kombu-dash-rootfs.XXXXXX)
  trap 'rm -rf --one-file-system "$rootfs"' EXIT
  say "debootstrap --variant=minbase $SUITE from the host's apt mirror (a few minutes)"
  debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$rootfs" "$url" >&2
  # A smaller image: apt lists and caches are not needed at run time.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
  say "docker import $PYTHON_IMAGE"
  tar -C "$rootfs" -c . | docker import \
    -c 'ENV LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'CMD ["python3"]' - "$PYTHON_IMAGE" >&2
  docker tag "$PYTHON_IMAGE" "$REDIS_IMAGE"
fi
echo "KD_PYTHON_IMAGE=$PYTHON_IMAGE"
echo "KD_REDIS_IMAGE=$REDIS_IMAGE"
