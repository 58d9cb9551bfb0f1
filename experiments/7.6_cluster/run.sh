#!/usr/bin/env bash
# §7.6 cluster (Fig. 22): N abacus nodes on this machine (loopback only) behind one balancer per policy,
# replaying the original's 120-step load trace (its shape, scaled to the nodes' measured capacity) with
# `abacus load`; per-step throughput, p99 and mean latency and violations for each balancer, with one
# accounting rule for all (README.md), and the figure.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

usage() {
  cat <<EOF
Usage: experiments/7.6_cluster/run.sh [--quick] [options]

Starts --nodes 'abacus serve --listen' nodes (policy abacus, --abandon, one predictor) on 127.0.0.1,
measures their capacity with Poisson probes of growing rate through a least-loaded balancer (the highest
rate with <= 5% violations and no failure), writes the trace (the
original's 120 one-minute loads resampled to --steps steps of --step-s seconds, peak = --load-factor x
capacity, Poisson within a step), then for each balancer starts fresh nodes and the balancer, sends the
trace with 'abacus load', and stops them (SIGTERM). Finally steps.csv, summary.json/md and
figures/cluster.{svg,png}.

Options:
  --quick              CPU, tiny models (resnet50,bert), 3 nodes, 8 steps of 5 s, a small predictor
  --nodes <n>          nodes (default 3)
  --models <list>      served models, comma-separated (default resnet101,resnet152,vgg19,bert)
  --qos <ms>           QoS of every request (default 100)
  --steps <n>          steps taken from the 120 (block means; default 120)
  --step-s <s>         seconds per step (default 60)
  --load-factor <x>    the trace's peak as a share of the measured capacity (default 0.9)
  --balancers <list>   default random,least-loaded,headroom,clock
  --batch-sizes <l>    default 4,8,16,32 (quick: 4,8)
  --seq-lens <l>       default 8,16,32,64
  --predictor <dir>    predictor bundle for the models (default: profile and train one)
  --samples <n>        profiled groups per batch tuple when training (default 200; quick 12)
  --reps <n>           timed runs per profiled group (default 20; quick 5)
  --ep <ep>            execution provider (default cpu)
  --threads <n>        intra-op threads per service (default 1)
  --timeout <ms>       client timeout: the only cut-off (default 10 x QoS)
  --probe-start <qps>  first capacity probe rate (default 20; quick 10); each next one is 1.5x
  --probe-s <s>        seconds per capacity probe (default 20; quick 4)
  --models-dir <dir>   models folder (default: <results>/models with --quick, else models/)
  --out <dir>          results folder (default experiments/7.6_cluster/results/<UTC time>-<commit>)
  --seed <n>           seed of the trace and of the random balancer (default 0)
  -h, --help           this message
EOF
}

ORIG_ARGS=("$@")
QUICK=0; NODES=3; MODELS=""; QOS=100; STEPS=""; STEP_S=""; LOAD_FACTOR=0.9; BALANCERS="random,least-loaded,headroom,clock"
BATCH_SIZES=""; SEQ_LENS="8,16,32,64"; PREDICTOR=""; PROBE_S=""; PROBE_START=""; SAMPLES=""; REPS=""; EP=cpu; THREADS=1; TIMEOUT=""; MODELS_DIR=""; OUT=""; SEED=0
need() { [[ $2 -ge 2 ]] || { echo "option $1 needs a value" >&2; usage >&2; exit 2; }; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=1; shift ;;
    --nodes) need "$1" $#; NODES="$2"; shift 2 ;;
    --models) need "$1" $#; MODELS="$2"; shift 2 ;;
    --qos) need "$1" $#; QOS="$2"; shift 2 ;;
    --steps) need "$1" $#; STEPS="$2"; shift 2 ;;
    --step-s) need "$1" $#; STEP_S="$2"; shift 2 ;;
    --load-factor) need "$1" $#; LOAD_FACTOR="$2"; shift 2 ;;
    --balancers) need "$1" $#; BALANCERS="$2"; shift 2 ;;
    --batch-sizes) need "$1" $#; BATCH_SIZES="$2"; shift 2 ;;
    --seq-lens) need "$1" $#; SEQ_LENS="$2"; shift 2 ;;
    --predictor) need "$1" $#; PREDICTOR="$(realpath -m "$2")"; shift 2 ;;
    --samples) need "$1" $#; SAMPLES="$2"; shift 2 ;;
    --reps) need "$1" $#; REPS="$2"; shift 2 ;;
    --ep) need "$1" $#; EP="$2"; shift 2 ;;
    --threads) need "$1" $#; THREADS="$2"; shift 2 ;;
    --timeout) need "$1" $#; TIMEOUT="$2"; shift 2 ;;
    --models-dir) need "$1" $#; MODELS_DIR="$(realpath -m "$2")"; shift 2 ;;
    --out) need "$1" $#; OUT="$(realpath -m "$2")"; shift 2 ;;
    --seed) need "$1" $#; SEED="$2"; shift 2 ;;
    --probe-start) need "$1" $#; PROBE_START="$2"; shift 2 ;;
    --probe-s) need "$1" $#; PROBE_S="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
if [[ $QUICK == 1 ]]; then
  SCALE=tiny; MODELS="${MODELS:-resnet50,bert}"; STEPS="${STEPS:-8}"; STEP_S="${STEP_S:-5}"; BATCH_SIZES="${BATCH_SIZES:-4,8}"
  SAMPLES="${SAMPLES:-12}"; REPS="${REPS:-5}"; PROBE_S="${PROBE_S:-4}"; PROBE_START="${PROBE_START:-10}"
else
  SCALE=full; MODELS="${MODELS:-resnet101,resnet152,vgg19,bert}"; STEPS="${STEPS:-120}"; STEP_S="${STEP_S:-60}"; BATCH_SIZES="${BATCH_SIZES:-4,8,16,32}"
  SAMPLES="${SAMPLES:-200}"; REPS="${REPS:-20}"; PROBE_S="${PROBE_S:-20}"; PROBE_START="${PROBE_START:-20}"
fi
TIMEOUT="${TIMEOUT:-$((QOS * 10))}"
cd "$ROOT"
RUN_ID="$(date -u +%Y%m%dT%H%M%SZ)-$(git rev-parse --short HEAD 2>/dev/null || echo nogit)"
RUN="${OUT:-$HERE/results/$RUN_ID}"
if [[ -d $RUN && -n "$(ls -A "$RUN")" ]]; then echo "results folder $RUN is not empty" >&2; exit 1; fi
mkdir -p "$RUN/logs" "$RUN/raw"
MODELS_DIR="${MODELS_DIR:-$([[ $QUICK == 1 ]] && echo "$RUN/models" || echo "$ROOT/models")}"
say() { printf '[7.6_cluster] %s\n' "$*" >&2; }
# The CLI as a command array (not a function), so that `"${ABACUS[@]}" ... &` leaves the node process's own
# id in $! and stopping it reaches the server itself.
# The helper likewise: dist/experiments/cluster.mjs (`npm run build`) when current or when tsx is missing.
if [[ -f "$ROOT/dist/cli.js" && -z "$(find "$ROOT/src" -name '*.ts' -newer "$ROOT/dist/cli.js" -print -quit 2>/dev/null)" ]]; then
  ABACUS=(node "$ROOT/dist/cli.js")
  if [[ -f "$ROOT/dist/experiments/cluster.mjs" ]] &&
    [[ ! "$HERE/cluster.ts" -nt "$ROOT/dist/experiments/cluster.mjs" || ! -d "$ROOT/node_modules/tsx" ]]; then
    HELPER=(node "$ROOT/dist/experiments/cluster.mjs")
  else
    HELPER=(node --import tsx "$HERE/cluster.ts")
  fi
else
  ABACUS=(node --import tsx "$ROOT/src/cli.ts")
  HELPER=(node --import tsx "$HERE/cluster.ts")
fi
abacus() { "${ABACUS[@]}" "$@"; }
helper() { "${HELPER[@]}" "$@"; }

# Processes this script started, stopped by their ids on exit (never by name).
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  PIDS=()
}
trap cleanup EXIT

# port_of <stderr file> <pid>: the port a server printed ("on http://127.0.0.1:<port>"), waiting up to 10 minutes.
port_of() {
  local file=$1 pid=$2 port=""
  for _ in $(seq 1 6000); do
    port=$(grep -o 'on http://127\.0\.0\.1:[0-9]*' "$file" 2>/dev/null | head -1 | sed 's/.*://') || true
    [[ -n $port ]] && { echo "$port"; return 0; }
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$file" >&2; return 1; }
    sleep 0.1
  done
  return 1
}

# start_nodes <tag>: NODES fresh nodes; sets NODE_URLS (comma-separated) and NODE_PIDS.
start_nodes() {
  local tag=$1 i pid port
  NODE_URLS=""; NODE_PIDS=()
  for ((i = 0; i < NODES; i++)); do
    "${ABACUS[@]}" serve --comb ${MODELS//,/ } --policy abacus --abandon --predictor "$PREDICTOR" --qos "$QOS" --ep "$EP" --threads "$THREADS" \
      --scale "$SCALE" --models-dir "$MODELS_DIR" --batch-sizes "$BATCH_SIZES" --seq-lens "$SEQ_LENS" --listen 127.0.0.1:0 --json \
      >"$RUN/logs/$tag-node$i.out" 2>"$RUN/logs/$tag-node$i.err" &
    pid=$!; PIDS+=("$pid"); NODE_PIDS+=("$pid")
  done
  for ((i = 0; i < NODES; i++)); do
    port=$(port_of "$RUN/logs/$tag-node$i.err" "${NODE_PIDS[i]}") || { echo "node $i did not start" >&2; exit 1; }
    NODE_URLS+="${NODE_URLS:+,}http://127.0.0.1:$port"
  done
}

# start_balancer <tag> <policy>: sets BALANCER_URL and BALANCER_PID.
start_balancer() {
  local tag=$1 policy=$2 port
  "${ABACUS[@]}" balance --listen 127.0.0.1:0 --nodes "$NODE_URLS" --policy "$policy" --seed "$SEED" --timeout "$TIMEOUT" --json \
    >"$RUN/logs/$tag-balancer.out" 2>"$RUN/logs/$tag-balancer.err" &
  BALANCER_PID=$!; PIDS+=("$BALANCER_PID")
  port=$(port_of "$RUN/logs/$tag-balancer.err" "$BALANCER_PID") || { echo "the balancer did not start" >&2; exit 1; }
  BALANCER_URL="http://127.0.0.1:$port"
}

# stop_all: SIGTERM to the balancer, then the nodes (each drains and prints its summary), and wait.
stop_all() {
  local pid
  kill -TERM "$BALANCER_PID" 2>/dev/null || true
  wait "$BALANCER_PID" 2>/dev/null || true
  for pid in "${NODE_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${NODE_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}

say "results in $RUN ($([[ $QUICK == 1 ]] && echo quick || echo full), $EP, $NODES nodes, models $MODELS)"
say "zoo build"
abacus zoo build ${MODELS//,/ } --scale "$SCALE" --out "$MODELS_DIR" >"$RUN/logs/zoo.out" 2>"$RUN/logs/zoo.err"
if [[ -z $PREDICTOR ]]; then
  n=$(tr ',' '\n' <<<"$MODELS" | wc -l)
  say "profile ($SAMPLES groups per batch tuple, $REPS runs each)"
  abacus profile --model-num "$n" --comb ${MODELS//,/ } --batch-sizes "$BATCH_SIZES" --seq-lens "$SEQ_LENS" --samples "$SAMPLES" --reps "$REPS" \
    --seed "$SEED" --threads "$THREADS" --ep "$EP" --scale "$SCALE" --models-dir "$MODELS_DIR" --out "$RUN/raw/profile" --json \
    >"$RUN/logs/profile.out" 2>"$RUN/logs/profile.err"
  say "train"
  abacus train --data "$RUN/raw/profile" --modeling mlp --mode all --folds 0 --seed "$SEED" --out "$RUN/raw/predictor" --json >"$RUN/logs/train.out" 2>"$RUN/logs/train.err"
  PREDICTOR="$RUN/raw/predictor"
fi

# Capacity: Poisson probes of PROBE_S seconds through a least-loaded balancer at rates growing by 1.5x from
# PROBE_START; the capacity is the highest rate that passed (<= 5% violations, no failure).
say "capacity probe (rates x1.5 from $PROBE_START/s, ${PROBE_S} s each)"
start_nodes probe
start_balancer probe least-loaded
RATE=$PROBE_START
CAPACITY=""
for k in $(seq 1 14); do
  abacus load --url "$BALANCER_URL" --rate "$RATE" --duration "$PROBE_S" --batch-sizes "$BATCH_SIZES" --seq-lens "$SEQ_LENS" --qos "$QOS" \
    --timeout "$TIMEOUT" --seed "$((SEED + k))" --json >"$RUN/raw/probe-$k.json" 2>"$RUN/logs/probe-load-$k.err"
  verdict=$(helper probe --summary "$RUN/raw/probe-$k.json")
  say "  $RATE/s: $verdict"
  [[ $verdict == pass* ]] || break
  CAPACITY=$RATE
  RATE=$(awk -v r="$RATE" 'BEGIN { printf "%.2f", r * 1.5 }')
done
stop_all
[[ -n $CAPACITY ]] || { echo "the nodes did not pass even the first probe at $PROBE_START/s: lower it with --probe-start" >&2; exit 1; }
say "capacity: $CAPACITY requests/s"

helper trace --steps "$STEPS" --step-s "$STEP_S" --capacity "$CAPACITY" --load-factor "$LOAD_FACTOR" --models "$MODELS" --qos "$QOS" \
  --batch-sizes "$BATCH_SIZES" --seq-lens "$SEQ_LENS" --seed "$SEED" --out "$RUN" >"$RUN/logs/trace.out"
say "$(cat "$RUN/logs/trace.out")"
cat >"$RUN/run.json" <<EOF
{"section": "7.6_cluster", "command": "experiments/7.6_cluster/run.sh$(printf ' %q' "${ORIG_ARGS[@]:-}")", "quick": $QUICK, "nodes": $NODES, "models": "$MODELS", "qosMs": $QOS,
 "steps": $STEPS, "stepS": $STEP_S, "loadFactor": $LOAD_FACTOR, "capacityQps": $CAPACITY, "balancers": "$BALANCERS", "batchSizes": "$BATCH_SIZES",
 "seqLens": "$SEQ_LENS", "ep": "$EP", "threads": $THREADS, "timeoutMs": $TIMEOUT, "seed": $SEED, "predictor": "$PREDICTOR", "scale": "$SCALE"}
EOF

for b in ${BALANCERS//,/ }; do
  say "balancer $b: start $NODES nodes and the balancer, send the trace"
  start_nodes "$b"
  start_balancer "$b" "$b"
  abacus load --url "$BALANCER_URL" --trace "$RUN/trace.csv" --step "$STEP_S" --timeout "$TIMEOUT" --seed "$SEED" --json --out "$RUN/raw/$b" \
    >"$RUN/raw/$b.json" 2>"$RUN/logs/$b-load.err"
  stop_all
done

say "finish"
helper finish --run "$RUN" --balancers "$BALANCERS" --qos "$QOS" | tee "$RUN/logs/finish.out" >&2
say "done: $RUN/summary.md, $RUN/figures/cluster.png"
