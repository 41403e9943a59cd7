#!/usr/bin/env bash
# Creates (or reuses) a virtualenv holding a pinned OpenSSF `model-signing` from PyPI, for the interop
# tests and the hashing benchmark. Prints the venv's bin directory as its last stdout line.
#   MODEL_SIGNING_VERSION  pin to override (default below)
#   MODELGATE_CACHE        cache root (default $HOME/.cache/modelgate)
set -euo pipefail
version="${MODEL_SIGNING_VERSION:-1.1.1}"
cache="${MODELGATE_CACHE:-$HOME/.cache/modelgate}"
venv="$cache/venv/model-signing-$version"
python="${PYTHON:-python3}"

# The marker is written last, so an interrupted install is never reused.
if [[ -f "$venv/.modelgate-complete" && -x "$venv/bin/model_signing" ]]; then
  echo "$venv/bin"
  exit 0
fi

rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
"$python" -m venv "$venv" >&2
# model-signing 1.1.x imports OpenSSL (pyOpenSSL) for the certificate method without declaring it
# (sigstore>=4 no longer pulls it in), so it is installed explicitly.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "model-signing==$version" pyopenssl >&2
"$venv/bin/model_signing" --help >/dev/null
touch "$venv/.modelgate-complete"
echo "$venv/bin"
