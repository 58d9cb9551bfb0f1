/**
 * Load generation: query traces from a seeded Poisson or constant-rate process, or from a trace CSV. A trace
 * is made before a run and does not depend on the policy, so the same seed gives every policy the same
 * queries at the same times.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { InputError } from '../common/errors.js';
import { Rng } from '../common/rng.js';
import { writeFileAtomic } from '../common/fsutil.js';
import { DEFAULT_BATCH_SIZES, DEFAULT_SEQ_LENS, ZOO, zooEntry } from '../zoo/catalog.js';
import type { TraceQuery } from './types.js';

/** A service the load is spread over: a model name, its id and whether it takes a sequence length. */
export interface ServiceSpec {
  name: string;
  modelId: number;
  hasSeq: boolean;
}

/** Services for zoo models given by name or id. */
export function zooServices(refs: readonly (string | number)[]): ServiceSpec[] {
  const services = refs.map((ref) => {
    const entry = zooEntry(ref);
    return { name: entry.name, modelId: entry.id, hasSeq: entry.hasSeq };
  });
  const names = new Set(services.map((s) => s.name));
  if (names.size !== services.length) throw new InputError(`a model appears twice in the combination: ${services.map((s) => s.name).join(', ')}`);
  return services;
}

/** Operator counts of the zoo models, by name (for `SimulatedRunner`). */
export function zooOperatorCounts(): Record<string, number> {
  return Object.fromEntries(ZOO.map((m) => [m.name, m.operatorCount]));
}

/** One QoS target for every query, or one per model name. */
export type QosSpec = number | Readonly<Record<string, number>>;

/** The QoS target of a model's queries under `qos`; throws an InputError when the model has none. */
export function qosFor(qos: QosSpec, model: string): number {
  const value = typeof qos === 'number' ? qos : qos[model];
  if (value === undefined) throw new InputError(`no QoS target for model '${model}' (given for: ${Object.keys(qos).join(', ')})`);
  if (!Number.isFinite(value) || value <= 0) throw new InputError(`QoS target for '${model}' must be a positive number of ms, got ${value}`);
  return value;
}

/** Parse "100" (one target) or "resnet50=50,bert=30" (per model) into a QosSpec. */
export function parseQosSpec(text: string): QosSpec {
  const trimmed = text.trim();
  if (/^[0-9.]+$/.test(trimmed)) {
    const value = Number(trimmed);
    if (!Number.isFinite(value) || value <= 0) throw new InputError(`bad QoS target '${text}': expected a positive number of ms`);
    return value;
  }
  const out: Record<string, number> = {};
  for (const part of trimmed.split(/[\s,]+/).filter((p) => p.length > 0)) {
    const m = /^([^=]+)=([0-9.]+)$/.exec(part);
    if (!m) throw new InputError(`bad QoS target '${part}': expected <model>=<ms>`);
    const value = Number(m[2]);
    if (!Number.isFinite(value) || value <= 0) throw new InputError(`bad QoS target '${part}': expected a positive number of ms`);
    out[m[1] as string] = value;
  }
  if (Object.keys(out).length === 0) throw new InputError('empty QoS specification');
  return out;
}

export type ArrivalProcess = 'poisson' | 'constant';

export interface LoadSpec {
  services: readonly ServiceSpec[];
  /** Aggregate arrival rate over all services, queries per second. */
  loadQps: number;
  /** Number of queries to issue. */
  queries: number;
  arrivals?: ArrivalProcess;
  seed: number;
  qos: QosSpec;
  batchSizes?: readonly number[];
  seqLens?: readonly number[];
}

/**
 * A trace of `queries` queries. The first arrives at 0; gaps are exponential with mean 1000/loadQps ms
 * (`poisson`) or exactly 1000/loadQps ms (`constant`). Model, batch and sequence length are drawn
 * uniformly, each from its own stream forked from the seed, so two traces with one seed and different loads
 * hold the same queries at proportionally scaled times (a property the peak-load search relies on).
 */
export function generateTrace(spec: LoadSpec): TraceQuery[] {
  const { services, loadQps, queries } = spec;
  if (services.length === 0) throw new InputError('no services to generate load for');
  if (!Number.isFinite(loadQps) || loadQps <= 0) throw new InputError(`load must be a positive number of queries per second, got ${loadQps}`);
  if (!Number.isInteger(queries) || queries < 0) throw new InputError(`query count must be a non-negative integer, got ${queries}`);
  const batchSizes = spec.batchSizes ?? DEFAULT_BATCH_SIZES;
  const seqLens = spec.seqLens ?? DEFAULT_SEQ_LENS;
  if (batchSizes.length === 0 || batchSizes.some((b) => !Number.isInteger(b) || b <= 0)) throw new InputError(`bad batch sizes: ${batchSizes.join(',')}`);
  if (seqLens.length === 0 || seqLens.some((s) => !Number.isInteger(s) || s <= 0)) throw new InputError(`bad sequence lengths: ${seqLens.join(',')}`);
  const qosByModel = new Map(services.map((s) => [s.name, qosFor(spec.qos, s.name)]));
  const root = new Rng(spec.seed);
  const gapRng = root.fork();
  const modelRng = root.fork();
  const batchRng = root.fork();
  const seqRng = root.fork();
  const arrivals = spec.arrivals ?? 'poisson';
  const meanGapMs = 1000 / loadQps;
  const width = String(Math.max(queries - 1, 0)).length;
  const trace: TraceQuery[] = [];
  let t = 0;
  for (let i = 0; i < queries; i++) {
    if (i > 0) t += arrivals === 'poisson' ? gapRng.exponential(1) * meanGapMs : meanGapMs;
    const service = modelRng.pick(services);
    const batch = batchRng.pick(batchSizes);
    const seqDraw = seqRng.pick(seqLens);
    trace.push({
      id: `q${String(i).padStart(width, '0')}`,
      arrivalMs: t,
      model: service.name,
      modelId: service.modelId,
      batch,
      seq: service.hasSeq ? seqDraw : 0,
      qosMs: qosByModel.get(service.name) as number,
    });
  }
  return trace;
}

const TRACE_COLUMNS = ['arrival_ms', 'model', 'batch', 'seq', 'qos_ms'] as const;

/**
 * Parse a trace CSV with header `arrival_ms,model,batch,seq,qos_ms` (an `id` column is optional; `qos_ms`
 * may be empty, then `qos` applies). `model` is a service name or model id of `services`. Rows are sorted
 * by arrival (stable); arrivals are shifted so that the first is at 0 when `rebase` is true.
 */
export function parseTraceCsv(text: string, services: readonly ServiceSpec[], options: { qos?: QosSpec; rebase?: boolean; source?: string } = {}): TraceQuery[] {
  const source = options.source ?? 'trace';
  let records: Record<string, string>[];
  try {
    records = parse(text, { columns: true, skip_empty_lines: true, trim: true }) as Record<string, string>[];
  } catch (err) {
    throw new InputError(`${source}: not a valid CSV: ${(err as Error).message}`, { cause: err });
  }
  if (records.length > 0) {
    const header = Object.keys(records[0] as Record<string, string>);
    const missing = TRACE_COLUMNS.filter((c) => !header.includes(c));
    if (missing.length > 0) throw new InputError(`${source}: missing column(s) ${missing.join(', ')} (expected ${TRACE_COLUMNS.join(',')})`);
  }
  const byRef = new Map<string, ServiceSpec>();
  for (const s of services) {
    byRef.set(s.name, s);
    byRef.set(String(s.modelId), s);
  }
  const width = String(Math.max(records.length - 1, 0)).length;
  const rows = records.map((r, i) => {
    const line = i + 2;
    const where = `${source}:${line}`;
    const num = (column: string, integer: boolean, min: number): number => {
      const value = Number(r[column]);
      if (r[column] === '' || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
        throw new InputError(`${where}: bad ${column} '${r[column]}'`);
      }
      return value;
    };
    const service = byRef.get(r.model ?? '');
    if (!service) throw new InputError(`${where}: model '${r.model}' is not one of the served models (${services.map((s) => s.name).join(', ')})`);
    const qosText = r.qos_ms ?? '';
    let qosMs: number;
    if (qosText === '') {
      if (options.qos === undefined) throw new InputError(`${where}: empty qos_ms and no default QoS given`);
      qosMs = qosFor(options.qos, service.name);
    } else {
      qosMs = num('qos_ms', false, Number.MIN_VALUE);
    }
    const seq = num('seq', true, 0);
    if (!service.hasSeq && seq !== 0) throw new InputError(`${where}: model '${service.name}' takes no sequence length, got seq ${seq}`);
    if (service.hasSeq && seq === 0) throw new InputError(`${where}: model '${service.name}' needs a sequence length > 0`);
    return {
      id: r.id !== undefined && r.id !== '' ? r.id : `q${String(i).padStart(width, '0')}`,
      arrivalMs: num('arrival_ms', false, 0),
      model: service.name,
      modelId: service.modelId,
      batch: num('batch', true, 1),
      seq,
      qosMs,
    };
  });
  const ids = new Set(rows.map((q) => q.id));
  if (ids.size !== rows.length) throw new InputError(`${source}: query ids are not unique`);
  const sorted = rows.map((q, i) => ({ q, i })).sort((a, b) => a.q.arrivalMs - b.q.arrivalMs || a.i - b.i).map((x) => x.q);
  if (options.rebase && sorted.length > 0) {
    const first = (sorted[0] as TraceQuery).arrivalMs;
    for (const q of sorted) q.arrivalMs -= first;
  }
  return sorted;
}

export function readTraceCsv(path: string, services: readonly ServiceSpec[], options: { qos?: QosSpec; rebase?: boolean } = {}): TraceQuery[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read trace '${path}': ${(err as Error).message}`, { cause: err });
  }
  return parseTraceCsv(text, services, { ...options, source: path });
}

/** The trace as CSV text (header `id,arrival_ms,model,batch,seq,qos_ms`), readable by `parseTraceCsv`. */
export function formatTraceCsv(trace: readonly TraceQuery[]): string {
  return stringify(
    trace.map((q) => [q.id, q.arrivalMs, q.model, q.batch, q.seq, q.qosMs]),
    { header: true, columns: ['id', 'arrival_ms', 'model', 'batch', 'seq', 'qos_ms'] },
  );
}

export function writeTraceCsv(path: string, trace: readonly TraceQuery[]): void {
  writeFileAtomic(path, formatTraceCsv(trace));
}
