#!/usr/bin/env bash
# One-time set-up after `npm ci`: everything the slow suites, the demo and the benchmarks need, cached under
# ~/.cache/modelgate (keyed by version) so a fresh clone reuses it.
#   - etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, helm built from Go modules
#   - a virtualenv with the OpenSSF model-signing tool (interop tests, hashing benchmark)
#   - a virtualenv with picklescan and modelscan (scanner comparison, scan benchmark)
set -euo pipefail
cd "$(dirname "$0")/.."
echo "::: building the local Kubernetes control plane (cached; the first build takes several minutes)"
bash scripts/cluster/build.sh
echo "::: Python tools"
bash scripts/venv-model-signing.sh >/dev/null
bash scripts/venv-scanners.sh >/dev/null
echo "::: set-up done"
