#!/usr/bin/env bash
# Build cert-manager for the e2e suite from the Go module pinned in test/cluster/cert-manager/go.mod:
# one binary that runs cert-manager's own controllers (issuers, certificates, CA and self-signed issuing,
# approval) and its CA injector (test/cluster/cert-manager/main.go), plus cert-manager's CRDs from the
# same module, into a cache outside the clone:
#
#   ${MODELGATE_CACHE:-$HOME/.cache/modelgate}/cert-manager/<version>-<hash>/{bin/cert-manager-e2e,crds/}
#
# cert-manager's own cmd/controller and cmd/cainjector modules are not served by the Go module proxy
# here; its main module (controllers, cainjector, CRDs) is. <hash> covers go.mod, go.sum, main.go, the Go
# version and the build flags. Separate from scripts/cluster/build.sh so that a change here never
# rebuilds Kubernetes.
#
# Usage: scripts/cluster/build-cert-manager.sh [--force]     (prints the directory last)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
mod_dir="$repo/test/cluster/cert-manager"
cache_root="${MODELGATE_CACHE:-$HOME/.cache/modelgate}"
force=0
[[ "${1:-}" == "--force" ]] && force=1

log() { printf '[cert-manager:build %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# shellcheck source=scripts/cluster/go-env.sh
source "$repo/scripts/cluster/go-env.sh"

version="$(awk '$1 == "github.com/cert-manager/cert-manager" && $2 ~ /^v/ { print $2; exit }' "$mod_dir/go.mod")"
[[ -n "$version" ]] || { log "cannot read the cert-manager version from $mod_dir/go.mod"; exit 1; }
ld="-s -w"
key_input="$(go env GOVERSION GOOS GOARCH)
ld=$ld
$(cat "$mod_dir/go.mod" "$mod_dir/go.sum" "$mod_dir/main.go")"
hash="$(printf '%s' "$key_input" | sha256sum | cut -c1-12)"
out="$cache_root/cert-manager/$version-$hash"

if [[ $force -eq 0 && -f "$out/.complete" && -x "$out/bin/cert-manager-e2e" ]]; then
  log "reusing $out (cert-manager $version)"
  printf '%s\n' "$out"
  exit 0
fi

mkdir -p "$cache_root/cert-manager"
stage="$(mktemp -d "$cache_root/cert-manager/.build-$version-$hash.XXXXXX")"
chmod 755 "$stage"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/crds"
started=$SECONDS
log "building cert-manager $version (controllers and CA injector; GOMAXPROCS=$GOMAXPROCS) -> $out"
(cd "$mod_dir" && go mod download)
log "modules downloaded in $((SECONDS - started))s"
(cd "$mod_dir" && go build -trimpath -ldflags "$ld" -o "$stage/bin/cert-manager-e2e" .)
module_dir="$(cd "$mod_dir" && go list -m -f '{{.Dir}}' github.com/cert-manager/cert-manager)"
cp "$module_dir"/deploy/crds/cert-manager.io_*.yaml "$stage/crds/"
chmod 644 "$stage"/crds/*.yaml
{
  printf 'cert-manager %s\nbuilt %s in %ss\n\n%s\n' "$version" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$((SECONDS - started))" "$key_input"
} >"$stage/BUILDINFO"
touch "$stage/.complete"
rm -rf "$out"
mv "$stage" "$out"
trap - EXIT
log "built in $((SECONDS - started))s -> $out"
printf '%s\n' "$out"
