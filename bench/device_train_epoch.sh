#!/usr/bin/env bash
# A real training epoch on a CUDA device (issue 29), for the `device` tool when a GPU is lent; under 10 minutes.
#
# What it measures, in one call on one machine (so the numbers are comparable):
#   1. an EMT data set made by the package itself (`dataset make`, SIZE crystals of all 230 groups);
#   2. the sample store made once (`dataset prepare`), its wall time;
#   3. `train --data STORE` for 1 and for 1 + EXTRA epochs, plain and under `torchrun` with RANKS ranks
#      (NCCL on CUDA, gloo on CPU: `distributed_backend`); the time of one epoch is the difference divided
#      by EXTRA, so start-up (importing torch, reading the store, building the model) does not count;
#   4. the backend each run used and the test MAE it reached, from metrics.json.
# Results: OUT/epoch.json (with the commit, the configuration and the torch version) and one line per run.
#
# Usage (repository root; a Python with torch and this package importable, CUDA torch for DEVICE=cuda):
#   bash bench/device_train_epoch.sh [OUT]
# Environment: PYTHON (default python3), DEVICE (cuda | cpu, default cuda), SIZE (crystals, default 2000),
#   RANKS (torchrun processes, default 1), EXTRA (epochs beyond the first, default 2), WORKERS (processes
#   for making and preparing the data, default 8), BATCH (batch size, default 64).
# CPU smoke run (seconds; what the test suite runs): DEVICE=cpu SIZE=40 RANKS=2 EXTRA=1 WORKERS=1 BATCH=8 \
#   SMALL=1 bash bench/device_train_epoch.sh OUT
# Exit status: 0 done; 2 bad environment (no CUDA device for DEVICE=cuda, bad numbers); other: the failing
# command's status.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
OUT=${1:-device-train}
DEVICE=${DEVICE:-cuda}
SIZE=${SIZE:-2000}
RANKS=${RANKS:-1}
EXTRA=${EXTRA:-2}
WORKERS=${WORKERS:-8}
BATCH=${BATCH:-64}
SMALL=${SMALL:-0}
for value in "$SIZE" "$RANKS" "$EXTRA" "$WORKERS" "$BATCH"; do
    if ! [[ "$value" =~ ^[1-9][0-9]*$ ]]; then echo "error: SIZE, RANKS, EXTRA, WORKERS, BATCH must be positive integers" >&2; exit 2; fi
done
if [ "$DEVICE" = cuda ]; then
    "$PYTHON" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 2)' \
        || { echo "error: DEVICE=cuda but torch sees no CUDA device (DEVICE=cpu for a CPU run)" >&2; exit 2; }
fi
mkdir -p "$OUT"
MODEL=()
if [ "$SMALL" = 1 ]; then MODEL=(--d-model 16 --heads 2 --layers 1 --d-route 8 --d-position 16); fi
now() { "$PYTHON" -c 'import time; print(f"{time.time():.3f}")'; }
elapsed() { "$PYTHON" -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$1" "$2"; }

if [ ! -f "$OUT/data.csv" ]; then
    "$PYTHON" -m crystal_fourier dataset make --groups 1-230 --size "$SIZE" --max-atoms 16 --seed 0 \
        --workers "$WORKERS" --out "$OUT/data.csv" --no-progress --allow-large
fi
start=$(now)
"$PYTHON" -m crystal_fourier dataset prepare --data "$OUT/data.csv" --target energy_per_atom \
    --out "$OUT/data.store" --workers "$WORKERS" --overwrite --no-progress
prepare_s=$(elapsed "$start" "$(now)")
echo "prepare: $prepare_s s for $SIZE crystals"

# train_run NAME EPOCHS LAUNCHER...: wall seconds of one training run, model in OUT/NAME
train_run() {
    local name=$1 epochs=$2; shift 2
    local t0; t0=$(now)
    "$@" train --data "$OUT/data.store" --target energy_per_atom --out "$OUT/$name" --overwrite \
        --epochs "$epochs" --batch-size "$BATCH" --device "$DEVICE" --seed 0 --no-progress "${MODEL[@]}" >/dev/null
    elapsed "$t0" "$(now)"
}
plain=("$PYTHON" -m crystal_fourier)
ranked=("$PYTHON" -m torch.distributed.run --standalone --nproc-per-node "$RANKS" -m crystal_fourier)
one_s=$(train_run plain-1 1 "${plain[@]}")
more_s=$(train_run plain-more $((1 + EXTRA)) "${plain[@]}")
ranked_one_s=$(train_run ranked-1 1 "${ranked[@]}")
ranked_more_s=$(train_run ranked-more $((1 + EXTRA)) "${ranked[@]}")

"$PYTHON" - "$OUT" "$DEVICE" "$SIZE" "$RANKS" "$EXTRA" "$BATCH" "$prepare_s" "$one_s" "$more_s" \
    "$ranked_one_s" "$ranked_more_s" <<'PY'
import json, subprocess, sys
from pathlib import Path

import torch
from crystal_fourier.runtime import distributed_backend

out, device = Path(sys.argv[1]), sys.argv[2]
size, ranks, extra, batch = (int(v) for v in sys.argv[3:7])
prepare_s, one_s, more_s, ranked_one_s, ranked_more_s = (float(v) for v in sys.argv[7:12])
commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip() or None
metrics = {name: json.loads((out / name / "metrics.json").read_text())["test"]["mae"]
           for name in ("plain-more", "ranked-more")}
record = {
    "commit": commit, "torch": torch.__version__, "device": device,
    "device_name": torch.cuda.get_device_name() if device == "cuda" else "cpu",
    "crystals": size, "ranks": ranks, "batch_size": batch, "backend": distributed_backend(device),
    "prepare_s": prepare_s,
    "epoch_s": (more_s - one_s) / extra, "startup_and_first_epoch_s": one_s,
    "epoch_s_ranked": (ranked_more_s - ranked_one_s) / extra, "ranked_first_epoch_s": ranked_one_s,
    "test_mae": metrics["plain-more"], "test_mae_ranked": metrics["ranked-more"],
}
(out / "epoch.json").write_text(json.dumps(record, indent=1) + "\n")
print(json.dumps(record))
PY
