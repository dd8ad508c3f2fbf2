#!/bin/bash
# Builds the binaries of the staging tests' single-node Kubernetes (tests/cluster/) from the Go
# module proxy, at the versions in versions.env, and prints the directory they are in:
#
#   toolchain/install-cluster.sh    # kube-apiserver, kube-controller-manager, kube-scheduler,
#                                   # kubelet, kube-proxy, kubectl, coredns, metrics-server
#                                   # and kube-router
#
# etcd, containerd, runc, the CNI plugins and the registry come from Debian (scripts/test.sh).
# Like install.sh, it builds through a wrapper module (toolchain/go/kubernetes-cluster) and
# caches the binaries per version under $GEOSTACK_TOOLCHAIN_CACHE, so a second run builds nothing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env source-path=SCRIPTDIR
source "$here/versions.env"
cache=${GEOSTACK_TOOLCHAIN_CACHE:-$HOME/.cache/geostack/toolchain}
bin="$cache/kubernetes-$CLUSTER_KUBERNETES_VERSION/bin"
components=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)

log() { echo "toolchain: $*" >&2; }

export CGO_ENABLED=0 GOTOOLCHAIN=local
export GOMODCACHE=${GEOSTACK_GOMODCACHE:-$cache/go/mod} GOCACHE=${GEOSTACK_GOCACHE:-$cache/go/build}

build_kubernetes() {
  local dir="$cache/build/kubernetes-cluster" version=k8s.io/component-base/version packages=() name
  log "building Kubernetes v$CLUSTER_KUBERNETES_VERSION (${components[*]}) from k8s.io/kubernetes"
  rm -rf "$dir" && mkdir -p "$cache/build" && cp -r "$here/go/kubernetes-cluster" "$dir" && chmod -R u+w "$dir"
  for name in "${components[@]}"; do packages+=("k8s.io/kubernetes/cmd/$name"); done
  # What `kubectl version` and the API server's /version report, as a release build sets them.
  (cd "$dir" && GOFLAGS=-mod=mod go build -trimpath -o "$bin/" -ldflags "-s -w \
    -X $version.gitVersion=v$CLUSTER_KUBERNETES_VERSION -X $version.gitMajor=${CLUSTER_KUBERNETES_VERSION%%.*} \
    -X $version.gitMinor=$(cut -d. -f2 <<<"$CLUSTER_KUBERNETES_VERSION") -X $version.gitTreeState=clean" \
    "${packages[@]}")
}

build_coredns() {
  log "building CoreDNS v$COREDNS_VERSION from github.com/coredns/coredns"
  GOBIN="$bin" go install -trimpath -ldflags "-s -w" "github.com/coredns/coredns@v$COREDNS_VERSION"
}

# Whether $bin has $1 at version $2: the version is kept beside it, so a new pin rebuilds.
installed() {
  [[ -x "$bin/$1" && "$(cat "$bin/.$1.version" 2>/dev/null)" == "$2" ]]
}

# Builds the command at package $2 of a module tagged v$3 into $bin as $1.
build_tool() {
  log "building $1 v$3 from $2"
  GOBIN="$bin" go install -trimpath -ldflags "-s -w" "$2@v$3"
  echo "$3" >"$bin/.$1.version"
}

if ! command -v go >/dev/null; then
  log "Go is missing: install Go >= 1.24 to build the test cluster"
  exit 1
fi
mkdir -p "$bin"
for name in "${components[@]}"; do
  [[ -x "$bin/$name" ]] || { build_kubernetes; break; }
done
[[ -x "$bin/coredns" ]] || build_coredns
installed "metrics-server" "$METRICS_SERVER_VERSION" ||
  build_tool metrics-server "sigs.k8s.io/metrics-server/cmd/metrics-server" "$METRICS_SERVER_VERSION"
installed "kube-router" "$KUBE_ROUTER_VERSION" ||
  build_tool kube-router "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router" "$KUBE_ROUTER_VERSION"
echo "$bin"
