#!/usr/bin/env bash
# Overload against a freshly started server on loopback: starts `abacus serve --listen` (tiny resnet50 +
# bert, policy abacus, QoS 50 ms, the tiny CPU predictor, batch 1: below the batches it was trained on,
# hence --allow-extrapolation; admission's calibration corrects its scale), sends open-loop Poisson load on
# resnet50 with `abacus stress --attacks none --sweep`, stops the server with SIGTERM.
#
#   scripts/stress-overload.sh [options] <out-dir> [server-cli.js] [rates] [duration-s]
#
# Without --peak: the sweep of `rates` (default 60,125,250,500,1000), `duration-s` each (default 8):
#   <out>/stress.json, <out>/server.out (the server's run summary), <out>/server.log.
# --peak LADDER: the rates of LADDER (e.g. 125,250,500,1000,2000,4000), --ladder-duration s each
#   (default 4), find the peak goodput (replies within QoS per second); then --multiples of that peak
#   (default 1,4) run --overload-duration s each (default 10), on the same server. Writes
#   <out>/ladder.json and <out>/overload.json (as `abacus stress --out` writes them), <out>/server.json
#   (the server's run summary), <out>/server.log and <out>/overload-summary.json: per multiple the offered
#   rate, goodput and its share of the peak, the share of accepted requests within QoS as the client and
#   as the server (its /metrics) count them, the client's own lag behind its schedule, the pinning, the
#   commands and provenance.
# --server-cpus LIST, --client-cpus LIST (or $SERVER_CPUS, $CLIENT_CPUS): pin the server and the load
#   client with taskset (e.g. 0-7 and 8-15), so that the client never runs on the server's cores; the
#   server's intra-op threads default to its cores / 2 models.
#
# Needs node only (and taskset to pin, coreutils' timeout): every step is `node <cli.js>`, the readiness
# probe is node's fetch; run from the project root or the bundled app ($APP of ../shared/gpu/pack.sh, with
# this script and data/predictor/cpu-tiny-2in4-mlp-all packed along). Environment: PORT (18931),
# MODELS_DIR (a temporary folder), CLIENT_CLI (dist/cli.js), PREDICTOR, SERVER_FLAGS (more serve flags),
# ALLOW_EXTRAPOLATION=0 (for a server older than the flag).
# Bounded: abacus stress caps the requests of a sweep (200,000) and each rate's duration (120 s); every
# node step is killed after 10 minutes.
set -euo pipefail
export STRESS_OVERLOAD_COMMAND="scripts/stress-overload.sh $*"
usage='usage: scripts/stress-overload.sh [--server-cpus LIST] [--client-cpus LIST] [--peak LADDER [--ladder-duration S] [--multiples M,...] [--overload-duration S]] <out-dir> [server-cli.js] [rates] [duration-s]'
server_cpus=${SERVER_CPUS:-}
client_cpus=${CLIENT_CPUS:-}
ladder=''
ladder_duration=4
multiples=1,4
overload_duration=10
positional=()
while [ $# -gt 0 ]; do
  case "$1" in
    --server-cpus) server_cpus=${2:?--server-cpus needs a CPU list (e.g. 0-7)}; shift 2 ;;
    --client-cpus) client_cpus=${2:?--client-cpus needs a CPU list (e.g. 8-15)}; shift 2 ;;
    --peak) ladder=${2:?--peak needs a list of rates}; shift 2 ;;
    --ladder-duration) ladder_duration=${2:?--ladder-duration needs seconds}; shift 2 ;;
    --multiples) multiples=${2:?--multiples needs a list (e.g. 1,4)}; shift 2 ;;
    --overload-duration) overload_duration=${2:?--overload-duration needs seconds}; shift 2 ;;
    -h|--help) echo "$usage"; exit 0 ;;
    --*) echo "stress-overload.sh: unknown option $1; $usage" >&2; exit 2 ;;
    *) positional+=("$1"); shift ;;
  esac
done
out=${positional[0]:?$usage}
server_cli=${positional[1]:-dist/cli.js}
rates=${positional[2]:-60,125,250,500,1000}
duration=${positional[3]:-8}
client_cli=${CLIENT_CLI:-dist/cli.js}
predictor=${PREDICTOR:-data/predictor/cpu-tiny-2in4-mlp-all}
models=${MODELS_DIR:-$(mktemp -d)/models}
port=${PORT:-18931}
qos=50
for f in "$server_cli" "$client_cli"; do [ -f "$f" ] || { echo "stress-overload.sh: $f not found (run from the project root after npm run build, or from the bundled app)" >&2; exit 2; }; done
[ -d "$predictor" ] || { echo "stress-overload.sh: predictor $predictor not found (set PREDICTOR, or pack it along)" >&2; exit 2; }
server_pin=()
client_pin=()
if [ -n "$server_cpus$client_cpus" ]; then
  command -v taskset >/dev/null || { echo "stress-overload.sh: pinning needs taskset (util-linux)" >&2; exit 2; }
  [ -n "$server_cpus" ] && server_pin=(taskset -c "$server_cpus")
  [ -n "$client_cpus" ] && client_pin=(taskset -c "$client_cpus")
fi
mkdir -p "$out"
node "$server_cli" zoo build resnet50 bert --scale tiny --models-dir "$models" >/dev/null
serve_args=(serve --listen "127.0.0.1:$port" --comb resnet50 bert --scale tiny --models-dir "$models" --policy abacus --qos "$qos" --predictor "$predictor" --batch-sizes 1 --seq-lens 8)
# a server from before the predictor's extrapolation check (a8f029c, data/serve/overload-2026-12-03) has no such flag
[ "${ALLOW_EXTRAPOLATION:-1}" = 1 ] && serve_args+=(--allow-extrapolation)
# shellcheck disable=SC2086 # SERVER_FLAGS is a list of flags
if [ -n "$ladder" ]; then
  ${server_pin[@]+"${server_pin[@]}"} timeout 600 node "$server_cli" "${serve_args[@]}" --json ${SERVER_FLAGS:-} >"$out/server.json" 2>"$out/server.log" &
else
  ${server_pin[@]+"${server_pin[@]}"} timeout 600 node "$server_cli" "${serve_args[@]}" ${SERVER_FLAGS:-} >"$out/server.out" 2>"$out/server.log" &
fi
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true' EXIT
ready=0
for _ in $(seq 1 300); do
  if node -e "fetch('http://127.0.0.1:$port/v2/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"; then ready=1; break; fi
  kill -0 $pid 2>/dev/null || break
  sleep 0.2
done
[ $ready = 1 ] || { echo "stress-overload.sh: the server did not become ready; see $out/server.log" >&2; exit 1; }
server_affinity=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$pid/status" 2>/dev/null || true)
stress=(${client_pin[@]+"${client_pin[@]}"} timeout 600 node "$client_cli" stress --url "http://127.0.0.1:$port" --attacks none --qos "$qos")
if [ -z "$ladder" ]; then
  "${stress[@]}" --sweep "$rates" --duration "$duration" --out "$out"
else
  started=$(date +%s)
  "${stress[@]}" --sweep "$ladder" --duration "$ladder_duration" --json >"$out/ladder.json"
  # the peak: the ladder's largest goodput; the overload rates: its multiples
  overload_rates=$(node -e "
    const s = JSON.parse(require('node:fs').readFileSync(process.argv[1], 'utf8'));
    const peak = Math.max(...s.sweep.map((p) => p.goodputQps));
    if (!(peak > 0)) { console.error('stress-overload.sh: no goodput on the ladder'); process.exit(1); }
    console.log(process.argv[2].split(',').map((m) => Math.max(1, Math.round(Number(m) * peak))).join(','));
  " "$out/ladder.json" "$multiples")
  "${stress[@]}" --sweep "$overload_rates" --duration "$overload_duration" --json >"$out/overload.json"
  ended=$(date +%s)
fi
kill -TERM $pid
wait $pid || true
trap - EXIT
[ -z "$ladder" ] && exit 0
client_root=$(cd "$(dirname "$client_cli")/.." && pwd)
${client_pin[@]+"${client_pin[@]}"} node --input-type=module -e "
  import { readFileSync, writeFileSync } from 'node:fs';
  import { availableParallelism } from 'node:os';
  const [dir, root, multiples, serverCpus, clientCpus, serverAffinity, settingsText] = process.argv.slice(1);
  const { collectProvenance } = await import(root + '/dist/common/provenance.js');
  const read = (f) => JSON.parse(readFileSync(dir + '/' + f, 'utf8'));
  const ladder = read('ladder.json');
  const overload = read('overload.json');
  let server = null;
  try { server = read('server.json'); } catch { /* the server printed no summary: see server.log */ }
  const peak = ladder.sweep.reduce((a, p) => (p.goodputQps > a.goodputQps ? p : a));
  const row = (p) => ({
    offeredQps: p.rateQps, sent: p.sent, ok: p.ok, late: p.late, rejected: p.rejected, failed: p.failed,
    goodputQps: p.goodputQps, goodputOfPeak: p.goodputQps / peak.goodputQps,
    acceptedWithinQos: { client: p.acceptedWithinQos, server: p.server ? p.server.acceptedWithinQos : null },
    p99AcceptedMs: p.p99AcceptedMs, clientSendLagMs: p.clientSendLagMs ?? null,
  });
  const own = (/^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync('/proc/self/status', 'utf8')) ?? [])[1] ?? null;
  const record = {
    what: 'goodput and the share of accepted requests within QoS, client- and server-side, at the peak goodput of a ladder of offered rates and at multiples of it',
    settings: {
      ...JSON.parse(settingsText),
      pinning: { serverCpus: serverCpus || null, clientCpus: clientCpus || null, serverAllowed: serverAffinity || null, clientAllowed: own, clientAvailableParallelism: availableParallelism() },
    },
    // the peak may lie above the ladder when it is at the top rung and still grew by more than 5 % from the rung below
    peak: { goodputQps: peak.goodputQps, atOfferedQps: peak.rateQps, mayBeHigher: peak === ladder.sweep[ladder.sweep.length - 1] && (ladder.sweep.length < 2 || peak.goodputQps > 1.05 * ladder.sweep[ladder.sweep.length - 2].goodputQps) },
    ladder: ladder.sweep.map(row),
    points: overload.sweep.map((p, i) => ({ multiple: Number(multiples.split(',')[i]), ...row(p) })),
    server,
    provenance: { summary: collectProvenance({ command: process.env.STRESS_OVERLOAD_COMMAND }), client: { ladder: ladder.provenance, overload: overload.provenance } },
  };
  writeFileSync(dir + '/overload-summary.json', JSON.stringify(record, null, 2) + '\n');
  const pct = (x) => (x === null || x === undefined ? '-' : (100 * x).toFixed(1) + ' %');
  console.log('peak goodput ' + peak.goodputQps.toFixed(1) + '/s at ' + peak.rateQps + '/s offered' + (record.peak.mayBeHigher ? ' (still rising at the top of the ladder: the peak may be higher)' : ''));
  for (const p of record.points) console.log(p.multiple + 'x: offered ' + p.offeredQps + '/s, goodput ' + p.goodputQps.toFixed(1) + '/s (' + pct(p.goodputOfPeak) + ' of peak), accepted within QoS ' + pct(p.acceptedWithinQos.client) + ' client / ' + pct(p.acceptedWithinQos.server) + ' server, client lag p99 ' + (p.clientSendLagMs ? p.clientSendLagMs.p99.toFixed(1) : '-') + ' ms');
" "$out" "$client_root" "$multiples" "$server_cpus" "$client_cpus" "$server_affinity" "$(node -e "console.log(JSON.stringify({
    models: ['resnet50', 'bert'], scale: 'tiny', loadOn: 'resnet50', policy: 'abacus', qosMs: $qos, batch: 1, predictor: process.argv[1], allowExtrapolation: '${ALLOW_EXTRAPOLATION:-1}' === '1',
    serverFlags: process.argv[2] || null, ladder: process.argv[3].split(',').map(Number), ladderDurationS: Number(process.argv[4]),
    multiples: process.argv[5].split(',').map(Number), overloadDurationS: Number(process.argv[6]), wallS: Number(process.argv[7]),
  }))" "$predictor" "${SERVER_FLAGS:-}" "$ladder" "$ladder_duration" "$multiples" "$overload_duration" "$((ended - started))")"
