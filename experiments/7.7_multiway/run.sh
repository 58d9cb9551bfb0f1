#!/usr/bin/env bash
# §7.7 multi-way search: Abacus serves one seeded trace per combination with 1..16 search ways; the
# decision time (controller compute per decision) and the run's QoS violations and goodput versus ways.
set -euo pipefail
SECTION=7.7_multiway
# shellcheck source=../_lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../_lib/common.sh"

usage() {
  cat <<EOF
Usage: experiments/$SECTION/run.sh [--quick] [options]

Abacus alone serves each combination's QoS-study trace once per number of search ways, and the results
folder gets the decision time and the violations and goodput versus ways (figures decision_time and
ways_outcome). Each combination is profiled, and one MLP predictor is trained per group size. QoS targets and loads follow the
rule of experiments/README.md (--qos-factor, --rho).

Options:
  --ways-list <l>     search ways to run (default 1,2,...,16)
  --qos-factor <k>    QoS = k × the larger solo latency at the largest batch (default 2: tighter than
                      the other experiments' 5, so that Abacus has to split queries and the search runs;
                      the paper served its VGG pairs at 1.1-2.2 × their A100 solo latency)
  --rho <x>           load as a share of serial capacity (default 0.7)
$COMMON_USAGE

Defaults: full: combinations 'resnet152,vgg19 resnet101,resnet152,vgg19,bert', 1000 queries per run,
200 profiled groups per batch tuple with 100 timed runs each; --quick: 'resnet152,vgg19', 150 queries,
10 groups with 5 timed runs.
EOF
}

WAYS_LIST=$(seq -s, 1 16)
QOS_FACTOR=2
RHO=0.7
ARGS=("$@")
while [[ $# -gt 0 ]]; do
  case "$1" in
    --ways-list) need_value "$1" $#; WAYS_LIST="$2"; shift 2 ;;
    --qos-factor) need_value "$1" $#; QOS_FACTOR="$2"; shift 2 ;;
    --rho) need_value "$1" $#; RHO="$2"; shift 2 ;;
    *) parse_common "$@" || die_usage "unknown option '$1'"; shift "$SHIFT_BY" ;;
  esac
done

init_run "${ARGS[@]}"
if [[ $MODE == quick ]]; then
  COMBS="${COMBS:-resnet152,vgg19}"; QUERIES="${QUERIES:-150}"; SAMPLES="${SAMPLES:-10}"; REPS="${REPS:-5}"; WARMUP=1; SOLO_REPS=10
else
  COMBS="${COMBS:-resnet152,vgg19 resnet101,resnet152,vgg19,bert}"; QUERIES="${QUERIES:-1000}"; SAMPLES="${SAMPLES:-200}"; REPS="${REPS:-100}"
fi
write_run_json combinations="$COMBS" ways="$WAYS_LIST" queries="$QUERIES" samples="$SAMPLES" reps="$REPS" \
  batch_sizes="$BATCH_SIZES" qos_factor="$QOS_FACTOR" rho_qos="$RHO" scale="$SCALE" policy=abacus abandon=true thld_ms=5

prepare_serving --factor "$QOS_FACTOR" --rho-qos "$RHO"

step targets exp_helper targets --dir "$RUN" --study qos
predictor_args=(--predictors-root "$RUN/raw/predictor")
if [[ -n $PREDICTOR ]]; then predictor_args=(--predictor "$PREDICTOR"); fi
while read -r name models qos load _; do
  n=$(models_in "$models")
  for w in ${WAYS_LIST//,/ }; do
    step "serve-ways-$w-$name" abacus serve --comb ${models//,/ } --policy abacus --ways "$w" --thld 5 --abandon \
      --qos "$qos" --load "$load" --queries "$QUERIES" --batch-sizes "$BATCH_SIZES" --seed "$SEED" \
      "${predictor_args[@]}" --ep "$EP" --scale "$SCALE" --models-dir "$MODELS_DIR" \
      --threads "$(threads_for "$n")" --out "$RUN/raw/serve/ways-$w/$name"
  done
done <"$RUN/logs/targets.out"

finish_run
