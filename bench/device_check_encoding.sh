#!/usr/bin/env bash
# SpaceGroupEncoding on a CUDA device (issue 25), for the lead to run when a GPU is lent; under 10 minutes.
# Needs a Python with a CUDA torch and this package importable (PYTHON=..., default python3; the repository
# is put on PYTHONPATH through an editable install or `pip install -e .` beforehand).
# Prints: invariance error over all 230 groups on CUDA (float64, float32), float64 CUDA-vs-CPU difference,
# eager forward+backward ms per step, torch.compile (inductor) on CUDA. JSON copies go to $OUT.
# SMOKE=1: the same two steps on the CPU in seconds (groups 225-227, 2 points, 2 steps, torch.compile with the
# aot_eager backend), to know the script works before a GPU is lent. Exit status: non-zero when a step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
OUT=${OUT:-device-output}
mkdir -p "$OUT"
if [ "${SMOKE:-0}" = 1 ]; then
    DEVICE=cpu GROUPS_ALL=(--groups 225-227 --points 2 --steps 2) GROUPS_COMPILE=(--groups 225 --points 2 --steps 2)
    BACKEND=aot_eager
else
    "$PYTHON" -c 'import torch; assert torch.cuda.is_available(), "no CUDA device"; print(torch.__version__, torch.cuda.get_device_name())'
    DEVICE=cuda GROUPS_ALL=() GROUPS_COMPILE=(--groups 225 --points 4) BACKEND=inductor
fi
# 1. invariance on all 230 groups, CPU agreement, speed (about 1-2 min); compile under its own time limit
timeout 240 "$PYTHON" bench/bench_space_group_encoding.py --device "$DEVICE" --no-compile "${GROUPS_ALL[@]}" \
    --json "$OUT/encoding_$DEVICE.json"
timeout 300 "$PYTHON" bench/bench_space_group_encoding.py --device "$DEVICE" "${GROUPS_COMPILE[@]}" \
    --compile-backend "$BACKEND" --json "$OUT/encoding_${DEVICE}_compile.json" \
    || echo "torch.compile on $DEVICE did not finish in 300 s (see above)"
