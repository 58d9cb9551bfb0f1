#!/usr/bin/env bash
# §7.2 QoS: every policy serves each pair at the QoS-study load (p99 / QoS per pair, Fig. 14; violation
# ratio per pair, Fig. 15); then the small-DNN variant: Abacus alone, batch 4 only, a target from the
# batch-4 solo latencies (Fig. 16).
set -euo pipefail
SECTION=7.2_qos
# shellcheck source=../_lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../_lib/common.sh"

usage() {
  cat <<EOF
Usage: experiments/$SECTION/run.sh [--quick] [options]

Measures the solo latencies, derives each pair's QoS target and load (experiments/README.md), profiles
the pairs, trains one MLP predictor for all of them, and serves each pair with fcfs, sjf, edf, abacus and
concurrent on one seeded trace (--abandon everywhere). Then the small-DNN variant with Abacus alone.
Figures: qos_tail, qos_violations, small_dnn_tail.

Options:
  --qos-factor <k>    QoS = k × the larger solo latency at the largest batch (default 5)
  --rho <x>           load as a share of serial capacity (default 0.7)
  --small-batch <b>   batch of the small-DNN variant (default 4; 0 skips it)
$COMMON_USAGE

Defaults: full: the 21 pairs of the zoo, 1000 queries per run, 200 profiled groups per batch tuple with
100 timed runs each; --quick: 'resnet50,vgg16 resnet152,bert inception_v3,vgg19', 200 queries, 10
groups with 5 timed runs.
EOF
}

QOS_FACTOR=5
RHO=0.7
SMALL_BATCH=4
ARGS=("$@")
while [[ $# -gt 0 ]]; do
  case "$1" in
    --qos-factor) need_value "$1" $#; QOS_FACTOR="$2"; shift 2 ;;
    --rho) need_value "$1" $#; RHO="$2"; shift 2 ;;
    --small-batch) need_value "$1" $#; SMALL_BATCH="$2"; shift 2 ;;
    *) parse_common "$@" || die_usage "unknown option '$1'"; shift "$SHIFT_BY" ;;
  esac
done

init_run "${ARGS[@]}"
if [[ $MODE == quick ]]; then
  COMBS="${COMBS:-resnet50,vgg16 resnet152,bert inception_v3,vgg19}"; QUERIES="${QUERIES:-200}"; SAMPLES="${SAMPLES:-10}"; REPS="${REPS:-5}"; WARMUP=1; SOLO_REPS=10
else
  COMBS="${COMBS:-$(all_pairs)}"; QUERIES="${QUERIES:-1000}"; SAMPLES="${SAMPLES:-200}"; REPS="${REPS:-100}"
fi
write_run_json combinations="$COMBS" queries="$QUERIES" samples="$SAMPLES" reps="$REPS" batch_sizes="$BATCH_SIZES" \
  qos_factor="$QOS_FACTOR" rho_qos="$RHO" small_batch="$SMALL_BATCH" scale="$SCALE" policies=fcfs,sjf,edf,abacus,concurrent \
  abandon=true ways=2 thld_ms=5 predictor="${PREDICTOR:-trained in this run}" data="${DATA_DIRS[*]:-profiled in this run}"

small_args=()
if [[ $SMALL_BATCH != 0 ]]; then
  small_args=(--small-batch "$SMALL_BATCH")
  if [[ ",$BATCH_SIZES," != *",$SMALL_BATCH,"* ]]; then SOLO_BATCHES="$BATCH_SIZES,$SMALL_BATCH"; fi
fi
prepare_serving --factor "$QOS_FACTOR" --rho-qos "$RHO" "${small_args[@]}"
serve_study qos all
if [[ $SMALL_BATCH != 0 ]]; then serve_study small abacus; fi
finish_run
