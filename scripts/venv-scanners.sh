#!/usr/bin/env bash
# Create (or reuse) a virtualenv holding the peer scanners that scripts/compare-scanners.ts and
# bench/scan.ts run next to modelgate. Versions are pinned so comparison figures are reproducible;
# the venv directory name carries the versions, so bumping a pin builds a fresh venv.
# Prints the venv path on stdout (last line).
set -euo pipefail

PICKLESCAN_VERSION="${PICKLESCAN_VERSION:-1.0.5}"
MODELSCAN_VERSION="${MODELSCAN_VERSION:-0.8.8}"
PYTHON="${PYTHON:-python3}"

venv="${HOME}/.cache/modelgate/venv/scanners-picklescan${PICKLESCAN_VERSION}-modelscan${MODELSCAN_VERSION}"

if [[ -x "${venv}/bin/picklescan" && -x "${venv}/bin/modelscan" && -f "${venv}/.complete" ]]; then
  echo "${venv}"
  exit 0
fi

echo "creating ${venv}" >&2
rm -rf "${venv}"
mkdir -p "$(dirname "${venv}")"
"${PYTHON}" -m venv "${venv}"
"${venv}/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
"${venv}/bin/python" -m pip install --quiet --disable-pip-version-check \
  "picklescan==${PICKLESCAN_VERSION}" "modelscan==${MODELSCAN_VERSION}" >&2
touch "${venv}/.complete"
echo "${venv}"
