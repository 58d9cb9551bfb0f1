#!/usr/bin/env bash
# The paper's experiments in full mode (full-size models) on the CPU (2 cores), cut to what fits in a few
# hours, into data/cpu-experiments/<section>/, then one report over them. Run on a quiet machine after
# `scripts/cpu/measure.sh profile-full train` (they reuse its profile and MLP predictor):
#   scripts/cpu/experiments.sh [section ...]   sections: 5.5 7.2 7.3 7.7 motivation report (default: all)
# A section whose folder exists is skipped (remove it to run it again).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=data/cpu-experiments
profile=data/profile/cpu-full-2in4
predictor=data/predictor/cpu-full-2in4-mlp-all
pairs="resnet50,inception_v3 resnet50,vgg16 resnet50,bert inception_v3,vgg16 inception_v3,bert vgg16,bert"
common=(--ep cpu --batch-sizes 1,2,4)
sections=${*:-5.5 7.2 7.3 7.7 motivation report}
mkdir -p "$out"
run() { # run <folder> <script> <args...>
  local dir=$out/$1; shift
  [ -e "$dir" ] && { echo "experiments.sh: $dir exists, skipped" >&2; return 0; }
  "$@" --out "$dir"
}
for s in $sections; do
  case "$s" in
    5.5)   # MAPE per pair of LR, SVM and MLP (one per pair), one model for all pairs, k-fold CV
      run 5.5_prediction experiments/5.5_prediction/run.sh "${common[@]}" --data "$profile" ;;
    7.2)   # every policy on each of the six pairs at 0.7 of serial capacity, QoS = 5 x solo at batch 4
      run 7.2_qos experiments/7.2_qos/run.sh "${common[@]}" --predictor "$predictor" --combs "$pairs" --queries 200 ;;
    7.3)   # peak load under the QoS rule and completions at 1.4 x capacity, two pairs (a peak search per policy is long here)
      run 7.3_throughput experiments/7.3_throughput/run.sh "${common[@]}" --predictor "$predictor" \
        --combs "resnet50,inception_v3 resnet50,bert" --queries 200 --peak-queries 100 --peak-res 0.1 ;;
    7.7)   # decision time and outcome versus search ways, one pair at QoS = 1.2 x solo (at the script's default
           # of 2 x solo, every pair fitted the headroom on 2 cores and no decision ever searched a split)
      run 7.7_multiway experiments/7.7_multiway/run.sh "${common[@]}" --predictor "$predictor" --combs "resnet50,vgg16" \
        --qos-factor 1.2 --ways-list 1,2,4,8,16 --queries 200 ;;
    motivation)   # resnet50 at batch 1 alone and beside each model of the profile running continuously
      run motivation experiments/motivation/run.sh --ep cpu --foreground resnet50 --batch 1 \
        --backgrounds resnet50,inception_v3,vgg16,bert --bg-batches 1,4 --queries 300 ;;
    report)
      node dist/cli.js report "$out"/*/ --out "$out/report" ;;
    *) echo "experiments.sh: unknown section $s" >&2; exit 2 ;;
  esac
done
