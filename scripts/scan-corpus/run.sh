#!/usr/bin/env bash
# Write the scanner corpus into OUT_DIR with the real libraries, in a virtualenv (and a TensorFlow one, requirements-tf.txt) cached under
# ~/.cache/modelgate/venv keyed by the hash of requirements.txt (created on first use, a few minutes).
#   bash scripts/scan-corpus/run.sh test/fixtures/model-scanning/corpus
#   bash scripts/scan-corpus/run.sh --venv-only     (only create the virtualenv; for npm run setup)
# Prints the venv path on stderr; the generator's summary on stdout. Nothing is loaded or executed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?usage: run.sh OUT_DIR}"
PYTHON="${PYTHON:-python3}"
key="$(sha256sum "${here}/requirements.txt" | cut -c1-12)"
venv="${HOME}/.cache/modelgate/venv/scan-corpus-${key}"
if [[ ! -f "${venv}/.complete" ]]; then
  echo "creating ${venv}" >&2
  rm -rf "${venv}"
  mkdir -p "$(dirname "${venv}")"
  "${PYTHON}" -m venv "${venv}"
  "${venv}/bin/python" -m pip install --quiet --disable-pip-version-check -r "${here}/requirements.txt" >&2
  touch "${venv}/.complete"
fi
echo "${venv}" >&2
# TensorFlow (TFLite converter, SavedModels) needs its own virtualenv: it pins an older h5py.
tf_key="$(sha256sum "${here}/requirements-tf.txt" | cut -c1-12)"
tf_venv="${HOME}/.cache/modelgate/venv/scan-corpus-tf-${tf_key}"
if [[ ! -f "${tf_venv}/.complete" ]]; then
  echo "creating ${tf_venv}" >&2
  rm -rf "${tf_venv}"
  "${PYTHON}" -m venv "${tf_venv}"
  "${tf_venv}/bin/python" -m pip install --quiet --disable-pip-version-check -r "${here}/requirements-tf.txt" >&2
  touch "${tf_venv}/.complete"
fi
echo "${tf_venv}" >&2
if [[ "${out}" == "--venv-only" ]]; then exit 0; fi
rm -rf "${out}"
mkdir -p "${out}"
# One thread everywhere and a fixed hash seed: the bytes of fitted models must not depend on the machine's cores.
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONHASHSEED=0 KERAS_BACKEND=numpy \
  TF_PYTHON="${tf_venv}/bin/python" TF_ENABLE_ONEDNN_OPTS=0 \
  TF_CPP_MIN_LOG_LEVEL=3 "${venv}/bin/python" -W ignore "${here}/generate.py" "${out}"
