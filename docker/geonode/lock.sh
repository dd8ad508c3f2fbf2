#!/bin/sh
# Regenerate releases/<release>/requirements.lock from its requirements.in inside the image's
# own toolchain stage, so the resolver sees the same Python (3.11) and Debian GDAL the image
# builds against. The GDAL bindings are overridden to Debian's libgdal version (GeoNode pins a
# newer one).
# Usage: docker/geonode/lock.sh <release>   (5.1 or 5.0; needs a Docker engine with debian:bookworm-slim)
# Behind a TLS-intercepting proxy, EXTRA_CA_CERTS_FILE names a PEM file the build should trust.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
release="${1:?usage: lock.sh <release>, such as 5.1 (one of the folders in $here/releases)}"
test -f "$here/releases/$release/requirements.in" || { echo "no $here/releases/$release/requirements.in" >&2; exit 1; }
extra_ca="$(cat "${EXTRA_CA_CERTS_FILE:-/dev/null}")"
docker build --target toolchain --build-arg EXTRA_CA_CERTS="$extra_ca" \
  -t geostack/geonode-toolchain:lock "$here"
docker run --rm -v "$here/releases/$release:/ctx" -w /ctx -e RELEASE="$release" geostack/geonode-toolchain:lock sh -c '
  echo "GDAL==$(gdal-config --version)" > /tmp/overrides.txt
  uv pip compile -q --python /usr/bin/python3.11 --override /tmp/overrides.txt \
    --generate-hashes --annotation-style line --custom-compile-command "docker/geonode/lock.sh $RELEASE" \
    -o requirements.lock requirements.in
  chown "$(stat -c %u:%g requirements.in)" requirements.lock'
