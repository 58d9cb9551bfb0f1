#!/usr/bin/env bash
# Peak throughput on the GPU machine: for each pair (QoS from serve-pairs.sh's qos.txt), the highest
# Poisson load at which p99 <= QoS and violations <= 1 % (bisection over runs of QUERIES queries, the
# high end first), per policy. Each pair writes <out>/<a>_<b>.json (every probe's numbers, the settings
# and the provenance) and is skipped when that file exists, so a call cut short continues on the next;
# the probes' progress lines go to <out>/log.txt.
# Usage: scripts/gpu/peak-pairs.sh <models-dir> <qos.txt> <predictor-dir> <out-dir> [queries] [lo,hi] [resolution]
set -euo pipefail
models=$1; qos=$2; predictor=$3; out=$4; queries=${5:-120}; range=${6:-8,56}; resolution=${7:-3}
mkdir -p "$out"
while read -r a b q; do
  f="$out/${a}_${b}.json"
  [ -s "$f" ] && continue
  start=$(date +%s); echo "== $a+$b (QoS $q ms)" >> "$out/log.txt"
  node dist/cli.js serve --comb "$a" "$b" --ep webgpu --policy all --qos "$q" --queries "$queries" --abandon \
    --find-peak --peak-range "$range" --peak-resolution "$resolution" --predictor "$predictor" --models-dir "$models" \
    --json > "$f.tmp" 2>> "$out/log.txt" && mv "$f.tmp" "$f"
  echo "$a+$b ($(( $(date +%s) - start )) s): $(node -e 'const d=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(d.peaks.map((p)=>`${p.policy} ${p.peakQps ?? "none"}`).join(", "))' "$f")"
done < "$qos"
