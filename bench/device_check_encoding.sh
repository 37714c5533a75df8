#!/usr/bin/env bash
# SpaceGroupEncoding on a CUDA device (issue 25), for the lead to run when a GPU is lent; under 10 minutes.
# Needs a Python with a CUDA torch and this package importable (PYTHON=..., default python3; the repository
# is put on PYTHONPATH through an editable install or `pip install -e .` beforehand).
# Prints: invariance error over all 230 groups on CUDA (float64, float32), float64 CUDA-vs-CPU difference,
# eager forward+backward ms per step, torch.compile (inductor) on CUDA. JSON copies go to $OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
OUT=${OUT:-device-output}
mkdir -p "$OUT"
"$PYTHON" -c 'import torch; assert torch.cuda.is_available(), "no CUDA device"; print(torch.__version__, torch.cuda.get_device_name())'
# 1. invariance on all 230 groups, CPU agreement, speed (about 1-2 min); compile under its own time limit
timeout 240 "$PYTHON" bench/bench_space_group_encoding.py --device cuda --no-compile --json "$OUT/encoding_cuda.json"
timeout 300 "$PYTHON" bench/bench_space_group_encoding.py --device cuda --groups 225 --points 4 \
    --json "$OUT/encoding_cuda_compile.json" || echo "torch.compile on CUDA did not finish in 300 s (see above)"
