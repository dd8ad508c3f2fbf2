#!/bin/sh
# Regenerate requirements.lock from requirements.in inside the image's own toolchain stage,
# so the resolver sees the same Python (3.11) and Debian GDAL the image builds against.
# The GDAL bindings are overridden to Debian's libgdal version (GeoNode pins a newer one).
# Usage: docker/geonode/lock.sh   (needs a Docker engine with debian:bookworm-slim)
# Behind a TLS-intercepting proxy, EXTRA_CA_CERTS_FILE names a PEM file the build should trust.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
extra_ca="$(cat "${EXTRA_CA_CERTS_FILE:-/dev/null}")"
docker build --target toolchain --build-arg EXTRA_CA_CERTS="$extra_ca" \
  -t geostack/geonode-toolchain:lock "$here"
docker run --rm -v "$here:/ctx" -w /ctx geostack/geonode-toolchain:lock sh -c '
  echo "GDAL==$(gdal-config --version)" > /tmp/overrides.txt
  uv pip compile -q --python /usr/bin/python3.11 --override /tmp/overrides.txt \
    --generate-hashes --annotation-style line --custom-compile-command docker/geonode/lock.sh \
    -o requirements.lock requirements.in
  chown "$(stat -c %u:%g requirements.in)" requirements.lock'
