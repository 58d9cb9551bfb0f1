#!/usr/bin/env bash
# The paper's serving experiments on cuda, on the GPU machine, in one device call (after call 1 of
# scripts/gpu/cuda-pack.sh): from the unpacked app, after `source .gpu/boot.sh && source /tmp/cuda-ep/cuda-boot.sh && cd "$APP"`,
#     scripts/gpu/cuda-experiments.sh <state-dir> <section> [<section> ...]
# Sections (each an experiments/<section>/run.sh --ep cuda with the committed predictors of data/h200-cuda/predictor,
# results under <state-dir>/exp/<section>; each is cut by `timeout` at its share of the time left before $DEADLINE):
#   7.2      the six pairs of {resnet101, resnet152, vgg19, bert}, every policy (QUERIES_72, default 500 per run); EXTRA_72
#            adds run.sh options (e.g. "--seed 1", "--calibrate"), SUFFIX_72 names the run's folder 7.2_qos<suffix>
#   group    abacus with the paper's group barrier on the same traces as 7.2, for GROUP_COMBS (default two pairs)
#   7.4      the quadruplet, QoS and overload (no peak search; QUERIES_74, default 400)
#   7.7      search ways 1, 2, 4, 8, 16 on resnet152+vgg19 (QUERIES_77, default 400)
#   7.3      peak throughput for PEAK_COMBS (default resnet152,vgg19), 300 queries per probe; EXTRA_73 adds run.sh
#            options (e.g. "--seed 1 --no-peak"), SUFFIX_73 names the run's folder 7.3_throughput<suffix>
#   motivation  resnet152 alone and beside each of the four, latency CDF
#   listen   `serve --listen --grpc` on cuda (LISTEN_COMB, default resnet152,vgg19, at 7.2's QoS), then `load` against it
#            over HTTP and over gRPC at 7.2's load for LISTEN_S seconds each (default 10); the server's summary on SIGTERM;
#            LISTEN_BATCHES=4 draws only batch 4 (7.2's batches make ~10 MB requests on average: a transport test)
#   floor    scripts/gpu/decision-floor.mjs: the decision's small pieces hot and right after a timer wake (decision-floor.json)
#   overload scripts/stress-overload.sh on the CPU side of this host (16 cores: server on 0-7, client on 8-15), tiny
#            resnet50+bert, a peak-goodput ladder and 4x that peak (overload/), the server-overload benchmark of #19
# CUDA_OPTIONS="key=value ..." passes CUDA provider options to every serve step (experiments/_lib/common.sh, listen).
# Sections after the first reuse its solo benchmarks (--solo-from), which saves about 100 s each; SOLO_DIR=<dir>
# reuses a committed run's instead (recorded in each run.json). PAIRS_72 narrows 7.2's pairs; TARGETS_72 (default
# 7.2's logs/targets-qos.out in this state) is where `group` and `listen` read 7.2's QoS and load.
set -euo pipefail
state=${1:?usage: cuda-experiments.sh <state-dir> <section>...}; shift
models="$state/models"
PRED=${PREDICTORS:-data/h200-cuda/predictor}
P2=$PRED/v2-pairs-mlp-all
P4=$PRED/${P4_NAME:-v2-all-mlp-all}
PAIRS=${PAIRS_72:-"resnet101,resnet152 resnet101,vgg19 resnet101,bert resnet152,vgg19 resnet152,bert vgg19,bert"}
QUAD=resnet101,resnet152,vgg19,bert
mkdir -p "$state/exp"
# the solo benchmarks of the first section that measured them, reused by the later ones (same host, same models)
# (any batch: a run copies the batches the folder has and measures the rest, see experiments/_lib/common.sh)
solo_from() { local d f; [ -n "${SOLO_DIR:-}" ] && { echo --solo-from "$SOLO_DIR"; return; }; for d in "$state"/exp/*/raw/solo; do for f in "$d"/b*.json; do [ -s "$f" ] && { echo --solo-from "$d"; return; }; done; done; }
left() { if [ -n "${DEADLINE:-}" ]; then echo $(( DEADLINE - $(date +%s) )); else echo 999999; fi; }
stamp() { echo "cuda-experiments: $1 $(date -u +%H:%M:%S) ($(left) s left)" >&2; }
# target_72 <a,b>: 7.2's "name models qos load batches" line for a combination (batches "-" made 4,8,16,32), or a message and 1
target_72() {
  local targets=${TARGETS_72:-$state/exp/7.2_qos/logs/targets-qos.out} line
  [ -s "$targets" ] || { echo "cuda-experiments: 7.2's targets are missing ($targets)" >&2; return 1; }
  line=$(awk -v c="$1" '$2 == c' "$targets"); [ -n "$line" ] || { echo "cuda-experiments: no 7.2 target for $1" >&2; return 1; }
  echo "${line/ - / 4,8,16,32 }"
}
# run_box <seconds wanted> <name> <command...>: at most the time wanted and what is left (minus 20 s for the tar)
run_box() {
  local want=$1 name=$2; shift 2
  local box=$(( $(left) - 20 )); [ "$box" -gt "$want" ] && box=$want
  if [ "$box" -lt 30 ]; then echo "cuda-experiments: no time left for $name" >&2; return 0; fi
  stamp "$name (${box} s)"
  timeout -s INT "$box" "$@" > "$state/exp/$name.stdout.txt" 2> "$state/exp/$name.stderr.txt" || echo "cuda-experiments: $name exit $?" >&2
}
[ -s "$state/zoo-build.json" ] || node dist/cli.js zoo build resnet101 resnet152 vgg19 bert --out "$models" --json > "$state/zoo-build.json"
for section in "$@"; do
  case "$section" in
    7.2) run_box ${BOX_72:-330} 7.2_qos${SUFFIX_72:-} experiments/7.2_qos/run.sh --ep cuda $(solo_from) --combs "$PAIRS" --predictor "$P2" --queries "${QUERIES_72:-500}" \
           --small-batch 0 --models-dir "$models" ${EXTRA_72:-} --out "$state/exp/7.2_qos${SUFFIX_72:-}" ;;
    group)
      for comb in ${GROUP_COMBS:-resnet152,vgg19 resnet101,bert}; do
        line=$(target_72 "$comb") || continue
        read -r name ms qos load batches _ <<<"$line"
        run_box 60 "group-$name" node dist/cli.js serve --comb ${ms//,/ } --policy abacus --barrier group --abandon --ways 2 --thld 5 \
          --qos "$qos" --load "$load" --queries "${QUERIES_72:-500}" --batch-sizes "$batches" --seed 0 --predictor "$P2" \
          --ep cuda --models-dir "$models" --out "$state/exp/7.2_qos/raw/serve/qos/$name/barrier-group" --json
      done ;;
    7.4) run_box ${BOX_74:-150} 7.4_beyond_pair experiments/7.4_beyond_pair/run.sh --ep cuda $(solo_from) --combs "$QUAD" --predictor "$P4" \
           --queries "${QUERIES_74:-400}" --no-peak --models-dir "$models" --out "$state/exp/7.4_beyond_pair" ;;
    7.7) run_box ${BOX_77:-100} 7.7_multiway experiments/7.7_multiway/run.sh --ep cuda $(solo_from) --combs resnet152,vgg19 --ways-list 1,2,4,8,16 \
           --predictor "$P2" --queries "${QUERIES_77:-400}" --models-dir "$models" --out "$state/exp/7.7_multiway" ;;
    7.3) run_box ${BOX_73:-150} 7.3_throughput${SUFFIX_73:-} experiments/7.3_throughput/run.sh --ep cuda $(solo_from) --combs "${PEAK_COMBS:-resnet152,vgg19}" \
           --predictor "$P2" --peak-queries 300 --peak-res 0.05 --queries 400 --models-dir "$models" ${EXTRA_73:-} --out "$state/exp/7.3_throughput${SUFFIX_73:-}" ;;
    motivation) run_box ${BOX_MOT:-90} motivation experiments/motivation/run.sh --ep cuda --backgrounds resnet101,resnet152,vgg19,bert \
           --queries 300 --models-dir "$models" --out "$state/exp/motivation" ;;
    listen)
      line=$(target_72 "${LISTEN_COMB:-resnet152,vgg19}") || continue
      read -r name ms qos load batches _ <<<"$line"
      batches=${LISTEN_BATCHES:-$batches}
      dir="$state/exp/listen-$name${LISTEN_BATCHES:+-b${LISTEN_BATCHES//,/_}}"; mkdir -p "$dir"
      [ "$(left)" -gt 80 ] || { echo "cuda-experiments: no time left for listen" >&2; continue; }
      stamp "listen $name (qos $qos ms, load $load q/s)"
      node dist/cli.js serve --listen 127.0.0.1:18940 --grpc 127.0.0.1:18941 --comb ${ms//,/ } --policy abacus --barrier member \
        --abandon --ways 2 --thld 5 --qos "$qos" --batch-sizes "$batches" --seed 0 --predictor "$P2" --ep cuda --models-dir "$models" \
        ${CUDA_OPTIONS:+--cuda-option $CUDA_OPTIONS} --out "$dir/server" > "$dir/server.stdout.txt" 2> "$dir/server.stderr.txt" &
      spid=$!
      for _ in $(seq 1 120); do
        node -e "fetch('http://127.0.0.1:18940/v2/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))" && break
        kill -0 $spid 2>/dev/null || break; sleep 1
      done
      for proto in http grpc; do
        url=http://127.0.0.1:18940; [ $proto = grpc ] && url=127.0.0.1:18941
        timeout -s INT $(( ${LISTEN_S:-10} + 40 )) node dist/cli.js load --url "$url" --protocol $proto --rate "$load" --duration "${LISTEN_S:-10}" \
          --qos "$qos" --batch-sizes "$batches" --seed 0 --out "$dir/load-$proto" --json > "$dir/load-$proto.json" 2> "$dir/load-$proto.stderr.txt" \
          || echo "cuda-experiments: load $proto exit $?" >&2
      done
      node -e "fetch('http://127.0.0.1:18940/metrics').then(async (r) => process.stdout.write(await r.text()))" > "$dir/metrics.txt" || true
      kill -TERM $spid 2>/dev/null || true; wait $spid || echo "cuda-experiments: server exit $?" >&2 ;;
    floor) stamp floor; node scripts/gpu/decision-floor.mjs --bundle "$P2" > "$state/exp/decision-floor.json" 2> "$state/exp/decision-floor.stderr.txt" \
           || echo "cuda-experiments: floor exit $?" >&2 ;;
    overload)
      [ "$(left)" -gt 100 ] || { echo "cuda-experiments: no time left for overload" >&2; continue; }
      stamp overload
      timeout -s INT $(( $(left) - 20 )) env PREDICTOR=data/predictor/cpu-tiny-2in4-mlp-all bash scripts/stress-overload.sh --server-cpus 0-7 \
        --client-cpus 8-15 --peak ${OVERLOAD_LADDER:-250,500,1000,2000,4000} --ladder-duration 4 --multiples 1,4 --overload-duration 8 \
        "$state/exp/overload" > "$state/exp/overload.stdout.txt" 2> "$state/exp/overload.stderr.txt" || echo "cuda-experiments: overload exit $?" >&2 ;;
    *) echo "cuda-experiments.sh: unknown section '$section'" >&2; exit 2 ;;
  esac
done
stamp done
