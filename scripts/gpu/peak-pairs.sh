#!/usr/bin/env bash
# Peak throughput on the GPU machine: for each pair (QoS from serve-pairs.sh's qos.txt), the highest
# Poisson load at which p99 <= QoS and violations <= 1 % (bisection over runs of QUERIES queries), per
# policy. Usage: scripts/gpu/peak-pairs.sh <models-dir> <qos.txt> <predictor-dir> <out-dir> [queries] [lo,hi]
set -euo pipefail
models=$1; qos=$2; predictor=$3; out=$4; queries=${5:-200}; range=${6:-10,80}
mkdir -p "$out"
while read -r a b q; do
  f="$out/${a}_${b}.json"
  [ -s "$f" ] && continue
  node dist/cli.js serve --comb "$a" "$b" --ep webgpu --policy all --qos "$q" --queries "$queries" --abandon \
    --find-peak --peak-range "$range" --predictor "$predictor" --models-dir "$models" --json > "$f.tmp" && mv "$f.tmp" "$f"
  echo "$a+$b: $(cat "$f")"
done < "$qos"
