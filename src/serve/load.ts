/**
 * `abacus load`: an open-loop client for an Open Inference Protocol server (`abacus serve --listen`,
 * `abacus balance`, or any KServe v2 server), over HTTP/REST or gRPC (src/serve/transport.ts). Requests
 * are sent at the trace's times whatever the replies do (Poisson at a rate, or a trace CSV), each with
 * its QoS as the `qos_ms` parameter and its input as binary tensor data: seeded random values, or the
 * entries of an input-data file (src/serve/inputdata.ts) in turn. Closed-loop concurrency and
 * measurement windows are src/serve/perf.ts. Every request is recorded:
 *
 * - latency: from the request's *scheduled* send time to the end of its reply (the MLPerf definition: a
 *   client that falls behind its schedule is charged for it), on this process's monotonic clock;
 * - outcome: `ok` (answered within its QoS), `late` (answered beyond it), `rejected` (429 /
 *   RESOURCE_EXHAUSTED: the server could not meet the QoS, at admission or later), `failed` (anything
 *   else: another status, a network error, no reply within the timeout).
 *
 * The summary has the shape of `abacus serve`'s (`summarizeRun`): rejected requests count as dropped,
 * so violations = (late + rejected + failed) / sent. `stepS` adds the same numbers per time step, each
 * request counted in the step it was *scheduled* in.
 */
import { performance } from 'node:perf_hooks';
import type { Agent } from 'node:http';
import { errorMessage } from '../common/errors.js';
import { Rng } from '../common/rng.js';
import { mean, percentileSorted, sortedCopy } from '../common/stats.js';
import { summarizeRun, type QueryLogRow, type RunSummary, type TraceQuery } from '../controller/index.js';
import type { RemoteModel } from './client.js';
import { httpTransport, type InferPayload, type InferTransport } from './transport.js';

export type LoadOutcome = 'ok' | 'late' | 'rejected' | 'failed';

export interface LoadRecord {
  id: string;
  model: string;
  batch: number;
  seq: number;
  qosMs: number;
  /** Scheduled send time, ms from the start of the run. */
  sentMs: number;
  /** End of the reply (or of the failure), ms from the start. */
  finishMs: number;
  /** finishMs - sentMs for answered (ok/late) requests, else null. */
  latencyMs: number | null;
  outcome: LoadOutcome;
  /** HTTP status (0: no reply, or gRPC). */
  httpStatus: number;
  /** gRPC status code (null: HTTP). */
  grpcCode: number | null;
  /** The server's own timings (ok/late only). */
  serverTotalMs: number | null;
  serverQueueMs: number | null;
  error: string | null;
}

/** The numbers of one time step (requests by scheduled send time). */
export interface LoadStep {
  step: number;
  startS: number;
  sent: number;
  ok: number;
  late: number;
  rejected: number;
  failed: number;
  /** (ok + late) / step duration. */
  throughputQps: number;
  goodputQps: number;
  p99Ms: number | null;
  meanMs: number | null;
  violationRatio: number;
}

/** Fields of `RunSummary` only a server knows (its decisions and groups): not in a client's summary. */
type ServerOnlyFields = 'policy' | 'ways' | 'thldMs' | 'abandon' | 'decisions' | 'plansReused' | 'decisionP50Us' | 'decisionP99Us' | 'reactionP50Us' | 'reactionP99Us' | 'groups' | 'searchStepsMean' | 'searchStepsMax';

/** `abacus serve`'s summary, as a client measures it, plus the client's own counts. */
export type LoadSummary = Omit<RunSummary, ServerOnlyFields> & {
  /** The server's policy as it reports it (its status endpoint), or 'unknown'. */
  policy: string;
  target: string;
  sent: number;
  rejected: number;
  /** Requests sent per second of schedule. */
  offeredQps: number;
  /** Requests excluded as warm-up (sent in the first `warmupS`). */
  warmup: number;
  /** p99 of the servers' own total time (ok/late). */
  serverP99Ms: number | null;
  /** The most frequent failure messages. */
  errors: { message: string; count: number }[];
  steps?: LoadStep[];
};

export interface LoadOptions {
  /** Server base URL (HTTP), or the gRPC target as a URL (grpc://host:port) for the summary. */
  url: URL;
  /** How requests go (default: HTTP/REST to `url`). */
  transport?: InferTransport;
  /** Input tensors by model, taken in turn (default: seeded random values of the query's shape). */
  inputData?: ReadonlyMap<string, readonly InferPayload[]>;
  /** What to send, when (arrivalMs from the start), with which QoS. */
  trace: readonly TraceQuery[];
  /** Metadata of the models the trace uses. */
  models: ReadonlyMap<string, RemoteModel>;
  /** A request without a reply after this long fails (default 30 s). */
  timeoutMs?: number;
  /** Seed of the input values. */
  seed?: number;
  /** Send tensors as JSON numbers instead of binary data. */
  jsonTensors?: boolean;
  /** Leave out of the summary the requests sent in the first seconds. */
  warmupS?: number;
  /** Add per-step numbers of this many seconds. */
  stepS?: number;
  /** The server's policy, for the summary's label. */
  policy?: string;
  /** Most requests in flight at once (default 2048); a request beyond it fails at once, counted. */
  maxInFlight?: number;
  onProgress?: (done: number, total: number) => void;
  agent?: Agent;
  /** Sent with every request of the default HTTP transport (e.g. `authorization`); a given `transport` has its own. */
  headers?: Readonly<Record<string, string>>;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** Random input tensors for a (model, batch, seq), made once per shape. */
export class RandomPayloads {
  private readonly cache = new Map<string, InferPayload>();
  constructor(private readonly models: ReadonlyMap<string, RemoteModel>, private readonly seed: number) {}

  get(model: string, batch: number, seq: number): InferPayload {
    const key = `${model}/${batch}/${seq}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const m = this.models.get(model);
    if (!m) throw new Error(`no metadata for model '${model}'`);
    const rng = new Rng(this.seed + this.cache.size * 7919);
    const tensors = m.inputs.map((input) => {
      const shape = input.shape.map((d, i) => {
        if (d >= 0) return d;
        const name = input.dims[i];
        return name === 'seq' ? seq : batch;
      });
      const count = shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = rng.next() * 2 - 1;
      if (input.datatype !== 'FP32') throw new Error(`model '${model}' input '${input.name}' is ${input.datatype}; the load client sends FP32`);
      return { name: input.name, datatype: 'FP32', shape, bytes: Buffer.from(data.buffer), values: Array.from(data) };
    });
    const made = { batch, seq, tensors };
    this.cache.set(key, made);
    return made;
  }
}

/** What one request sends: the next input-data entry of its model, or random values of its shape. */
export class PayloadSource {
  private readonly random: RandomPayloads;
  private readonly next = new Map<string, number>();
  constructor(models: ReadonlyMap<string, RemoteModel>, seed: number, private readonly data?: ReadonlyMap<string, readonly InferPayload[]>) {
    this.random = new RandomPayloads(models, seed);
  }

  get(model: string, batch: number, seq: number): InferPayload {
    const list = this.data?.get(model);
    if (!list || list.length === 0) return this.random.get(model, batch, seq);
    const k = this.next.get(model) ?? 0;
    this.next.set(model, k + 1);
    return list[k % list.length] as InferPayload;
  }
}

/** Send one request and record it: latency from its scheduled time (`q.arrivalMs` after t0) to the end of its reply. */
export async function sendRecorded(transport: InferTransport, payloads: PayloadSource, models: ReadonlyMap<string, RemoteModel>, q: TraceQuery, t0: number, timeoutMs: number): Promise<LoadRecord> {
  const record: LoadRecord = {
    id: q.id, model: q.model, batch: q.batch, seq: q.seq, qosMs: q.qosMs, sentMs: round3(q.arrivalMs), finishMs: 0, latencyMs: null,
    outcome: 'failed', httpStatus: 0, grpcCode: null, serverTotalMs: null, serverQueueMs: null, error: null,
  };
  try {
    const payload = payloads.get(q.model, q.batch, q.seq);
    record.batch = payload.batch;
    record.seq = payload.seq;
    const outputs = models.get(q.model)?.outputs.map((o) => o.name) ?? [];
    const reply = await transport.infer(q.model, q.id, q.qosMs, payload, outputs, timeoutMs);
    const end = performance.now() - t0;
    record.finishMs = round3(end);
    if (transport.protocol === 'grpc') record.grpcCode = reply.status;
    else record.httpStatus = reply.status;
    if (reply.outcome === 'answered') {
      record.latencyMs = round3(end - q.arrivalMs);
      record.outcome = record.latencyMs <= q.qosMs ? 'ok' : 'late';
      record.serverTotalMs = reply.serverTotalMs;
      record.serverQueueMs = reply.serverQueueMs;
    } else {
      record.outcome = reply.outcome;
      record.error = reply.error;
    }
  } catch (err) {
    record.finishMs = round3(performance.now() - t0);
    record.outcome = 'failed';
    record.error = errorMessage(err);
  }
  return record;
}

function sleepUntil(t0: number, atMs: number): Promise<void> {
  const delay = t0 + atMs - performance.now();
  return delay > 0 ? new Promise((r) => setTimeout(r, delay)) : Promise.resolve();
}

/** Send the trace open-loop and record every request. */
export async function runLoad(options: LoadOptions): Promise<{ records: LoadRecord[]; summary: LoadSummary; sendLagMs: number[] }> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxInFlight = options.maxInFlight ?? 2048;
  const transport = options.transport ?? httpTransport(options.url, {
    jsonTensors: options.jsonTensors === true, maxSockets: Math.min(maxInFlight, 1024),
    ...(options.agent ? { agent: options.agent } : {}), ...(options.headers ? { headers: options.headers } : {}),
  });
  const payloads = new PayloadSource(options.models, options.seed ?? 0, options.inputData);
  const trace = [...options.trace].sort((a, b) => a.arrivalMs - b.arrivalMs);
  const records: LoadRecord[] = [];
  /** How late each request left against its schedule (ms): the client falling behind, not the server. */
  const sendLagMs: number[] = [];
  const inFlight = new Set<Promise<void>>();
  let done = 0;
  const t0 = performance.now();
  const send = async (q: TraceQuery): Promise<void> => {
    try {
      records.push(await sendRecorded(transport, payloads, options.models, q, t0, timeoutMs));
    } finally {
      done++;
      options.onProgress?.(done, trace.length);
    }
  };
  try {
    for (const q of trace) {
      await sleepUntil(t0, q.arrivalMs);
      sendLagMs.push(round3(Math.max(0, performance.now() - t0 - q.arrivalMs)));
      if (inFlight.size >= maxInFlight) {
        records.push({
          id: q.id, model: q.model, batch: q.batch, seq: q.seq, qosMs: q.qosMs, sentMs: round3(q.arrivalMs), finishMs: round3(performance.now() - t0), latencyMs: null,
          outcome: 'failed', httpStatus: 0, grpcCode: null, serverTotalMs: null, serverQueueMs: null, error: `client limit: ${maxInFlight} requests already in flight`,
        });
        done++;
        options.onProgress?.(done, trace.length);
        continue;
      }
      const p = send(q).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all([...inFlight]);
  } finally {
    if (!options.transport) transport.close();
  }
  records.sort((a, b) => a.sentMs - b.sentMs || (a.id < b.id ? -1 : 1));
  return { records, summary: summarizeLoad(records, options), sendLagMs };
}

/** The run-log row of a request (rejected requests count as dropped). */
export function loadRecordRow(r: LoadRecord, policy: string): QueryLogRow {
  return {
    id: r.id, model: r.model, batch: r.batch, seq: r.seq, qosMs: r.qosMs, arrivalMs: r.sentMs, startMs: null, finishMs: r.finishMs,
    latencyMs: r.latencyMs, status: r.outcome === 'rejected' ? 'dropped' : r.outcome, groups: 0, searchSteps: 0, policy: policy as QueryLogRow['policy'],
  };
}

/** Summaries of a load run: overall (after warm-up) and per step. */
export function summarizeLoad(records: readonly LoadRecord[], options: Pick<LoadOptions, 'url' | 'trace' | 'warmupS' | 'stepS' | 'policy'>): LoadSummary {
  const policy = options.policy ?? 'unknown';
  const warmupMs = (options.warmupS ?? 0) * 1000;
  const measured = records.filter((r) => r.sentMs >= warmupMs);
  const base = summarizeRun(measured.map((r) => loadRecordRow(r, policy)), { policy: 'fcfs', ways: 0, thldMs: 0, abandon: false, decisionsUs: [], plansReused: 0, groupSearchSteps: [] });
  const server = sortedCopy(measured.flatMap((r) => (r.serverTotalMs !== null ? [r.serverTotalMs] : [])));
  const errors = new Map<string, number>();
  for (const r of measured) if (r.error !== null) errors.set(r.error.slice(0, 200), (errors.get(r.error.slice(0, 200)) ?? 0) + 1);
  const span = options.trace.length > 0 ? Math.max(...options.trace.map((q) => q.arrivalMs)) - Math.min(...options.trace.map((q) => q.arrivalMs)) : 0;
  const { policy: _p, ways: _w, thldMs: _t, abandon: _a, decisions: _d, plansReused: _r, decisionP50Us: _d50, decisionP99Us: _d99, reactionP50Us: _x50, reactionP99Us: _x99, groups: _g, searchStepsMean: _sm, searchStepsMax: _sx, ...clientSide } = base;
  const summary: LoadSummary = {
    ...clientSide,
    policy,
    target: options.url.href,
    sent: measured.length,
    rejected: measured.filter((r) => r.outcome === 'rejected').length,
    offeredQps: span > 0 ? (options.trace.length * 1000) / span : 0,
    warmup: records.length - measured.length,
    serverP99Ms: server.length > 0 ? percentileSorted(server, 99) : null,
    errors: [...errors.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([message, count]) => ({ message, count })),
  };
  if (options.stepS !== undefined && options.stepS > 0) summary.steps = loadSteps(records, options.stepS);
  return summary;
}

/** Per-step numbers: each request in the step of its scheduled send time; latency without any cut-off. */
/** Outcomes, rates and latencies of the requests of one time window of `seconds`. */
export type WindowStats = Omit<LoadStep, 'step' | 'startS'>;

export function windowStats(records: readonly LoadRecord[], seconds: number): WindowStats {
  const latencies = sortedCopy(records.flatMap((r) => (r.latencyMs !== null ? [r.latencyMs] : [])));
  const count = (o: LoadOutcome): number => records.filter((r) => r.outcome === o).length;
  const ok = count('ok');
  const late = count('late');
  const p99 = percentileSorted(latencies, 99);
  const m = mean(latencies);
  return {
    sent: records.length,
    ok,
    late,
    rejected: count('rejected'),
    failed: count('failed'),
    throughputQps: (ok + late) / seconds,
    goodputQps: ok / seconds,
    p99Ms: Number.isFinite(p99) ? p99 : null,
    meanMs: Number.isFinite(m) ? m : null,
    violationRatio: records.length > 0 ? (records.length - ok) / records.length : 0,
  };
}

export function loadSteps(records: readonly LoadRecord[], stepS: number): LoadStep[] {
  const stepMs = stepS * 1000;
  const byStep = new Map<number, LoadRecord[]>();
  for (const r of records) {
    const k = Math.floor(r.sentMs / stepMs);
    const list = byStep.get(k);
    if (list) list.push(r);
    else byStep.set(k, [r]);
  }
  return [...byStep.entries()].sort((a, b) => a[0] - b[0]).map(([step, list]) => ({ step, startS: step * stepS, ...windowStats(list, stepS) }));
}

/** CSV of the per-request records. */
export function formatLoadCsv(records: readonly LoadRecord[]): string {
  const cell = (v: string | number | null): string => (v === null ? '' : typeof v === 'string' ? `"${v.replace(/"/g, '""')}"` : String(v));
  const lines = ['id,model,batch,seq,qos_ms,sent_ms,finish_ms,latency_ms,outcome,http_status,server_total_ms,server_queue_ms,error,grpc_code'];
  for (const r of records) {
    lines.push([r.id, r.model, r.batch, r.seq, r.qosMs, r.sentMs, r.finishMs, r.latencyMs, r.outcome, r.httpStatus, r.serverTotalMs, r.serverQueueMs, r.error, r.grpcCode].map(cell).join(','));
  }
  return `${lines.join('\n')}\n`;
}
