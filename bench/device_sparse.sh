#!/usr/bin/env bash
# The full sparse-data grid of issue 25 (bench/bench_sparse.py) on one GPU machine, resumable: each call
# runs for at most BUDGET seconds (default 540, inside the device tool's 10-minute limit), appends
# every finished run to $OUT/runs.jsonl and skips what is there, so repeated calls complete the grid.
#
# Usage (from the repository root, with the data set made beforehand on the CPU machine and carried):
#   bash bench/device_sparse.sh CACHE OUT [BUDGET]
# CACHE holds emt-seed25-20pg-max32.csv (python bench/bench_sparse.py --make-data --cache CACHE
# --per-group 20 --workers N; about 0.4 CPU s a crystal, 4,600 crystals) and its .samples store
# (sample store directory of sparse_arms.preload).
#
# The GPU machine has 16 cores: the grid is split over 14 shard processes, each one torch thread,
# each its own runs.jsonl (OUT/shard-I); a training step of these small models is too small for the GPU
# to pay (launch latency dominates), so the CPU cores carry it. Collect with
#   python bench/bench_sparse.py --collect OUT/shard-* --cache CACHE --per-group 20
# Exit status: 0 when the budget ran out or the grid finished (rerun to continue), 2 bad arguments.
set -u
CACHE=${1:?usage: bash bench/device_sparse.sh CACHE OUT [BUDGET]}
OUT=${2:?usage: bash bench/device_sparse.sh CACHE OUT [BUDGET]}
BUDGET=${3:-540}
SHARDS=${SHARDS:-14}
STEPS=${STEPS:-250}
PYTHON=${PYTHON:-.venv/bin/python}
ARMS=cft/on,cft-p1/on,sinusoidal/on,none/on,augmented/on,cft+pair/on,gbm+distance,cft/off,cft-p1/off,sinusoidal/off,none/off,augmented/off,cft+pair/off
if [ ! -f "$CACHE/emt-seed25-20pg-max32.csv" ]; then
    echo "error: no $CACHE/emt-seed25-20pg-max32.csv; make it with bench/bench_sparse.py --make-data" >&2
    exit 2
fi
if [ -f bench/bench_hosts.py ]; then ARMS="$ARMS,schnet,schnet+layer,cgcnn,cgcnn+layer"; fi
mkdir -p "$OUT"
START=$(date +%s)
# Standardize every crystal once, before the shards share the cache (about 4 minutes on one core).
OMP_NUM_THREADS=1 timeout "$BUDGET" "$PYTHON" bench/bench_sparse.py --cache "$CACHE" --per-group 20 --out "$OUT/prepare" \
    --arms none/on --settings k1,k4,k16,zs4 --seeds 5 --prepare-only || exit 0
LEFT=$((BUDGET - ($(date +%s) - START)))
if [ "$LEFT" -lt 30 ]; then echo "prepared the samples; rerun for the runs"; exit 0; fi
pids=()
for ((i = 0; i < SHARDS; i++)); do
    OMP_NUM_THREADS=1 timeout --signal=TERM "$LEFT" "$PYTHON" bench/bench_sparse.py --cache "$CACHE" \
        --per-group 20 --out "$OUT/shard-$i" --arms "$ARMS" --settings k1,k4,k16,zs4 --seeds 5 --steps "$STEPS" \
        --shard "$i/$SHARDS" > "$OUT/shard-$i.log" 2>&1 &
    pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || true; done
done_runs=$(cat "$OUT"/shard-*/runs.jsonl 2>/dev/null | wc -l)
echo "$done_runs runs done in $OUT (rerun this script to continue)"
exit 0
