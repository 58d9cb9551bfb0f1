/**
 * `abacus load`: an open-loop Poisson (or trace-driven) client for an Open Inference Protocol server
 * (`abacus serve --listen`, `abacus balance`); records every request's latency and outcome and prints the
 * summary in `abacus serve`'s shape.
 */
import { Command, Option } from '@commander-js/extra-typings';
import { join } from 'node:path';
import { InputError, errorMessage } from '../common/errors.js';
import { ensureDir, writeFileAtomic, writeJsonAtomic } from '../common/fsutil.js';
import { collectProvenance } from '../common/provenance.js';
import { DEFAULT_BATCH_SIZES, DEFAULT_SEQ_LENS } from '../zoo/catalog.js';
import { generateTrace, parseQosSpec, qosFor, readTraceCsv, type QosSpec, type ServiceSpec, type TraceQuery } from '../controller/index.js';
import { fetchJson, listModels, modelMetadata, parseServerUrl, urlFor, type RemoteModel } from '../serve/client.js';
import { formatLoadCsv, runLoad } from '../serve/load.js';
import { AUTH_TOKEN_ENV } from '../serve/auth.js';
import { action, modelRefs, parseIntList, parseIntOption, parseNumberOption, printJson } from './shared.js';
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

export function loadCommand(): Command {
  return new Command('load')
    .description('open-loop load on an Open Inference Protocol server (Poisson at --rate for --duration, or --trace): every request recorded, summary as abacus serve prints it')
    .requiredOption('--url <url>', 'the server, e.g. http://127.0.0.1:8000 (abacus serve --listen, abacus balance)')
    .option('--rate <qps>', 'arrival rate over all models, requests/s', parseNumberOption('--rate', 0.001))
    .option('--duration <s>', 'seconds of arrivals at --rate', parseNumberOption('--duration', 0.001))
    .option('--trace <csv>', 'send a trace instead (arrival_ms,model,batch,seq,qos_ms)')
    .option('--models <list...>', 'models to load (default: every model the server lists)')
    .option('--qos <spec>', "QoS in ms for every request ('50') or per model ('resnet50=50,bert=30'); default: the server's per-model default")
    .addOption(new Option('--arrivals <kind>', 'arrival process for --rate').choices(['poisson', 'constant'] as const).default('poisson' as const))
    .option('--batch-sizes <list>', 'batch sizes drawn per request', parseIntList('--batch-sizes'), [...DEFAULT_BATCH_SIZES])
    .option('--seq-lens <list>', 'BERT sequence lengths drawn per request', parseIntList('--seq-lens'), [...DEFAULT_SEQ_LENS])
    .option('--seed <n>', 'seed of the schedule and the input values', parseIntOption('--seed'), 0)
    .option('--timeout <ms>', 'a request without a reply after this long fails', parseNumberOption('--timeout', 1), 30_000)
    .option('--warmup <s>', 'leave the requests sent in the first seconds out of the summary', parseNumberOption('--warmup', 0), 0)
    .option('--step <s>', 'also report throughput, p99, mean and violations per step of this many seconds', parseNumberOption('--step', 0.001))
    .option('--json-tensors', 'send tensors as JSON numbers (default: binary tensor data)')
    .option('--max-requests <n>', 'refuse schedules with more requests than this', parseIntOption('--max-requests', 1), 1_000_000)
    .option('--auth-token <token>', 'bearer token of a server started with --auth-token (default: $ABACUS_AUTH_TOKEN)')
    .option('--out <dir>', 'folder for requests.csv and summary.json')
    .option('--json', 'print one JSON object on stdout')
    .action(
      action(async (opts) => {
        const timed = opts.rate !== undefined || opts.duration !== undefined;
        if (timed && opts.trace) throw new InputError('give either --rate with --duration, or --trace');
        if (!timed && !opts.trace) throw new InputError('give --rate with --duration, or --trace');
        if (timed && (opts.rate === undefined || opts.duration === undefined)) throw new InputError('--rate and --duration go together');
        const url = parseServerUrl(opts.url);
        const token = opts.authToken ?? process.env[AUTH_TOKEN_ENV];
        const auth: Record<string, string> = token !== undefined ? { authorization: `Bearer ${token}` } : {};
        let names: string[];
        try {
          names = opts.models ? modelRefs(opts.models) : await listModels(url, 10_000, auth);
        } catch (err) {
          throw new InputError(`cannot list the models of ${url.href}: ${errorMessage(err)}`, { cause: err });
        }
        if (names.length === 0) throw new InputError(`${url.href} serves no models`);
        const models = new Map<string, RemoteModel>();
        for (const [i, name] of names.entries()) {
          try {
            models.set(name, await modelMetadata(url, name, i, 10_000, auth));
          } catch (err) {
            throw new InputError(`model '${name}': ${errorMessage(err)}`, { cause: err });
          }
        }
        const services: ServiceSpec[] = [...models.values()].map((m) => ({ name: m.name, modelId: m.modelId, hasSeq: m.hasSeq }));
        let qos: QosSpec;
        if (opts.qos !== undefined) qos = parseQosSpec(opts.qos);
        else {
          const perModel: Record<string, number> = {};
          for (const m of models.values()) {
            if (m.qosMs === null) throw new InputError(`the server gives no default QoS for '${m.name}': pass --qos`);
            perModel[m.name] = m.qosMs;
          }
          qos = perModel;
        }
        for (const s of services) qosFor(qos, s.name);
        const trace = opts.trace
          ? readTraceCsv(opts.trace, services, { qos, rebase: true })
          : timedTrace(services, opts.rate as number, opts.duration as number, { seed: opts.seed, qos, arrivals: opts.arrivals, batchSizes: opts.batchSizes, seqLens: opts.seqLens }, opts.maxRequests);
        if (trace.length > opts.maxRequests) throw new InputError(`the trace holds ${trace.length} requests, over --max-requests ${opts.maxRequests}`);
        let policy = 'unknown';
        try {
          const status = (await fetchJson(urlFor(url, '/v2/abacus/status'), { timeoutMs: 5000, headers: auth })) as { policy?: unknown };
          if (typeof status.policy === 'string') policy = status.policy;
        } catch {
          // not an abacus server: the summary says 'unknown'
        }
        const provenance = collectProvenance({ seed: opts.seed });
        process.stderr.write(`abacus load: ${trace.length} requests to ${url.href} (${names.join(', ')})\n`);
        const { records, summary } = await runLoad({
          url, trace, models, timeoutMs: opts.timeout, seed: opts.seed, jsonTensors: opts.jsonTensors === true, warmupS: opts.warmup, policy, headers: auth,
          ...(opts.step !== undefined ? { stepS: opts.step } : {}),
        });
        if (opts.out) {
          ensureDir(opts.out);
          writeFileAtomic(join(opts.out, 'requests.csv'), formatLoadCsv(records));
          writeJsonAtomic(join(opts.out, 'summary.json'), { ...summary, provenance });
        }
        if (opts.json) printJson(summary);
        else {
          console.log(summaryTable([summary]));
          console.log(`sent ${summary.sent} (${summary.offeredQps.toFixed(1)}/s offered), rejected ${summary.rejected}, throughput ${summary.throughputQps.toFixed(1)}/s, server p99 ${summary.serverP99Ms?.toFixed(1) ?? '-'} ms`);
          for (const e of summary.errors) console.log(`  ${e.count}× ${e.message}`);
        }
      }),
    );
}
