#!/usr/bin/env bash
# Build the parts of the local cluster's real node into caches outside the clone, one per part, each keyed
# by its inputs so a change to one part never rebuilds another:
#
#   ${MODELGATE_CACHE:-$HOME/.cache/modelgate}/
#     kubelet/<k8s version>-<hash>/bin/{kubelet,kube-proxy}
#         from k8s.io/kubernetes in test/cluster/go.mod: the same module, tags and version ldflags as the
#         control plane (scripts/cluster/k8s-flags.sh)
#     containerd/<containerd version>-<hash>/bin/{containerd,containerd-shim-runc-v2,ctr,registry,pause}
#         from test/cluster/node/go.mod: containerd 2.x, its runc shim and ctr, the local OCI registry
#         (test/cluster/node/registry) and the sandbox image's program (test/cluster/node/pause)
#     debian/<hash>/{root,bin}
#         Debian packages unpacked with `apt-get download` + `dpkg -x`, never installed: runc, the CNI plugins
#         (bridge, host-local, loopback), iptables with its libraries (kube-proxy's rules, inside the run's
#         network namespace) and busybox-static (the shell of the test images); bin/ holds wrappers
#
# Usage: scripts/cluster/node/build.sh [--force] [kubelet|containerd|debian ...]   (default: all three)
# Prints one line per part on stdout, `kubelet=<dir>`, `containerd=<dir>`, `debian=<dir>`.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
mod_dir="$repo/test/cluster"
node_mod="$repo/test/cluster/node"
cache_root="${MODELGATE_CACHE:-$HOME/.cache/modelgate}"
force=0
wanted=()
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    kubelet | containerd | debian) wanted+=("$arg") ;;
    *) printf 'usage: %s [--force] [kubelet|containerd|debian ...]\n' "$0" >&2; exit 2 ;;
  esac
done
[[ ${#wanted[@]} -gt 0 ]] || wanted=(kubelet containerd debian)
want() { [[ " ${wanted[*]} " == *" $1 "* ]]; }

log() { printf '[node:build %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# shellcheck source=scripts/cluster/go-env.sh
source "$repo/scripts/cluster/go-env.sh"
# shellcheck source=scripts/cluster/k8s-flags.sh
source "$repo/scripts/cluster/k8s-flags.sh"

# Every part: build into a private staging directory, rename into place when complete, so an interrupted
# build never leaves a directory that looks reusable.
#   part <name> <version> <key input> <builder function> <files that must exist>...
part() {
  local name="$1" version="$2" key_input="$3" builder="$4"
  shift 4
  local hash out stage started f ok=1
  hash="$(printf '%s' "$key_input" | sha256sum | cut -c1-12)"
  out="$cache_root/$name/$version-$hash"
  if [[ $force -eq 0 && -f "$out/.complete" ]]; then
    for f in "$@"; do [[ -e "$out/$f" ]] || ok=0; done
    if [[ $ok -eq 1 ]]; then
      log "reusing $out"
      printf '%s=%s\n' "$name" "$out"
      return 0
    fi
  fi
  mkdir -p "$cache_root/$name"
  stage="$(mktemp -d "$cache_root/$name/.build-$version-$hash.XXXXXX")"
  chmod 755 "$stage"
  # shellcheck disable=SC2064 # expand now: the trap must remove this part's staging directory
  trap "rm -rf '$stage'" EXIT
  started=$SECONDS
  log "building $name $version -> $out"
  "$builder" "$stage"
  for f in "$@"; do [[ -e "$stage/$f" ]] || { log "$name: $f missing after the build"; exit 1; }; done
  printf '%s %s\nbuilt %s in %ss\n\n%s\n' "$name" "$version" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    "$((SECONDS - started))" "$key_input" >"$stage/BUILDINFO"
  touch "$stage/.complete"
  rm -rf "$out"
  mv "$stage" "$out"
  trap - EXIT
  log "built $name in $((SECONDS - started))s"
  printf '%s=%s\n' "$name" "$out"
}

# ---------- kubelet and kube-proxy ----------
build_kubelet() {
  local stage="$1" b t0
  mkdir -p "$stage/bin"
  (cd "$mod_dir" && go mod download)
  for b in kubelet kube-proxy; do
    t0=$SECONDS
    (cd "$mod_dir" && go build -trimpath -tags "$k8s_tags" -ldflags "$k8s_ld" -o "$stage/bin/$b" "k8s.io/kubernetes/cmd/$b")
    log "   $b built in $((SECONDS - t0))s"
  done
  "$stage/bin/kubelet" --version >&2
}
kubelet_key="$(go env GOVERSION GOOS GOARCH)
tags=$k8s_tags
ld=$k8s_ld
$(cat "$mod_dir/go.mod" "$mod_dir/go.sum")"

# ---------- containerd, its shim and ctr, the registry, pause ----------
containerd_version="$(awk '$1 == "github.com/containerd/containerd/v2" && $2 ~ /^v/ { print $2; exit }' "$node_mod/go.mod")"
[[ -n "$containerd_version" ]] || { log "cannot read the containerd version from $node_mod/go.mod"; exit 1; }
# containerd's own static build tags (its Makefile's static_build), without the snapshotters this node
# does not use; the shim also drops gRPC, as upstream builds it.
containerd_tags="no_btrfs no_zfs no_devmapper osusergo netgo static_build urfave_cli_no_docs"
containerd_ld="-s -w -X github.com/containerd/containerd/v2/version.Version=$containerd_version -X github.com/containerd/containerd/v2/version.Revision=module"
build_containerd() {
  local stage="$1" t0
  mkdir -p "$stage/bin"
  (cd "$node_mod" && go mod download)
  t0=$SECONDS
  (cd "$node_mod" && go build -trimpath -tags "$containerd_tags" -ldflags "$containerd_ld" -o "$stage/bin/containerd" github.com/containerd/containerd/v2/cmd/containerd)
  log "   containerd built in $((SECONDS - t0))s"
  t0=$SECONDS
  (cd "$node_mod" && go build -trimpath -tags "$containerd_tags no_grpc" -ldflags "$containerd_ld" -o "$stage/bin/containerd-shim-runc-v2" github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2)
  (cd "$node_mod" && go build -trimpath -tags "$containerd_tags" -ldflags "$containerd_ld" -o "$stage/bin/ctr" github.com/containerd/containerd/v2/cmd/ctr)
  log "   shim and ctr built in $((SECONDS - t0))s"
  t0=$SECONDS
  (cd "$node_mod" && go build -trimpath -ldflags "-s -w" -o "$stage/bin/registry" ./registry)
  (cd "$node_mod" && go build -trimpath -ldflags "-s -w" -o "$stage/bin/pause" ./pause)
  log "   registry and pause built in $((SECONDS - t0))s"
  "$stage/bin/containerd" --version >&2
}
containerd_key="$(go env GOVERSION GOOS GOARCH)
tags=$containerd_tags
ld=$containerd_ld
$(cat "$node_mod/go.mod" "$node_mod/go.sum" "$node_mod/registry/main.go" "$node_mod/pause/main.go")"

# ---------- Debian packages ----------
debian_packages=(runc containernetworking-plugins busybox-static iptables libip4tc2 libip6tc2 libxtables12
  libnetfilter-conntrack3 libnfnetlink0 libnftnl11 libmnl0)
# The candidate versions are part of the key: a Debian point release rebuilds this part.
debian_versions() {
  LC_ALL=C apt-cache policy "${debian_packages[@]}" 2>/dev/null |
    awk '/^[^ ]/ { p = $1 } /Candidate:/ { print p, $2 }'
}
debian_list="$(debian_versions)"
if [[ "$debian_list" == *"(none)"* || $(wc -l <<<"$debian_list") -ne ${#debian_packages[@]} ]]; then
  log "apt has no candidate for some packages; running apt-get update"
  apt-get update -qq >&2
  debian_list="$(debian_versions)"
fi
build_debian() {
  local stage="$1" deb c
  mkdir -p "$stage/debs" "$stage/root" "$stage/bin"
  # The versions the key names, not whatever apt prefers by the time this line runs.
  (cd "$stage/debs" && awk '{ print $1 "=" $2 }' <<<"$debian_list" |
    xargs apt-get download -qq -o APT::Sandbox::User=root >&2)
  for deb in "$stage"/debs/*.deb; do dpkg -x "$deb" "$stage/root"; done
  rm -rf "$stage/debs"
  # Wrappers: the unpacked binaries find their libraries and iptables extensions in the cache, not in /usr.
  local lib='$root/usr/lib/x86_64-linux-gnu'
  for c in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
    printf '#!/bin/sh\nroot="$(dirname "$(readlink -f "$0")")/../root"\nLD_LIBRARY_PATH=%s XTABLES_LIBDIR=%s/xtables exec "$root/usr/sbin/xtables-nft-multi" %s "$@"\n' \
      "$lib" "$lib" "$c" >"$stage/bin/$c"
    chmod 755 "$stage/bin/$c"
  done
  # The legacy (x_tables) view, to list rules a legacy iptables may have left on the host.
  for c in iptables-legacy-save ip6tables-legacy-save; do
    printf '#!/bin/sh\nroot="$(dirname "$(readlink -f "$0")")/../root"\nLD_LIBRARY_PATH=%s XTABLES_LIBDIR=%s/xtables exec "$root/usr/sbin/xtables-legacy-multi" %s "$@"\n' \
      "$lib" "$lib" "${c/-legacy/}" >"$stage/bin/$c"
    chmod 755 "$stage/bin/$c"
  done
  ln -s ../root/usr/sbin/runc "$stage/bin/runc"
  ln -s ../root/bin/busybox "$stage/bin/busybox"
  printf '%s\n' "$debian_list" >"$stage/PACKAGES"
  "$stage/bin/runc" --version | head -1 >&2
  "$stage/bin/iptables" --version >&2
}
debian_key="arch=$(dpkg --print-architecture)
$debian_list
$(sed -n '/^build_debian()/,/^}/p' "${BASH_SOURCE[0]}")"

t_all=$SECONDS
want kubelet && part kubelet "$k8s_version" "$kubelet_key" build_kubelet bin/kubelet bin/kube-proxy
want containerd && part containerd "$containerd_version" "$containerd_key" build_containerd \
  bin/containerd bin/containerd-shim-runc-v2 bin/ctr bin/registry bin/pause
want debian && part debian "bookworm" "$debian_key" build_debian \
  bin/runc bin/iptables bin/busybox root/usr/lib/cni/bridge root/usr/lib/cni/host-local root/usr/lib/cni/loopback
log "node parts ready in $((SECONDS - t_all))s"
