#!/usr/bin/env bash
# §7.4 beyond pairs: the triplets (1,2,5) (1,2,6) (1,5,6) (2,5,6) and the quadruplet (1,2,5,6) of ResNet-101,
# ResNet-152, VGG-19 and BERT, as in §7.2 and §7.3: the QoS study (p99 / QoS and violations, Fig. 18),
# then peak throughput under the QoS rule and completions under overload (Fig. 19).
set -euo pipefail
SECTION=7.4_beyond_pair
# shellcheck source=../_lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../_lib/common.sh"

QUAD="resnet101,resnet152,vgg19,bert"
TRIPLETS="resnet101,resnet152,vgg19 resnet101,resnet152,bert resnet101,vgg19,bert resnet152,vgg19,bert"

usage() {
  cat <<EOF
Usage: experiments/$SECTION/run.sh [--quick] [options]

Measures the solo latencies, derives each combination's QoS target and loads (experiments/README.md),
profiles the triplets and the quadruplet, trains one MLP predictor for the triplets and one for the
quadruplet, and serves each combination with fcfs, sjf, edf, abacus and concurrent (--abandon everywhere):
at the QoS-study load, at the overload load, and in a peak-load search.
Figures: qos_tail, qos_violations, peak_throughput, overload_completions.

Options:
  --qos-factor <k>    QoS = k × the largest solo latency at the largest batch (default 5)
  --rho <x>           QoS-study load as a share of serial capacity (default 0.7)
  --rho-overload <x>  overload load as a share of serial capacity (default 1.4)
  --peak-combs <l>    combinations given a peak search (default: all; --quick: the quadruplet)
  --peak-range <l,h>  peak search bracket as shares of serial capacity (default 0.25,3)
  --peak-res <x>      peak search resolution as a share of serial capacity (default 0.02; --quick 0.1)
  --peak-queries <n>  queries per peak-search run (default 500; --quick 100)
  --no-peak           skip the peak searches
$COMMON_USAGE

Defaults: full: the four triplets and the quadruplet, 1000 queries per run, batch sizes 4,8,16,32, 200
profiled groups per batch tuple with 100 timed runs; --quick: the same combinations, 150 queries, batch
sizes 4,16, 6 profiled groups with 5 timed runs.
EOF
}

QOS_FACTOR=5
RHO=0.7
RHO_OVER=1.4
PEAK_LO=0.25
PEAK_HI=3
PEAK_RES=""
PEAK_QUERIES=""
PEAK_COMBS=""
PEAK=1
ARGS=("$@")
while [[ $# -gt 0 ]]; do
  case "$1" in
    --qos-factor) need_value "$1" $#; QOS_FACTOR="$2"; shift 2 ;;
    --rho) need_value "$1" $#; RHO="$2"; shift 2 ;;
    --rho-overload) need_value "$1" $#; RHO_OVER="$2"; shift 2 ;;
    --peak-combs) need_value "$1" $#; PEAK_COMBS="$2"; shift 2 ;;
    --peak-range) need_value "$1" $#; PEAK_LO="${2%,*}"; PEAK_HI="${2#*,}"; shift 2 ;;
    --peak-res) need_value "$1" $#; PEAK_RES="$2"; shift 2 ;;
    --peak-queries) need_value "$1" $#; PEAK_QUERIES="$2"; shift 2 ;;
    --no-peak) PEAK=0; shift ;;
    *) parse_common "$@" || die_usage "unknown option '$1'"; shift "$SHIFT_BY" ;;
  esac
done

if [[ $MODE == quick && -z $BATCH_SIZES ]]; then BATCH_SIZES=4,16; fi
init_run "${ARGS[@]}"
COMBS="${COMBS:-$TRIPLETS $QUAD}"
if [[ $MODE == quick ]]; then
  QUERIES="${QUERIES:-150}"; SAMPLES="${SAMPLES:-6}"; REPS="${REPS:-5}"; WARMUP=1; SOLO_REPS=10
  PEAK_RES="${PEAK_RES:-0.1}"; PEAK_QUERIES="${PEAK_QUERIES:-100}"; PEAK_COMBS="${PEAK_COMBS:-$QUAD}"
else
  QUERIES="${QUERIES:-1000}"; SAMPLES="${SAMPLES:-200}"; REPS="${REPS:-100}"
  PEAK_RES="${PEAK_RES:-0.02}"; PEAK_QUERIES="${PEAK_QUERIES:-500}"
fi
write_run_json combinations="$COMBS" queries="$QUERIES" samples="$SAMPLES" reps="$REPS" batch_sizes="$BATCH_SIZES" \
  qos_factor="$QOS_FACTOR" rho_qos="$RHO" rho_overload="$RHO_OVER" peak="$PEAK" peak_combinations="${PEAK_COMBS:-all}" \
  peak_range="$PEAK_LO,$PEAK_HI" peak_resolution="$PEAK_RES" peak_queries="$PEAK_QUERIES" scale="$SCALE" \
  policies=fcfs,sjf,edf,abacus,concurrent abandon=true ways=2 thld_ms=5 \
  predictor="${PREDICTOR:-trained in this run}" data="${DATA_DIRS[*]:-profiled in this run}"

prepare_serving --factor "$QOS_FACTOR" --rho-qos "$RHO" --rho-overload "$RHO_OVER"
serve_study qos all
serve_study overload all
if [[ $PEAK == 1 ]]; then peak_search all; fi
finish_run
