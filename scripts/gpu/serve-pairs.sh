#!/usr/bin/env bash
# Serving on the GPU machine: each pair of {resnet101, resnet152, vgg19, bert} with every policy on one
# seeded trace. QoS rule: the paper's QoS for the pair divided by the larger of the two models' A100 solo
# latencies at batch 32 (abacus-original.md §1.5 and §7), times the larger of our measured solo latencies
# at batch 32 (bench/executor-b32.json). Usage (from the unpacked app, models built):
#   scripts/gpu/serve-pairs.sh <models-dir> <bench-b32.json> <predictor-dir> <out-dir> [load] [queries]
set -euo pipefail
models=$1; bench=$2; predictor=$3; out=$4; load=${5:-50}; queries=${6:-500}
mkdir -p "$out"
node -e '
const b = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const ours = Object.fromEntries(b.results.map((r) => [r.model, r.wholeMs]));
const a100 = { resnet101: 19.81, resnet152: 26.44, vgg19: 27.38, bert: 11.0 };
const paperQos = { "resnet101_resnet152": 160, "resnet101_vgg19": 80, "resnet101_bert": 130, "resnet152_vgg19": 150, "resnet152_bert": 150, "vgg19_bert": 60 };
for (const [pair, q] of Object.entries(paperQos)) {
  const [x, y] = pair.split("_");
  const ratio = q / Math.max(a100[x], a100[y]);
  console.log(`${x} ${y} ${Math.round(ratio * Math.max(ours[x], ours[y]))}`);
}' "$bench" > "$out.qos.txt"
mkdir -p "$out"
while read -r a b qos; do
  node dist/cli.js serve --comb "$a" "$b" --ep webgpu --policy all --qos "$qos" --load "$load" --queries "$queries" \
    --abandon --predictor "$predictor" --models-dir "$models" --out "$out/${a}_${b}" --json > "$out/${a}_${b}.json"
  echo "$a+$b qos $qos done"
done < "$out.qos.txt"
cp "$out.qos.txt" "$out/qos.txt"
