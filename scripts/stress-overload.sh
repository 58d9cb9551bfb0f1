#!/usr/bin/env bash
# Overload sweep against a freshly started server on loopback: starts `abacus serve --listen` (tiny
# resnet50 + bert, policy abacus, the tiny CPU predictor), runs `abacus stress --attacks none --sweep`
# from this checkout's dist/ against it, stops it with SIGTERM and writes <out>/stress.json and
# <out>/server.log. Bounded: the sweep's rates x duration, and a 10-minute cap on the whole run.
#   scripts/stress-overload.sh <out-dir> [server-cli.js] [rates] [duration-s]
set -euo pipefail
out=${1:?usage: scripts/stress-overload.sh <out-dir> [server-cli.js] [rates] [duration-s]}
server_cli=${2:-dist/cli.js}
rates=${3:-60,125,250,500,1000}
duration=${4:-8}
models=${MODELS_DIR:-$(mktemp -d)/models}
port=${PORT:-18931}
mkdir -p "$out"
node "$server_cli" zoo build resnet50 bert --scale tiny --models-dir "$models" >/dev/null
timeout 600 node "$server_cli" serve --listen "127.0.0.1:$port" --comb resnet50 bert --scale tiny --models-dir "$models" \
  --policy abacus --qos 50 --predictor data/predictor/cpu-tiny-2in4-mlp-all --batch-sizes 1 --seq-lens 8 ${SERVER_FLAGS:-} >"$out/server.out" 2>"$out/server.log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  curl -sf "http://127.0.0.1:$port/v2/health/ready" >/dev/null 2>&1 && break
  sleep 0.2
done
timeout 600 node dist/cli.js stress --url "http://127.0.0.1:$port" --attacks none --sweep "$rates" --duration "$duration" --qos 50 --out "$out"
kill -TERM $pid
wait $pid || true
trap - EXIT
