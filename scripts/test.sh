#!/bin/bash
# The one test command: installs what the tests need on a fresh Debian/Ubuntu machine
# (Debian packages, a Python virtualenv with requirements-dev.txt) and runs every test.
#
#   scripts/test.sh                 # everything
#   scripts/test.sh tests/unit -q   # extra arguments go to pytest
set -euo pipefail

cd "$(dirname "$0")/.."

# Real QGIS Server and nginx for the loopback tests; a Docker engine and debootstrap
# for the Docker tests (no registry is needed: base images are bootstrapped locally).
# (ShellCheck itself is installed from PyPI.)
DEBIAN_PACKAGES=(
  qgis-server spawn-fcgi multiwatch xvfb xauth libfcgi-bin nginx-light
  docker.io debootstrap
  python3-venv
)

as_root() {
  if [[ "$(id -u)" == "0" ]]; then "$@"; else sudo "$@"; fi
}

install_debian_packages() {
  local missing=()
  local package
  for package in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  if (( ${#missing[@]} )); then
    echo "test.sh: installing Debian packages: ${missing[*]}" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

install_python_packages() {
  # The same virtualenv `pulumi up` uses (Pulumi.yaml: virtualenv: venv).
  if [[ ! -x venv/bin/python ]]; then
    python3 -m venv venv
  fi
  venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
}

install_debian_packages
install_python_packages

status=0
venv/bin/python -m pytest "$@" || status=$?
if [[ "$status" == "5" ]]; then
  echo "test.sh: pytest collected no tests; treating that as a failure" >&2
  exit 1
fi
exit "$status"
