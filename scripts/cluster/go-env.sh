# Sourced by the build scripts in this directory (after they define `log` and `cache_root`): reproducible,
# offline-friendly Go settings. GOTOOLCHAIN=local: never download a newer toolchain through the proxy
# behind our back. The module and build caches live next to the binaries, so a cold rebuild after a pin
# bump is cheaper and the Kubernetes and cert-manager builds share them.
command -v go >/dev/null || { log "go is not on PATH; install Go 1.26.x"; exit 1; }
export GOTOOLCHAIN=local
export CGO_ENABLED=0
export GOFLAGS="-mod=readonly -buildvcs=false"
export GOMODCACHE="$cache_root/go/mod"
export GOCACHE="$cache_root/go/build"
export GOMAXPROCS="${GOMAXPROCS:-$(nproc)}"
