#!/usr/bin/env bash
# The CPU measurements committed under data/ (2 cores, no GPU), run one after another on a quiet machine:
#   scripts/cpu/measure.sh [step ...]    steps: bench profile-tiny profile-full train serve (default: all)
# Each step writes its results with provenance and skips what is already there (profiles resume).
set -euo pipefail
cd "$(dirname "$0")/../.."
cli() { node dist/cli.js "$@"; }
steps=${*:-bench profile-tiny profile-full train serve}
set4=(resnet50 inception_v3 vgg16 bert)   # six pairs of four models with different shapes of cost
mkdir -p data/profile data/predictor data/serve
for step in $steps; do
  case "$step" in
    bench)
      mkdir -p data/bench/cpu
      [ -s data/bench/cpu/executor-b4.json ] || cli bench executor --models resnet50 vgg16 inception_v3 bert --ep cpu --batch 4 --seq 64 \
        --reps 15 --warmup 2 --out data/bench/cpu/executor-b4.json > data/bench/cpu/executor-b4.txt ;;
    profile-tiny)   # tiny models: the paper's batch sizes and sequence lengths
      cli profile --model-num 2 --models "${set4[@]}" --scale tiny --models-dir models-tiny --samples 10 --reps 30 \
        --out data/profile/cpu-tiny-2in4 --json > data/profile/cpu-tiny-2in4.run.json ;;
    profile-full)   # full-size models: smaller batches (2 cores); 36 groups per batch tuple, 324 per pair
      cli profile --model-num 2 --models "${set4[@]}" --scale full --batch-sizes 1,2,4 --seq-lens 16,64 --samples 36 --reps 4 \
        --warmup 2 --out data/profile/cpu-full-2in4 --json > data/profile/cpu-full-2in4.run.json ;;
    train)   # feature encoding and label chosen by 5-fold CV on the training rows only; held-out reported once
      sel=(--select-encodings 1,3 --select-labels log,ms)
      for m in mlp lr svm; do
        for mode in onebyone all; do
          d=data/predictor/cpu-tiny-2in4-$m-$mode   # a profile from before per-operator FLOPs: read from the tiny manifests
          [ -s "$d/evaluation.json" ] || cli train --data data/profile/cpu-tiny-2in4 --modeling $m --mode $mode --models-dir models-tiny \
            --scale tiny "${sel[@]}" --out "$d" --json > "$d.json"
          d=data/predictor/cpu-full-2in4-$m-$mode
          [ -s "$d/evaluation.json" ] || cli train --data data/profile/cpu-full-2in4 --modeling $m --mode $mode "${sel[@]}" --out "$d" --json > "$d.json"
        done
      done ;;
    serve)   # each pair, every policy on one trace, at a load near the pair's capacity
      mkdir -p data/serve/cpu-full
      for i in 0 1 2 3; do for j in 0 1 2 3; do
        [ "$i" -lt "$j" ] || continue
        a=${set4[$i]}; b=${set4[$j]}; out=data/serve/cpu-full/${a}_${b}
        [ -s "$out/summary.json" ] && continue
        # QoS: 3 x the larger solo latency of the pair at batch 4; load: 1000 / the mean of the two solo
        # latencies at batch 4 (queries are drawn from batch 1, 2, 4, so about 60-70 % of one core set's capacity)
        read -r qos load < <(node -e '
          const b = JSON.parse(require("fs").readFileSync("data/bench/cpu/executor-b4.json", "utf8"));
          const solo = Object.fromEntries(b.results.map((r) => [r.model, r.wholeMs]));
          const [x, y] = process.argv.slice(1);
          console.log(Math.round(3 * Math.max(solo[x], solo[y])), (1000 / ((solo[x] + solo[y]) / 2)).toFixed(2));' "$a" "$b")
        cli serve --comb "$a" "$b" --policy all --qos "$qos" --load "$load" --queries 150 --batch-sizes 1,2,4 --seq-lens 16,64 \
          --abandon --predictor data/predictor/cpu-full-2in4-mlp-all --out "$out" --json > "$out.json"
      done; done ;;
    *) echo "measure.sh: unknown step $step" >&2; exit 2 ;;
  esac
done
