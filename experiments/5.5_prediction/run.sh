#!/usr/bin/env bash
# §5.5 prediction error: LR, SVM and MLP latency predictors, one per pair (held-out MAPE per pair), then one
# model for every pair (held-out MAPE, and k-fold cross-validation), as the paper's prediction-error figure.
set -euo pipefail
SECTION=5.5_prediction
# shellcheck source=../_lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../_lib/common.sh"

usage() {
  cat <<EOF
Usage: experiments/$SECTION/run.sh [--quick] [options]

Profiles each pair (or takes --data), then trains each predictor with 'abacus train --mode onebyone' (one
model per pair, scored on a seeded held-out share of its groups) and '--mode all' (one model for every
pair, scored on the held-out rows and by k-fold cross-validation on the rest).
Figure: prediction_error.

Options:
  --modelings <l>     predictors to train (default lr,svm,mlp)
  --folds <k>         k of the cross-validation (default 5)
  --test-fraction <x> held-out share of each pair (default 0.2)
$COMMON_USAGE

Defaults: full: the 21 pairs, 200 profiled groups per batch tuple with 100 timed runs each; --quick:
'resnet50,vgg16 resnet152,bert inception_v3,vgg19', 10 groups with 5 timed runs.
EOF
}

MODELINGS=lr,svm,mlp
FOLDS=5
TEST_FRACTION=0.2
ARGS=("$@")
while [[ $# -gt 0 ]]; do
  case "$1" in
    --modelings) need_value "$1" $#; MODELINGS="$2"; shift 2 ;;
    --folds) need_value "$1" $#; FOLDS="$2"; shift 2 ;;
    --test-fraction) need_value "$1" $#; TEST_FRACTION="$2"; shift 2 ;;
    *) parse_common "$@" || die_usage "unknown option '$1'"; shift "$SHIFT_BY" ;;
  esac
done

init_run "${ARGS[@]}"
if [[ -n $PREDICTOR ]]; then die_usage "--predictor does not apply here: this experiment trains predictors"; fi
if [[ $MODE == quick ]]; then
  COMBS="${COMBS:-resnet50,vgg16 resnet152,bert inception_v3,vgg19}"; SAMPLES="${SAMPLES:-10}"; REPS="${REPS:-5}"; WARMUP=1
else
  COMBS="${COMBS:-$(all_pairs)}"; SAMPLES="${SAMPLES:-200}"; REPS="${REPS:-100}"
fi
write_run_json combinations="$COMBS" modelings="$MODELINGS" folds="$FOLDS" test_fraction="$TEST_FRACTION" samples="$SAMPLES" \
  reps="$REPS" batch_sizes="$BATCH_SIZES" scale="$SCALE" data="${DATA_DIRS[*]:-profiled in this run}"

if [[ ${#DATA_DIRS[@]} -gt 0 ]]; then
  data=("${DATA_DIRS[@]}")
else
  read -r -a MODELS <<<"$(models_of "$COMBS")"
  build_models "${MODELS[@]}"
  data=()
  for comb in $COMBS; do
    profile_comb "$comb"
    data+=("$RUN/raw/profile/${comb//,/_}")
  done
fi

mkdir -p "$RUN/raw/train"
for modeling in ${MODELINGS//,/ }; do
  for mode in onebyone all; do
    step "train-$modeling-$mode" abacus train --data "${data[@]}" --modeling "$modeling" --mode "$mode" --folds "$FOLDS" \
      --test-fraction "$TEST_FRACTION" --seed "$SEED" --models-dir "$MODELS_DIR" --scale "$SCALE" --out "$RUN/raw/predictor/$modeling-$mode" --json
    cp "$RUN/logs/train-$modeling-$mode.out" "$RUN/raw/train/$modeling-$mode.json"
  done
done
finish_run
