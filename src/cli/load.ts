/**
 * `abacus load`: a perf_analyzer-class client for an Open Inference Protocol server (`abacus serve
 * --listen`, `abacus balance`, any KServe v2 / Triton server), over HTTP/REST or gRPC. Open loop: Poisson
 * (or constant) arrivals at --rate for --duration, or a trace; every request recorded, the summary in
 * `abacus serve`'s shape. Measured sweeps (src/serve/perf.ts): closed-loop --concurrency-range or
 * open-loop --request-rate-range, each level measured in windows until stable. Each run ends with an
 * MLPerf-style verdict (VALID/INVALID: min duration, min queries, latency bound). Inputs: seeded random
 * values, or --input-data in perf_analyzer's JSON layout.
 */
import { Command, InvalidArgumentError, Option } from '@commander-js/extra-typings';
import { join } from 'node:path';
import { InputError, errorMessage } from '../common/errors.js';
import { ensureDir, writeFileAtomic, writeJsonAtomic } from '../common/fsutil.js';
import { startProgress } from '../common/progress.js';
import { collectProvenance } from '../common/provenance.js';
import { Rng } from '../common/rng.js';
import { DEFAULT_BATCH_SIZES, DEFAULT_SEQ_LENS } from '../zoo/catalog.js';
import { generateTrace, qosFor, readTraceCsv, type QosSpec, type ServiceSpec, type TraceQuery } from '../controller/index.js';
import { fetchJson, listModels, modelMetadata, parseServerUrl, urlFor, type RemoteModel } from '../serve/client.js';
import { formatLoadCsv, PayloadSource, runLoad } from '../serve/load.js';
import { readInputData } from '../serve/inputdata.js';
import { formatPerfCsv, measureLevel, parseRange, verdictOf, type LevelResult, type LoadLevel, type Verdict, type VerdictRules } from '../serve/perf.js';
import { grpcListModels, grpcModelMetadata, grpcTransport, httpTransport, parseGrpcTarget, type InferPayload, type InferTransport } from '../serve/transport.js';
import { AUTH_TOKEN_ENV } from '../serve/auth.js';
import { action, modelRefs, parseIntList, parseIntOption, parseNumberOption, parseQosOption, printJson, requireQueries } from './shared.js';
import { summaryTable } from './serve.js';

/** The queries of `duration` seconds of arrivals at `rate` (Poisson or constant), drawn as `abacus serve` draws them. */
export function timedTrace(services: ServiceSpec[], rate: number, durationS: number, opts: { seed: number; qos: QosSpec; arrivals: 'poisson' | 'constant'; batchSizes: number[]; seqLens: number[] }, maxRequests: number): TraceQuery[] {
  const expected = rate * durationS;
  const queries = Math.ceil(expected + 6 * Math.sqrt(expected) + 10);
  if (queries > maxRequests * 2) throw new InputError(`--rate ${rate} for ${durationS} s is about ${Math.round(expected)} requests, over --max-requests ${maxRequests}`);
  const trace = generateTrace({ services, loadQps: rate, queries, seed: opts.seed, qos: opts.qos, arrivals: opts.arrivals, batchSizes: opts.batchSizes, seqLens: opts.seqLens }).filter((q) => q.arrivalMs < durationS * 1000);
  if (trace.length > maxRequests) throw new InputError(`the schedule holds ${trace.length} requests, over --max-requests ${maxRequests}`);
  return trace;
}

/** Progress on stderr: a bar on a TTY, else a line every few seconds. */
function progressLines(label: string, total: number): { update(done: number): void; stop(): void } {
  if (process.stderr.isTTY === true) {
    const bar = startProgress(label, total);
    return { update: (d) => bar.update(d), stop: () => bar.stop() };
  }
  let last = Date.now();
  let done = 0;
  return {
    update(d) {
      done = d;
      if (Date.now() - last >= 5000) {
        last = Date.now();
        process.stderr.write(`${label}: ${d}/${total} requests done\n`);
      }
    },
    stop() {
      process.stderr.write(`${label}: ${done}/${total} requests done\n`);
    },
  };
}

function verdictLines(v: Verdict): string[] {
  return [`Result is: ${v.result}`, ...v.reasons.map((r) => `  ${r}`)];
}

/** The model, shape and QoS of a measured level's k-th request: models in turn, sizes drawn (seeded). */
function requestPicker(services: ServiceSpec[], qos: QosSpec, batchSizes: number[], seqLens: number[], seed: number): (k: number) => { model: string; batch: number; seq: number; qosMs: number } {
  const rng = new Rng(seed);
  return (k) => {
    const s = services[k % services.length] as ServiceSpec;
    return { model: s.name, batch: rng.pick(batchSizes), seq: s.hasSeq ? rng.pick(seqLens) : 0, qosMs: qosFor(qos, s.name) };
  };
}

function rangeOption(what: string, integer: boolean): (text: string) => number[] {
  return (text) => {
    try {
      return parseRange(text, what, integer);
    } catch (err) {
      throw new InvalidArgumentError(errorMessage(err));
    }
  };
}

/** `--header name:value` (repeatable, perf_analyzer's -H): an extra HTTP header / gRPC metadata entry of every call. */
function headerOption(text: string, previous: Record<string, string> = {}): Record<string, string> {
  const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):\s*(.*)$/.exec(text);
  if (!m) throw new InvalidArgumentError(`--header must be <name>:<value>, got '${text}'`);
  const name = (m[1] as string).toLowerCase();
  if (['content-type', 'content-length', 'host', 'te', 'connection', 'inference-header-content-length'].includes(name)) throw new InvalidArgumentError(`--header cannot set '${name}' (the client sets it)`);
  return { ...previous, [name]: m[2] as string };
}

export function loadCommand(): Command {
  return new Command('load')
    .description('load an Open Inference Protocol server like perf_analyzer: open loop (--rate/--duration, --trace), closed-loop --concurrency-range or --request-rate-range sweeps measured until stable; every request recorded; an MLPerf-style VALID/INVALID verdict')
    .requiredOption('--url <url>', 'the server: http://127.0.0.1:8000 (HTTP), or host:port of its gRPC port with --protocol grpc')
    .addOption(new Option('--protocol <p>', 'how requests go').choices(['http', 'grpc'] as const).default('http' as const))
    .option('--rate <qps>', 'arrival rate over all models, requests/s', parseNumberOption('--rate', 0.001))
    .option('--duration <s>', 'seconds of arrivals at --rate', parseNumberOption('--duration', 0.001))
    .option('--trace <csv>', 'send a trace instead (arrival_ms,model,batch,seq,qos_ms)')
    .option('--concurrency-range <start:end:step>', 'closed loop: N requests always outstanding, for each N of the range, each measured until stable', rangeOption('--concurrency-range', true))
    .option('--request-rate-range <start:end:step>', 'open loop: requests/s for each rate of the range, each measured until stable', rangeOption('--request-rate-range', false))
    .option('--measurement-interval <ms>', 'length of a measurement window (sweeps)', parseNumberOption('--measurement-interval', 10), 5000)
    .option('--stability-percentage <pct>', 'stable when max/min of throughput and of latency over the last 3 windows is within this', parseNumberOption('--stability-percentage', 0), 10)
    .option('--max-trials <n>', 'most windows per level before giving up on stability', parseIntOption('--max-trials', 3), 10)
    .option('--percentile <p>', 'stabilise on pN latency (50, 90, 95, 99) instead of the average; the verdict\'s tail percentile too', parseIntOption('--percentile', 1))
    .option('--latency-bound <ms>', "the verdict's bound on the tail latency (default: the smallest QoS of the models loaded)", parseNumberOption('--latency-bound', 0.001))
    .option('--min-duration <s>', "the verdict's minimum measured duration (MLPerf: 600)", parseNumberOption('--min-duration', 0), 10)
    .option('--min-query-count <n>', "the verdict's minimum measured queries (MLPerf server, p99: 270336)", parseIntOption('--min-query-count', 0), 1000)
    .option('--input-data <json>', "real inputs in perf_analyzer's JSON layout ({\"data\": [{<input>: [...]}, ...]}; one model)")
    .option('--models <list...>', 'models to load (default: every model the server lists)')
    .option('--qos <spec>', "QoS in ms for every request ('50') or per model ('resnet50=50,bert=30'); default: the server's per-model default", parseQosOption('--qos'))
    .addOption(new Option('--arrivals <kind>', 'arrival process for --rate and --request-rate-range').choices(['poisson', 'constant'] as const).default('poisson' as const))
    .option('--batch-sizes <list>', 'batch sizes drawn per request', parseIntList('--batch-sizes'), [...DEFAULT_BATCH_SIZES])
    .option('--seq-lens <list>', 'BERT sequence lengths drawn per request', parseIntList('--seq-lens'), [...DEFAULT_SEQ_LENS])
    .option('--seed <n>', 'seed of the schedule and the input values', parseIntOption('--seed'), 0)
    .option('--timeout <ms>', 'a request without a reply after this long fails', parseNumberOption('--timeout', 1), 30_000)
    .option('--warmup <s>', 'leave the requests sent in the first seconds out of the summary (--rate, --trace)', parseNumberOption('--warmup', 0), 0)
    .option('--step <s>', 'also report throughput, p99, mean and violations per step of this many seconds', parseNumberOption('--step', 0.001))
    .option('--json-tensors', 'send tensors as JSON numbers (HTTP; default: binary tensor data)')
    .option('--max-requests <n>', 'refuse schedules with more requests than this', parseIntOption('--max-requests', 1), 1_000_000)
    .option('--auth-token <token>', 'bearer token of a server started with --auth-token (default: $ABACUS_AUTH_TOKEN)')
    .option('--header <name:value>', 'an extra header (HTTP) / metadata entry (gRPC) of every call; repeatable', headerOption)
    .option('--out <dir>', 'folder for requests.csv and summary.json (sweeps: perf.csv too, perf_analyzer columns)')
    .option('--json', 'print one JSON object on stdout')
    .action(
      action(async (opts) => {
        const timed = opts.rate !== undefined || opts.duration !== undefined;
        const modes = [timed, opts.trace !== undefined, opts.concurrencyRange !== undefined, opts.requestRateRange !== undefined].filter(Boolean).length;
        if (modes !== 1) throw new InputError('give one of: --rate with --duration, --trace, --concurrency-range, --request-rate-range');
        if (timed && (opts.rate === undefined || opts.duration === undefined)) throw new InputError('--rate and --duration go together');
        if (opts.percentile !== undefined && ![50, 90, 95, 99].includes(opts.percentile)) throw new InputError(`--percentile must be 50, 90, 95 or 99, got ${opts.percentile}`);
        if (opts.protocol === 'grpc' && opts.jsonTensors) throw new InputError('--json-tensors is for --protocol http');
        const grpc = opts.protocol === 'grpc';
        const target = grpc ? parseGrpcTarget(opts.url) : null;
        const url = grpc ? new URL(`grpc://${target as string}`) : parseServerUrl(opts.url);
        const token = opts.authToken ?? process.env[AUTH_TOKEN_ENV];
        // every call carries them: the infer requests, and the model listing, metadata and status
        const headers: Record<string, string> = { ...opts.header, ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) };
        const transport: InferTransport = grpc ? grpcTransport(target as string, headers) : httpTransport(url, { jsonTensors: opts.jsonTensors === true, headers });
        try {
          let names: string[];
          try {
            names = opts.models ? modelRefs(opts.models) : grpc ? await grpcListModels(target as string, 10_000, headers) : await listModels(url, 10_000, headers);
          } catch (err) {
            throw new InputError(`cannot list the models of ${url.href}: ${errorMessage(err)}`, { cause: err });
          }
          if (names.length === 0) throw new InputError(`${url.href} serves no models`);
          const models = new Map<string, RemoteModel>();
          for (const [i, name] of names.entries()) {
            try {
              models.set(name, grpc ? await grpcModelMetadata((transport as ReturnType<typeof grpcTransport>).client, name, i, 10_000, headers) : await modelMetadata(url, name, i, 10_000, headers));
            } catch (err) {
              throw new InputError(`model '${name}': ${errorMessage(err)}`, { cause: err });
            }
          }
          const services: ServiceSpec[] = [...models.values()].map((m) => ({ name: m.name, modelId: m.modelId, hasSeq: m.hasSeq }));
          let qos: QosSpec;
          if (opts.qos !== undefined) qos = opts.qos;
          else {
            const perModel: Record<string, number> = {};
            for (const m of models.values()) {
              if (m.qosMs === null) throw new InputError(`the server gives no default QoS for '${m.name}': pass --qos`);
              perModel[m.name] = m.qosMs;
            }
            qos = perModel;
          }
          for (const s of services) qosFor(qos, s.name);
          let inputData: Map<string, InferPayload[]> | undefined;
          if (opts.inputData !== undefined) {
            if (models.size !== 1) throw new InputError(`--input-data is for one model; ${models.size} are loaded (${names.join(', ')}): pass --models`);
            const [m] = [...models.values()] as [RemoteModel];
            inputData = new Map([[m.name, readInputData(opts.inputData, m)]]);
          }
          const rules: VerdictRules = {
            minDurationS: opts.minDuration,
            minQueries: opts.minQueryCount,
            latencyBoundMs: opts.latencyBound ?? Math.min(...services.map((s) => qosFor(qos, s.name))),
            boundPercentile: opts.percentile ?? 99,
          };
          let policy = 'unknown';
          if (!grpc) {
            try {
              const status = (await fetchJson(urlFor(url, '/v2/abacus/status'), { timeoutMs: 5000, headers })) as { policy?: unknown };
              if (typeof status.policy === 'string') policy = status.policy;
            } catch {
              // not an abacus server: the summary says 'unknown'
            }
          }
          const provenance = collectProvenance({ seed: opts.seed });
          const range = opts.concurrencyRange ?? opts.requestRateRange;
          if (range) {
            const levels: LoadLevel[] = opts.concurrencyRange
              ? opts.concurrencyRange.map((c) => ({ mode: 'concurrency' as const, concurrency: c }))
              : range.map((r) => ({ mode: 'rate' as const, rateQps: r, arrivals: opts.arrivals }));
            const results: LevelResult[] = [];
            const payloads = new PayloadSource(models, opts.seed, inputData);
            for (const [i, level] of levels.entries()) {
              const label = level.mode === 'concurrency' ? `concurrency ${level.concurrency}` : `request rate ${level.rateQps}/s`;
              process.stderr.write(`abacus load: ${label} (${i + 1}/${levels.length}) on ${url.href} over ${transport.protocol}, windows of ${opts.measurementInterval} ms\n`);
              results.push(await measureLevel(level, {
                transport, models, payloads, pick: requestPicker(services, qos, opts.batchSizes, opts.seqLens, opts.seed + i), windowMs: opts.measurementInterval,
                stabilityPct: opts.stabilityPercentage, maxTrials: opts.maxTrials, timeoutMs: opts.timeout, seed: opts.seed + i, verdict: rules,
                ...(opts.percentile !== undefined ? { percentile: opts.percentile } : {}),
                onWindow: (_l, w, stable) => process.stderr.write(`abacus load:   window ${w.trial}: ${w.throughputQps.toFixed(1)} infer/s, avg ${w.avgMs?.toFixed(2) ?? '-'} ms, p99 ${w.p99Ms?.toFixed(2) ?? '-'} ms, ${w.rejected + w.failed} not answered${stable ? ' (stable)' : ''}\n`),
              }));
            }
            const levelsOut = results.map(({ records: _r, ...rest }) => ({ ...rest, requests: _r.length }));
            if (opts.out) {
              ensureDir(opts.out);
              writeFileAtomic(join(opts.out, 'perf.csv'), formatPerfCsv(results));
              writeFileAtomic(join(opts.out, 'requests.csv'), formatLoadCsv(results.flatMap((r) => r.records)));
              writeJsonAtomic(join(opts.out, 'summary.json'), { target: url.href, protocol: transport.protocol, policy, rules, levels: levelsOut, provenance });
            }
            if (opts.json) printJson({ target: url.href, protocol: transport.protocol, policy, rules, levels: levelsOut });
            else {
              const f = (v: number | null): string => (v === null ? '-' : v.toFixed(2));
              console.log(`${levels[0]?.mode === 'rate' ? 'rate/s' : 'concurrency'}  infer/s   avg ms   p50 ms   p90 ms   p95 ms   p99 ms  requests  not-answered  stable  verdict`);
              for (const r of results) {
                const m = r.measured;
                console.log(`${String(r.value).padStart(11)}${m.throughputQps.toFixed(1).padStart(9)}${f(m.avgMs).padStart(9)}${f(m.p50Ms).padStart(9)}${f(m.p90Ms).padStart(9)}${f(m.p95Ms).padStart(9)}${f(m.p99Ms).padStart(9)}${String(r.records.length).padStart(10)}${String(r.records.filter((x) => x.outcome === 'rejected' || x.outcome === 'failed').length).padStart(14)}${String(r.stable).padStart(8)}  ${r.verdict.result}`);
              }
              for (const r of results) if (r.verdict.result === 'INVALID') console.log(`${r.value}: ${r.verdict.reasons.join('; ')}`);
            }
            return;
          }
          const trace = opts.trace
            ? readTraceCsv(opts.trace, services, { qos, rebase: true })
            : timedTrace(services, opts.rate as number, opts.duration as number, { seed: opts.seed, qos, arrivals: opts.arrivals, batchSizes: opts.batchSizes, seqLens: opts.seqLens }, opts.maxRequests);
          if (opts.trace) requireQueries(opts.trace, trace);
          if (trace.length > opts.maxRequests) throw new InputError(`the trace holds ${trace.length} requests, over --max-requests ${opts.maxRequests}`);
          process.stderr.write(`abacus load: ${trace.length} requests to ${url.href} over ${transport.protocol} (${names.join(', ')})\n`);
          const progress = progressLines('abacus load', trace.length);
          const { records, summary } = await runLoad({
            url, transport, trace, models, timeoutMs: opts.timeout, seed: opts.seed, warmupS: opts.warmup, policy,
            ...(inputData ? { inputData } : {}),
            ...(opts.step !== undefined ? { stepS: opts.step } : {}),
            onProgress: (done) => progress.update(done),
          });
          progress.stop();
          const measured = records.filter((r) => r.sentMs >= opts.warmup * 1000);
          const spanS = measured.length > 0 ? (Math.max(...measured.map((r) => r.finishMs)) - Math.min(...measured.map((r) => r.sentMs))) / 1000 : 0;
          const verdict = verdictOf(measured, spanS, rules, null);
          if (opts.out) {
            ensureDir(opts.out);
            writeFileAtomic(join(opts.out, 'requests.csv'), formatLoadCsv(records));
            writeJsonAtomic(join(opts.out, 'summary.json'), { ...summary, protocol: transport.protocol, verdict, provenance });
          }
          if (opts.json) printJson({ ...summary, protocol: transport.protocol, verdict });
          else {
            console.log(summaryTable([summary]));
            console.log(`sent ${summary.sent} (${summary.offeredQps.toFixed(1)}/s offered), rejected ${summary.rejected}, throughput ${summary.throughputQps.toFixed(1)}/s, server p99 ${summary.serverP99Ms?.toFixed(1) ?? '-'} ms`);
            for (const e of summary.errors) console.log(`  ${e.count}× ${e.message}`);
            for (const line of verdictLines(verdict)) console.log(line);
          }
        } finally {
          transport.close();
        }
      }),
    );
}
