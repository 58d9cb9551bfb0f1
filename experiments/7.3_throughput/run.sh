#!/usr/bin/env bash
# §7.3 throughput: for each pair and policy, (1) the peak load sustained under the QoS rule (p99 <= QoS and
# <= 1 % violations; `abacus serve --find-peak`), and (2) the queries completed in one run above capacity,
# late ones included, which is what the paper's Fig. 17 counted. The two are kept apart.
set -euo pipefail
SECTION=7.3_throughput
# shellcheck source=../_lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../_lib/common.sh"

usage() {
  cat <<EOF
Usage: experiments/$SECTION/run.sh [--quick] [options]

Measures the solo latencies, derives each pair's QoS target and loads (experiments/README.md), profiles the
pairs and trains one MLP predictor, then for every pair and every policy (fcfs, sjf, edf, abacus,
concurrent; --abandon everywhere): a peak-load search, and one run at the overload load.
Figures: peak_throughput, overload_completions.

Options:
  --qos-factor <k>    QoS = k × the larger solo latency at the largest batch (default 5)
  --rho-overload <x>  overload load as a share of serial capacity (default 1.4)
  --peak-range <l,h>  peak search bracket as shares of serial capacity (default 0.25,3)
  --peak-res <x>      peak search resolution as a share of serial capacity (default 0.02; --quick 0.1)
  --peak-queries <n>  queries per peak-search run (default 500; --quick 100)
  --no-peak           skip the peak searches
$COMMON_USAGE

Defaults: full: the 21 pairs, 1000 queries per overload run; --quick: 'resnet50,vgg16 inception_v3,vgg19',
200 queries, 10 profiled groups per batch tuple with 5 timed runs.
EOF
}

QOS_FACTOR=5
RHO_OVER=1.4
PEAK_LO=0.25
PEAK_HI=3
PEAK_RES=""
PEAK_QUERIES=""
PEAK=1
ARGS=("$@")
while [[ $# -gt 0 ]]; do
  case "$1" in
    --qos-factor) need_value "$1" $#; QOS_FACTOR="$2"; shift 2 ;;
    --rho-overload) need_value "$1" $#; RHO_OVER="$2"; shift 2 ;;
    --peak-range) need_value "$1" $#; PEAK_LO="${2%,*}"; PEAK_HI="${2#*,}"; shift 2 ;;
    --peak-res) need_value "$1" $#; PEAK_RES="$2"; shift 2 ;;
    --peak-queries) need_value "$1" $#; PEAK_QUERIES="$2"; shift 2 ;;
    --no-peak) PEAK=0; shift ;;
    *) parse_common "$@" || die_usage "unknown option '$1'"; shift "$SHIFT_BY" ;;
  esac
done

init_run "${ARGS[@]}"
if [[ $MODE == quick ]]; then
  COMBS="${COMBS:-resnet50,vgg16 inception_v3,vgg19}"; QUERIES="${QUERIES:-200}"; SAMPLES="${SAMPLES:-10}"; REPS="${REPS:-5}"; WARMUP=1; SOLO_REPS=10
  PEAK_RES="${PEAK_RES:-0.1}"; PEAK_QUERIES="${PEAK_QUERIES:-100}"
else
  COMBS="${COMBS:-$(all_pairs)}"; QUERIES="${QUERIES:-1000}"; SAMPLES="${SAMPLES:-200}"; REPS="${REPS:-100}"
  PEAK_RES="${PEAK_RES:-0.02}"; PEAK_QUERIES="${PEAK_QUERIES:-500}"
fi
write_run_json combinations="$COMBS" queries="$QUERIES" samples="$SAMPLES" reps="$REPS" batch_sizes="$BATCH_SIZES" \
  qos_factor="$QOS_FACTOR" rho_overload="$RHO_OVER" peak_range="$PEAK_LO,$PEAK_HI" peak_resolution="$PEAK_RES" \
  peak_queries="$PEAK_QUERIES" peak="$PEAK" scale="$SCALE" policies=fcfs,sjf,edf,abacus,concurrent abandon=true ways=2 thld_ms=5 \
  predictor="${PREDICTOR:-trained in this run}" data="${DATA_DIRS[*]:-profiled in this run}"

prepare_serving --factor "$QOS_FACTOR" --rho-overload "$RHO_OVER"
serve_study overload all
if [[ $PEAK == 1 ]]; then peak_search all; fi
finish_run
