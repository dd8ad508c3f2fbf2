#!/bin/bash
# Installs the Pulumi toolchain this program needs, at exactly the versions its pinned Python
# SDKs ask for (toolchain/versions.env, checked against requirements.txt by the tests):
# the CLI, the Python and YAML language hosts and the kubernetes, docker and random provider plugins.
#
#   toolchain/install.sh     # installs, then prints the directory to put on PATH
#
# Where Pulumi's download site answers (a user's machine, GitHub Actions), it uses the official
# installer and `pulumi plugin install`. Otherwise (a machine that reaches only the Go module
# proxy) it builds each binary with `go build` from the published Go modules, through the small
# wrapper modules in toolchain/go/ (`go install` refuses modules whose go.mod has replace
# directives). A plugin whose module the proxy does not serve is reported and left out.
#
# Binaries are cached per version under $GEOSTACK_TOOLCHAIN_CACHE (default
# ~/.cache/geostack/toolchain), so a second run builds nothing. Plugins are registered under
# their exact versions in $PULUMI_HOME's plugin cache (default ~/.pulumi), where the engine
# looks for them.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env source-path=SCRIPTDIR
source "$here/versions.env"
cache=${GEOSTACK_TOOLCHAIN_CACHE:-$HOME/.cache/geostack/toolchain}
bin="$cache/pulumi-$PULUMI_VERSION/bin"

log() { echo "toolchain: $*" >&2; }

official_site_answers() {
  [[ "${GEOSTACK_TOOLCHAIN_FROM_SOURCE:-}" != "1" ]] &&
    curl -fsS --max-time 5 -o /dev/null https://get.pulumi.com/ 2>/dev/null
}

# Static binaries; the module and build caches live in the toolchain cache, not the checkout.
# The checksum database does not know the untagged provider commits the wrappers pin, so
# pulumi's modules are checked against the wrappers' committed go.sum files instead.
go_env() {
  export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local GONOSUMDB=github.com/pulumi
  export GOMODCACHE=${GEOSTACK_GOMODCACHE:-$cache/go/mod} GOCACHE=${GEOSTACK_GOCACHE:-$cache/go/build}
}

# Copies a wrapper module into a fresh build directory outside the checkout and prints its path.
stage_wrapper() {
  local dir="$cache/build/$1"
  rm -rf "$dir" && mkdir -p "$cache/build" && cp -r "$here/go/$1" "$dir" && chmod -R u+w "$dir"
  echo "$dir"
}

# module_dir WRAPPER MODULE[@VERSION]: downloads a module (at the wrapper's version unless one is
# given) and prints its directory in the module cache.
module_dir() {
  (cd "$1" && go mod download -json "$2") | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'
}

install_official() {
  log "installing the Pulumi CLI $PULUMI_VERSION with the official installer"
  local root="$cache/official-$PULUMI_VERSION"
  curl -fsSL https://get.pulumi.com | sh -s -- --version "$PULUMI_VERSION" --install-root "$root" --no-edit-path >&2
  mkdir -p "$bin" && cp "$root"/bin/* "$bin/"
}

build_cli() {
  log "building the Pulumi CLI v$PULUMI_VERSION from github.com/pulumi/pulumi/pkg/v3"
  local dir
  dir=$(stage_wrapper pulumi)
  (cd "$dir" && go build -trimpath -tags osusergo,grpcnotrace -o "$bin/pulumi" \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
}

# build_host WRAPPER BINARY PACKAGE VERSION_VARIABLE VERSION: a language host from its wrapper module.
build_host() {
  local dir
  log "building $2 $5 from $3"
  dir=$(stage_wrapper "$1")
  (cd "$dir" && go build -trimpath -o "$bin/$2" -ldflags "-s -w -X $4=v$5" "$3")
}

# Pulumi's language host (toolchain/go/language-python/go.mod says which build, and why).
build_language_host() {
  build_host language-python pulumi-language-python github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3 \
    github.com/pulumi/pulumi/sdk/v3/go/common/version.Version "$LANGUAGE_HOST_VERSION"
}

# Pulumi YAML's language host, for YAML programs (toolchain/go/language-yaml/go.mod).
build_language_yaml() {
  build_host language-yaml pulumi-language-yaml github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml \
    github.com/pulumi/pulumi-yaml/pkg/version.Version "$YAML_LANGUAGE_VERSION"
}

# The scripts of the CLI's sdk/v3 release that the official one ships beside the language host:
# its exec script, and the host of `pulumi.dynamic` resources (geostack's project image).
install_sdk_scripts() {
  local dir sdk
  dir=$(stage_wrapper language-python)
  sdk=$(module_dir "$dir" "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION")
  install -m 0755 "$sdk/python/cmd/pulumi-language-python-exec" "$bin/pulumi-language-python-exec"
  install -m 0755 "$sdk/python/dist/pulumi-resource-pulumi-python" "$bin/pulumi-resource-pulumi-python"
}

# build_provider NAME VERSION MODULE: a provider plugin from its provider module. Its cmd/ package
# embeds a schema that `go generate` writes, and module-cache files are read-only, so the cmd
# directory is staged into the build directory and generated there. Version ldflags are required:
# bridged providers panic on an empty version.
build_provider() {
  local name=$1 version=$2 module=$3 dir src out="$cache/plugins/$1-$2"
  log "building pulumi-resource-$name $version from $module"
  dir=$(stage_wrapper "$name")
  src=$(module_dir "$dir" "$module")
  mkdir -p "$dir/cmd" && cp -r "$src/cmd/pulumi-resource-$name" "$dir/cmd/" && chmod -R u+w "$dir/cmd"
  (cd "$dir/cmd/pulumi-resource-$name" && VERSION=$version go generate ./main.go)
  mkdir -p "$out"
  (cd "$dir" && go build -trimpath -ldflags "-s -w -X $module/pkg/version.Version=$version" \
    -o "$out/pulumi-resource-$name.tmp" "./cmd/pulumi-resource-$name")
  mv "$out/pulumi-resource-$name.tmp" "$out/pulumi-resource-$name"
}

plugin_installed() {
  [[ -x "${PULUMI_HOME:-$HOME/.pulumi}/plugins/resource-$1-v$2/pulumi-resource-$1" &&
    ! -e "${PULUMI_HOME:-$HOME/.pulumi}/plugins/resource-$1-v$2.partial" ]]
}

install_plugin() {
  local name=$1 version=$2 module=$3
  plugin_installed "$name" "$version" && return
  if [[ -n "$official" ]]; then
    "$bin/pulumi" plugin install resource "$name" "$version" >&2
    return
  fi
  if [[ ! -d "$here/go/$name" ]]; then
    log "cannot build pulumi-resource-$name $version here: the Go module proxy serves no version of $module" \
      "(see toolchain/README.md); stacks that use $name resources cannot be previewed on this machine"
    return
  fi
  [[ -x "$cache/plugins/$name-$version/pulumi-resource-$name" ]] || build_provider "$name" "$version" "$module"
  "$bin/pulumi" plugin install resource "$name" "$version" \
    --file "$cache/plugins/$name-$version/pulumi-resource-$name" >&2
}

official=
if official_site_answers; then
  official=1
elif ! command -v go >/dev/null; then
  log "get.pulumi.com does not answer and Go is missing: install Go >= 1.25 to build the toolchain"
  exit 1
fi
go_env
mkdir -p "$bin"
if [[ ! -x "$bin/pulumi" ]]; then
  if [[ -n "$official" ]]; then install_official; else build_cli; fi
fi
[[ -x "$bin/pulumi-language-python" ]] || build_language_host
[[ -x "$bin/pulumi-resource-pulumi-python" ]] || install_sdk_scripts
[[ -x "$bin/pulumi-language-yaml" ]] || build_language_yaml
export PULUMI_SKIP_UPDATE_CHECK=true
install_plugin kubernetes "$KUBERNETES_VERSION" github.com/pulumi/pulumi-kubernetes/provider/v4
install_plugin docker "$DOCKER_VERSION" github.com/pulumi/pulumi-docker/provider/v5
install_plugin random "$RANDOM_VERSION" github.com/pulumi/pulumi-random/provider/v4
echo "$bin"
