#!/usr/bin/env bash
# Motivation (paper §2, "unpredictable latency"): the latency CDF of one model running alone and beside each
# other model running continuously on the same device, with nothing coordinating them (experiments/motivation/cdf.ts).
set -euo pipefail
SECTION=motivation
# shellcheck source=../_lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../_lib/common.sh"

usage() {
  cat <<EOF
Usage: experiments/$SECTION/run.sh [--quick] [options]

The foreground model runs whole queries one after another, alone and then beside each background model,
whose queries (batch drawn from --bg-batches, seeded) run back to back through another service of the
same executor. Figure: latency_cdf.

Options:
  --foreground <m>    foreground model (default resnet152, as the paper)
  --backgrounds <l>   background models, comma-separated (default: the seven zoo models)
  --batch <n>         foreground batch size (default 16, as the paper)
  --bg-batches <l>    background batch sizes (default 4,32, as the paper)
$COMMON_USAGE
  (--queries: foreground queries per series, default 1000; --quick 100. --combs, --samples, --reps,
  --batch-sizes, --data and --predictor do not apply.)
EOF
}

FOREGROUND=resnet152
BACKGROUNDS=resnet50,resnet101,resnet152,inception_v3,vgg16,vgg19,bert
BATCH=16
BG_BATCHES=4,32
ARGS=("$@")
while [[ $# -gt 0 ]]; do
  case "$1" in
    --foreground) need_value "$1" $#; FOREGROUND="$2"; shift 2 ;;
    --backgrounds) need_value "$1" $#; BACKGROUNDS="$2"; shift 2 ;;
    --batch) need_value "$1" $#; BATCH="$2"; shift 2 ;;
    --bg-batches) need_value "$1" $#; BG_BATCHES="$2"; shift 2 ;;
    *) parse_common "$@" || die_usage "unknown option '$1'"; shift "$SHIFT_BY" ;;
  esac
done

init_run "${ARGS[@]}"
if [[ $MODE == quick ]]; then QUERIES="${QUERIES:-100}"; else QUERIES="${QUERIES:-1000}"; fi
THREADS_EACH=$(threads_for 2)
write_run_json foreground="$FOREGROUND" backgrounds="$BACKGROUNDS" batch="$BATCH" bg_batches="$BG_BATCHES" bg_seqs=8,64 \
  queries="$QUERIES" threads="$THREADS_EACH" scale="$SCALE"

read -r -a MODELS <<<"$(models_of "$FOREGROUND,$BACKGROUNDS")"
build_models "${MODELS[@]}"
step cdf exp_script "$ROOT/experiments/motivation/cdf.ts" --models-dir "$MODELS_DIR" --out "$RUN/raw/latencies.json" \
  --foreground "$FOREGROUND" --backgrounds "$BACKGROUNDS" --batch "$BATCH" --bg-batches "$BG_BATCHES" --bg-seqs 8,64 \
  --queries "$QUERIES" --ep "$EP" --threads "$THREADS_EACH" --seed "$SEED"
finish_run
