# Sourced by scripts/cluster/build.sh and scripts/cluster/node/build.sh (after go-env.sh): the pinned
# Kubernetes version and the flags every Kubernetes binary is built with, so the control plane, the kubelet
# and kube-proxy come from one module with one set of flags.
#   in:  mod_dir (test/cluster)     out: k8s_version, k8s_minor, k8s_tags, k8s_ld
k8s_version="$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ { print $2; exit }' "$mod_dir/go.mod")"
[[ "$k8s_version" =~ ^v1\.([0-9]+)\.[0-9]+$ ]] || { log "cannot read k8s.io/kubernetes version from $mod_dir/go.mod"; exit 1; }
k8s_minor="${BASH_REMATCH[1]}"
k8s_tags="selinux,notest,grpcnotrace"
# Version ldflags: without them /version reports v0.0.0-master+$Format:%H$, and helm
# fills .Capabilities.KubeVersion from /version. buildDate is left at its default so
# the flags (and so the cache key) are deterministic.
k8s_ld="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ld+=" -X $p.gitVersion=$k8s_version -X $p.gitMajor=1 -X $p.gitMinor=$k8s_minor -X $p.gitTreeState=clean"
done
