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
#
# SMOKE=1: a dry run on the CPU in about a minute, to know the script works before a GPU is lent: a stand-in
# data set (bench/sparse_smoke_data.py, written to CACHE/smoke; NOT the protocol's data, its numbers mean
# nothing), 2 shards, 1 step, 1 seed, setting k1, one arm of each kind (both hosts with the layer), and the
# collection of the tables into OUT/tables.md at the end.
set -u
CACHE=${1:?usage: bash bench/device_sparse.sh CACHE OUT [BUDGET]}
OUT=${2:?usage: bash bench/device_sparse.sh CACHE OUT [BUDGET]}
BUDGET=${3:-540}
SHARDS=${SHARDS:-14}
STEPS=${STEPS:-250}
SEEDS=5
SETTINGS=k1,k4,k16,zs4
PER_GROUP=20
PYTHON=${PYTHON:-.venv/bin/python}
ARMS=cft/on,cft-p1/on,sinusoidal/on,none/on,augmented/on,cft+pair/on,gbm+distance,cft/off,cft-p1/off,sinusoidal/off,none/off,augmented/off,cft+pair/off
if [ "${SMOKE:-0}" = 1 ]; then
    CACHE="$CACHE/smoke" SHARDS=2 STEPS=1 SEEDS=1 SETTINGS=k1 PER_GROUP=5
    ARMS=cft/on,cft-p1/off,none/off,gbm+distance
    OMP_NUM_THREADS=1 "$PYTHON" bench/sparse_smoke_data.py "$CACHE" --per-group "$PER_GROUP" || exit 2
fi
DATA="$CACHE/emt-seed25-${PER_GROUP}pg-max32.csv"
if [ ! -f "$DATA" ]; then
    echo "error: no $DATA; make it with bench/bench_sparse.py --make-data" >&2
    exit 2
fi
if [ -f bench/bench_hosts.py ]; then
    if [ "${SMOKE:-0}" = 1 ]; then ARMS="$ARMS,schnet+layer,cgcnn+layer"
    else ARMS="$ARMS,schnet,schnet+layer,cgcnn,cgcnn+layer"; fi
fi
mkdir -p "$OUT"
START=$(date +%s)
# Standardize every crystal once, before the shards share the cache (about 4 minutes on one core).
OMP_NUM_THREADS=1 timeout "$BUDGET" "$PYTHON" bench/bench_sparse.py --cache "$CACHE" --per-group "$PER_GROUP" \
    --out "$OUT/prepare" --arms none/on --settings "$SETTINGS" --seeds "$SEEDS" --prepare-only || exit 0
LEFT=$((BUDGET - ($(date +%s) - START)))
if [ "$LEFT" -lt 30 ]; then echo "prepared the samples; rerun for the runs"; exit 0; fi
pids=()
for ((i = 0; i < SHARDS; i++)); do
    OMP_NUM_THREADS=1 timeout --signal=TERM "$LEFT" "$PYTHON" bench/bench_sparse.py --cache "$CACHE" \
        --per-group "$PER_GROUP" --out "$OUT/shard-$i" --arms "$ARMS" --settings "$SETTINGS" --seeds "$SEEDS" \
        --steps "$STEPS" --shard "$i/$SHARDS" > "$OUT/shard-$i.log" 2>&1 &
    pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || true; done
done_runs=$(cat "$OUT"/shard-*/runs.jsonl 2>/dev/null | wc -l)
echo "$done_runs runs done in $OUT (rerun this script to continue)"
if [ "${SMOKE:-0}" = 1 ]; then   # the smoke also checks the collection (and fails when a shard failed)
    "$PYTHON" bench/bench_sparse.py --collect "$OUT"/shard-* --cache "$CACHE" --per-group "$PER_GROUP" \
        --markdown "$OUT/tables.md" > /dev/null || exit 1
    expected=$(( $(echo "$ARMS" | tr ',' '\n' | wc -l) * SEEDS ))
    if [ "$done_runs" -ne "$expected" ]; then
        echo "smoke: $done_runs runs, expected $expected (see $OUT/shard-*.log)" >&2
        exit 1
    fi
    echo "smoke: ok ($done_runs runs, tables in $OUT/tables.md)"
fi
exit 0
