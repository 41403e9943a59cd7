#!/usr/bin/env bash
# Build the local control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, helm) from the Go modules pinned in test/cluster/go.mod
# and test/cluster/helm/go.mod, into a cache outside the clone:
#
#   ${MODELGATE_CACHE:-$HOME/.cache/modelgate}/k8s/<k8s version>-<hash>/bin
#
# <hash> covers both go.mod/go.sum pairs, the Go version and every build flag, so
# a change to any of them builds into a new directory and a fresh clone with the
# same pins reuses the old one. .cache/k8s/bin in the repo is a symlink to it.
#
# Usage: scripts/cluster/build.sh [--force]     (prints the bin directory last)
# Environment: MODELGATE_CACHE (default ~/.cache/modelgate: Go caches and binaries),
#              MODELGATE_K8S_CACHE (binaries only), MODELGATE_NO_LINK=1 (leave .cache/k8s alone).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
mod_dir="$repo/test/cluster"
helm_dir="$repo/test/cluster/helm"
cache_root="${MODELGATE_CACHE:-$HOME/.cache/modelgate}"
bin_root="${MODELGATE_K8S_CACHE:-$cache_root/k8s}"   # where <version>-<hash>/bin directories go
force=0
[[ "${1:-}" == "--force" ]] && force=1

log() { printf '[cluster:build %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# shellcheck source=scripts/cluster/go-env.sh
source "$repo/scripts/cluster/go-env.sh"

# Versions come from the pinned go.mod files, never from the environment.
# shellcheck source=scripts/cluster/k8s-flags.sh
source "$repo/scripts/cluster/k8s-flags.sh"
etcd_version="$(awk '$1 == "go.etcd.io/etcd/server/v3" && $2 ~ /^v/ { print $2; exit }' "$mod_dir/go.mod")"
helm_version="$(awk '$1 == "helm.sh/helm/v3" && $2 ~ /^v/ { print $2; exit }' "$helm_dir/go.mod")"
[[ -n "$etcd_version" && -n "$helm_version" ]] || { log "cannot read etcd/helm versions from go.mod"; exit 1; }
tags="$k8s_tags"
etcd_ld="-s -w"
helm_ld="-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  helm_ld+=" -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$k8s_minor"
done

key_input="$(go env GOVERSION GOOS GOARCH)
tags=$tags
k8s_ld=$k8s_ld
etcd_ld=$etcd_ld
helm_ld=$helm_ld
$(cat "$mod_dir/go.mod" "$mod_dir/go.sum" "$helm_dir/go.mod" "$helm_dir/go.sum")"
hash="$(printf '%s' "$key_input" | sha256sum | cut -c1-12)"
out="$bin_root/$k8s_version-$hash"
bins=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl helm)

link_into_repo() {
  [[ -n "${MODELGATE_NO_LINK:-}" ]] && return 0
  mkdir -p "$repo/.cache/k8s"
  ln -sfn "$out/bin" "$repo/.cache/k8s/bin"
  printf '%s\n' "$out/bin" >"$repo/.cache/k8s/bin-path"
}

complete() {
  [[ -f "$out/.complete" ]] || return 1
  local b
  for b in "${bins[@]}"; do [[ -x "$out/bin/$b" ]] || return 1; done
}

if [[ $force -eq 0 ]] && complete; then
  log "reusing $out/bin (kubernetes $k8s_version, etcd $etcd_version, helm $helm_version)"
  link_into_repo
  printf '%s\n' "$out/bin"
  exit 0
fi

# Build into a private staging directory and rename it into place at the end, so
# an interrupted build never leaves a half-filled directory that looks reusable.
mkdir -p "$bin_root"
stage="$(mktemp -d "$bin_root/.build-$k8s_version-$hash.XXXXXX")"
chmod 755 "$stage"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin"
started=$SECONDS
log "building kubernetes $k8s_version, etcd $etcd_version, helm $helm_version (GOMAXPROCS=$GOMAXPROCS)"
log "cache: $out"
log "go caches: GOMODCACHE=$GOMODCACHE GOCACHE=$GOCACHE"

step() {
  local name="$1"; shift
  local t0=$SECONDS
  log "-> $name"
  "$@"
  log "   $name done in $((SECONDS - t0))s"
}

# Download first so the progress output separates network time from compile time.
step "download modules (test/cluster)" bash -c "cd '$mod_dir' && go mod download"
step "download modules (test/cluster/helm)" bash -c "cd '$helm_dir' && go mod download"

# One binary per go build: the apiserver alone is the peak for memory, and the
# later builds reuse the packages already in GOCACHE.
build_k8s() {
  (cd "$mod_dir" && go build -trimpath -tags "$tags" -ldflags "$k8s_ld" -o "$stage/bin/$1" "k8s.io/kubernetes/cmd/$1")
}
for b in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  step "$b" build_k8s "$b"
done
step etcd bash -c "cd '$mod_dir' && go build -trimpath -ldflags '$etcd_ld' -o '$stage/bin/etcd' go.etcd.io/etcd/server/v3"
step helm bash -c "cd '$helm_dir' && go build -trimpath -ldflags '$helm_ld' -o '$stage/bin/helm' helm.sh/helm/v3/cmd/helm"

# Record what was built and how, for humans and for `go version -m`.
{
  printf 'kubernetes %s\netcd %s\nhelm %s\n' "$k8s_version" "$etcd_version" "$helm_version"
  printf 'built %s in %ss\n\n%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$((SECONDS - started))" "$key_input"
} >"$stage/BUILDINFO"
"$stage/bin/kube-apiserver" --version >&2
"$stage/bin/etcd" --version | head -1 >&2
"$stage/bin/helm" version --short >&2
touch "$stage/.complete"

rm -rf "$out"
mv "$stage" "$out"
trap - EXIT
link_into_repo
log "built all binaries in $((SECONDS - started))s -> $out/bin"
printf '%s\n' "$out/bin"
