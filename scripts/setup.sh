#!/usr/bin/env bash
# One-time set-up after `npm ci`: everything the slow suites, the demo and the benchmarks need, cached under
# ~/.cache/modelgate (keyed by version) so a fresh clone reuses it.
#   - etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, helm built from Go modules
#   - cert-manager's controllers and CA injector, built from its Go module (the chart's cert-manager mode)
#   - the real node's parts: kubelet and kube-proxy (same Kubernetes module), containerd 2.x and its shim,
#     the local OCI registry, runc, CNI plugins and iptables (Debian packages, unpacked into the cache)
#   - a virtualenv with the OpenSSF model-signing tool (interop tests, hashing benchmark)
#   - a virtualenv with picklescan, modelscan, ModelAudit and fickling (scanner comparison, scan benchmark)
#   - virtualenvs with the libraries that write the scanner corpus, and TensorFlow for its TFLite models and
#     SavedModels (interop test re-generates it)
set -euo pipefail
cd "$(dirname "$0")/.."
echo "::: building the local Kubernetes control plane (cached; the first build takes several minutes)"
bash scripts/cluster/build.sh
echo "::: building cert-manager for the chart's cert-manager mode tests (cached)"
bash scripts/cluster/build-cert-manager.sh >/dev/null
echo "::: building the real node: kubelet, kube-proxy, containerd, registry; runc, CNI, iptables from Debian (cached)"
bash scripts/cluster/node/build.sh >/dev/null
echo "::: Python tools"
bash scripts/venv-model-signing.sh >/dev/null
bash scripts/venv-scanners.sh >/dev/null
bash scripts/scan-corpus/run.sh --venv-only 2>/dev/null
echo "::: set-up done"
