#!/usr/bin/env bash
# Create (or reuse) a virtualenv holding the peer scanners that scripts/compare-scanners.ts and
# bench/scan.ts run next to modelgate: picklescan, modelscan, ModelAudit and fickling. Versions are pinned
# so comparison figures are reproducible; the venv directory name carries the versions, so bumping a pin
# builds a fresh venv. ModelAudit gets the extras that need no deep-learning framework (HDF5, joblib,
# ONNX, safetensors, dill, 7z); its telemetry is switched off where it runs (PROMPTFOO_DISABLE_TELEMETRY).
# Prints the venv path on stdout (last line).
set -euo pipefail

PICKLESCAN_VERSION="${PICKLESCAN_VERSION:-1.0.5}"
MODELSCAN_VERSION="${MODELSCAN_VERSION:-0.8.8}"
MODELAUDIT_VERSION="${MODELAUDIT_VERSION:-0.2.54}"
FICKLING_VERSION="${FICKLING_VERSION:-0.1.12}"
PYTHON="${PYTHON:-python3}"

name="scanners-picklescan${PICKLESCAN_VERSION}-modelscan${MODELSCAN_VERSION}-modelaudit${MODELAUDIT_VERSION}-fickling${FICKLING_VERSION}"
venv="${HOME}/.cache/modelgate/venv/${name}"

if [[ -x "${venv}/bin/picklescan" && -x "${venv}/bin/modelscan" && -x "${venv}/bin/modelaudit" && -f "${venv}/.complete" ]]; then
  echo "${venv}"
  exit 0
fi

echo "creating ${venv}" >&2
rm -rf "${venv}"
mkdir -p "$(dirname "${venv}")"
"${PYTHON}" -m venv "${venv}"
"${venv}/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
# Two resolver runs: modelscan pins an older numpy than ModelAudit accepts, so each gets its own
# install and pip keeps the newer numpy (modelscan's numpy checks are reported as its errors).
"${venv}/bin/python" -m pip install --quiet --disable-pip-version-check \
  "picklescan==${PICKLESCAN_VERSION}" "modelscan==${MODELSCAN_VERSION}" >&2
"${venv}/bin/python" -m pip install --quiet --disable-pip-version-check \
  "modelaudit[h5,joblib,onnx,safetensors,dill,sevenzip]==${MODELAUDIT_VERSION}" "fickling==${FICKLING_VERSION}" >&2
touch "${venv}/.complete"
echo "${venv}"
