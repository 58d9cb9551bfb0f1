/**
 * `abacus stress`: attacks and overload against one's own server, on loopback only, bounded in time and
 * in requests. Each attack sends what a hostile or broken client would and checks the server's answer
 * and that it keeps serving; the overload sweep sends open-loop Poisson load (`runLoad`) at several rates
 * and reports goodput (replies within QoS per second) and the share of accepted requests within QoS.
 *
 * Attacks: outputs amplification, batch and sequence length beyond the manifest's limits, non-finite
 * inputs, malformed JSON, many concurrent large bodies, slowloris (headers trickled), a connection flood,
 * (with a token) a missing or wrong bearer token, and (with a gRPC address) gRPC ModelInfer messages that
 * are not protobuf.
 */
import { connect, type Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import { InputError, errorMessage } from '../common/errors.js';
import { generateTrace, type ServiceSpec } from '../controller/index.js';
import { fetchJson, httpCall, keepAliveAgent, modelMetadata, urlFor, type HttpReply, type RemoteModel } from './client.js';
import { BINARY_HEADER, QOS_HEADER, parseHostPort } from './http.js';
import { loadInferenceService } from './grpc.js';
import { Rng } from '../common/rng.js';
import { isLoopbackHost } from './auth.js';
import { runLoad, type LoadSummary } from './load.js';

/** Refuse any target that is not this machine: the stress tool is for one's own server. */
export function assertLoopback(url: URL): void {
  if (!isLoopbackHost(url.hostname.replace(/^\[|\]$/g, ''))) throw new InputError(`abacus stress only targets this machine (127.0.0.0/8, ::1, localhost), not '${url.hostname}'`);
}

export interface StressBounds {
  /** Concurrent large bodies and the size of each (bytes). */
  largeBodies: number;
  largeBodyBytes: number;
  /** Slowloris connections. */
  slowConnections: number;
  /** Connections of the flood. */
  floodConnections: number;
  /** Bearer token the server expects (attacks without and with a wrong one); none: skipped. */
  authToken?: string;
  /** gRPC messages of the grpc-garbage attack (each at most `STRESS_LIMITS.grpcGarbageFrameBytes`). */
  grpcGarbageFrames: number;
}

export const DEFAULT_STRESS_BOUNDS: StressBounds = { largeBodies: 16, largeBodyBytes: 8 * 1024 * 1024, slowConnections: 200, floodConnections: 1500, grpcGarbageFrames: 64 };

/** Hard ceilings, whatever the flags say. */
export const STRESS_LIMITS = { largeBodiesTotalBytes: 1024 * 1024 * 1024, connections: 4000, sweepRequests: 200_000, sweepSeconds: 120, grpcGarbageFrames: 1024, grpcGarbageFrameBytes: 4096 };

export interface AttackResult {
  name: string;
  /** pass: the server answered as it should and kept serving; skip: not applicable to these models. */
  verdict: 'pass' | 'fail' | 'skip';
  detail: string;
  ms: number;
}

interface Target {
  url: URL;
  model: RemoteModel;
  /** A model with a sequence length, if served. */
  seqModel: RemoteModel | null;
  limits: Map<string, { maxBatch: number | null; maxSeq: number | null }>;
  headers: Record<string, string>;
  /** The server's gRPC address (host:port), if it serves gRPC and one was given. */
  grpc: string | null;
}

/** One request's inputs as binary tensor data (values from `fill`). */
function binaryRequest(model: RemoteModel, batch: number, seq: number, fill: (i: number) => number, extra: Record<string, unknown> = {}): { body: Buffer; headers: Record<string, string> } {
  const header: unknown[] = [];
  const parts: Buffer[] = [];
  for (const input of model.inputs) {
    const shape = input.shape.map((d, i) => (d >= 0 ? d : input.dims[i] === 'seq' ? seq : batch));
    const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => fill(i));
    header.push({ name: input.name, shape, datatype: input.datatype, parameters: { binary_data_size: data.byteLength } });
    parts.push(Buffer.from(data.buffer));
  }
  const head = Buffer.from(JSON.stringify({ inputs: header, ...extra }));
  return { body: Buffer.concat([head, ...parts]), headers: { 'content-type': 'application/octet-stream', [BINARY_HEADER]: String(head.length) } };
}

/** A valid gRPC ModelInferRequest of the model (batch 1, seq 8, values 0.5), serialized. */
function binaryGrpcRequest(model: RemoteModel, serialize: (value: unknown) => Buffer): Buffer {
  const inputs = model.inputs.map((input) => {
    const shape = input.shape.map((d, i) => (d >= 0 ? d : input.dims[i] === 'seq' ? 8 : 1));
    return { name: input.name, datatype: input.datatype, shape, bytes: Buffer.from(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 0.5).buffer) };
  });
  return serialize({ model_name: model.name, inputs: inputs.map(({ bytes: _, ...i }) => i), raw_input_contents: inputs.map((i) => i.bytes) });
}

async function post(t: Target, model: string, req: { body: Buffer; headers: Record<string, string> }, timeoutMs = 30_000): Promise<HttpReply> {
  return httpCall(urlFor(t.url, `/v2/models/${encodeURIComponent(model)}/infer`), { method: 'POST', body: req.body, headers: { ...t.headers, ...req.headers }, timeoutMs });
}

function errorOf(reply: HttpReply): string {
  try {
    const v = JSON.parse(reply.body.toString('utf8')) as { error?: unknown };
    return typeof v.error === 'string' ? v.error : '';
  } catch {
    return '';
  }
}

/** A valid request of the target model must be answered (200, or 429/503 when the server says it is full). */
async function stillServing(t: Target, timeoutMs = 20_000): Promise<string | null> {
  try {
    const r = await post(t, t.model.name, binaryRequest(t.model, 1, 8, () => 0.5), timeoutMs);
    if (r.status === 200) return null;
    return `a valid request then got ${r.status} ${errorOf(r)}`;
  } catch (err) {
    return `a valid request then failed: ${errorMessage(err)}`;
  }
}

function openSocket(t: Target): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(Number(t.url.port || 80), t.url.hostname.replace(/^\[|\]$/g, ''));
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** The gRPC target of `host:port`, loopback only. */
export function grpcStressTarget(text: string): string {
  const at = parseHostPort(text, '--grpc');
  if (!isLoopbackHost(at.host)) throw new InputError(`abacus stress only targets this machine (127.0.0.0/8, ::1, localhost), not '${at.host}'`);
  return at.host.includes(':') ? `[${at.host}]:${at.port}` : `${at.host}:${at.port}`;
}

/**
 * ModelInfer messages that are not a ModelInferRequest: top levels that are not protobuf (a tag cut off,
 * wire types 6 and 7, field 0, a length past the end, model_name as a number), seeded random bytes
 * behind a tag of a wire type that does not exist, and the target model's name with an `inputs` entry
 * cut off (found only by the full decoder, after admission). `count` of them, each at most 4 KiB.
 */
export function grpcGarbageFrames(modelName: string, count: number, seed = 19): Buffer[] {
  const name = Buffer.from(modelName, 'utf8');
  const fixed = [
    Buffer.from('ff', 'hex'),
    Buffer.from('0fffff', 'hex'),
    Buffer.from('3e00', 'hex'),
    Buffer.from('0200', 'hex'),
    Buffer.concat([Buffer.from([0x0a, 0x7f]), name]),
    Buffer.from('0801', 'hex'),
    Buffer.concat([Buffer.from([0x0a, name.length]), name, Buffer.from([0x3a, 0xff, 0xff, 0x03, 0x00])]),
    Buffer.concat([Buffer.from([0x0a, name.length]), name, Buffer.from([0x2a, 0x01, 0x0a])]),
  ].filter((b) => name.length < 0x80 || b[0] !== 0x0a);
  const rng = new Rng(seed);
  const out = fixed.slice(0, count);
  while (out.length < count) {
    const tail = Buffer.from(Array.from({ length: rng.int(0, STRESS_LIMITS.grpcGarbageFrameBytes) }, () => rng.int(0, 256)));
    out.push(Buffer.concat([Buffer.from([(rng.int(1, 16) << 3) | rng.int(6, 8)]), tail]));
  }
  return out;
}

type Attack = { name: string; run: (t: Target, b: StressBounds) => Promise<Omit<AttackResult, 'name' | 'ms'>> };

const expectStatus = (r: HttpReply, want: number[], what: string): Omit<AttackResult, 'name' | 'ms'> =>
  want.includes(r.status) ? { verdict: 'pass', detail: `${r.status}: ${errorOf(r)}` } : { verdict: 'fail', detail: `${what}: expected ${want.join('/')}, got ${r.status} ${errorOf(r)}` };

const ATTACKS: Attack[] = [
  {
    name: 'outputs-amplification',
    run: async (t) => {
      const out = t.model.outputs[0]?.name ?? 'output';
      const r = await post(t, t.model.name, binaryRequest(t.model, 1, 8, () => 0.5, { outputs: Array.from({ length: 30_000 }, () => ({ name: out, parameters: { binary_data: true } })) }));
      return expectStatus(r, [400, 413], '30,000 repeated outputs');
    },
  },
  {
    name: 'batch-beyond-limit',
    run: async (t) => {
      const max = t.limits.get(t.model.name)?.maxBatch;
      if (!max) return { verdict: 'skip', detail: 'the server states no batch limit' };
      return expectStatus(await post(t, t.model.name, binaryRequest(t.model, max + 1, 8, () => 0.5)), [400], `batch ${max + 1}`);
    },
  },
  {
    name: 'seq-beyond-limit',
    run: async (t) => {
      const m = t.seqModel;
      const max = m ? t.limits.get(m.name)?.maxSeq : null;
      if (!m || !max) return { verdict: 'skip', detail: 'no served model with a sequence length limit' };
      return expectStatus(await post(t, m.name, binaryRequest(m, 1, max + 1, () => 0.5)), [400], `seq ${max + 1}`);
    },
  },
  {
    name: 'non-finite-input',
    run: async (t) => {
      const nan = await post(t, t.model.name, binaryRequest(t.model, 1, 8, (i) => (i === 7 ? Number.NaN : 0.5)));
      const inf = await post(t, t.model.name, binaryRequest(t.model, 1, 8, (i) => (i === 3 ? Number.POSITIVE_INFINITY : 0.5)));
      const a = expectStatus(nan, [400], 'a NaN input');
      const b = expectStatus(inf, [400], 'an Infinity input');
      return a.verdict === 'fail' ? a : b.verdict === 'fail' ? b : { verdict: 'pass', detail: `NaN ${a.detail}; Infinity ${b.detail}` };
    },
  },
  {
    name: 'malformed-json',
    run: async (t) => expectStatus(await post(t, t.model.name, { body: Buffer.from('{"inputs": [{"name": "x", "shape": [1, '), headers: { 'content-type': 'application/json' } }), [400], 'truncated JSON'),
  },
  {
    name: 'large-bodies',
    run: async (t, b) => {
      const n = Math.max(1, Math.min(b.largeBodies, Math.floor(STRESS_LIMITS.largeBodiesTotalBytes / b.largeBodyBytes)));
      const junk = Buffer.alloc(b.largeBodyBytes, 0x20);
      const statuses = await Promise.all(Array.from({ length: n }, () => post(t, t.model.name, { body: junk, headers: { 'content-type': 'application/json' } }, 120_000).then((r) => r.status, () => 0)));
      const counts = new Map<number, number>();
      for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
      const summary = [...counts].map(([s, c]) => `${c}× ${s === 0 ? 'reset' : s}`).join(', ');
      if (statuses.some((s) => s >= 500 && s !== 503)) return { verdict: 'fail', detail: `${n} bodies of ${b.largeBodyBytes} bytes: ${summary}` };
      const after = await stillServing(t);
      return after ? { verdict: 'fail', detail: `${summary}; ${after}` } : { verdict: 'pass', detail: `${n} concurrent bodies of ${b.largeBodyBytes} bytes: ${summary}; still serving` };
    },
  },
  {
    name: 'slowloris',
    run: async (t, b) => {
      const n = Math.min(b.slowConnections, STRESS_LIMITS.connections);
      const sockets: Socket[] = [];
      try {
        for (let i = 0; i < n; i++) {
          const s = await openSocket(t).catch(() => null);
          if (!s) break;
          s.on('error', () => undefined);
          s.write(`POST /v2/models/${t.model.name}/infer HTTP/1.1\r\nhost: x\r\n`);
          sockets.push(s);
        }
        const trickle = setInterval(() => {
          for (const s of sockets) if (!s.destroyed) s.write('x-slow: 1\r\n');
        }, 1000);
        try {
          const t0 = performance.now();
          const after = await stillServing(t, 10_000);
          const ms = performance.now() - t0;
          return after ? { verdict: 'fail', detail: `${sockets.length} slow connections open; ${after}` } : { verdict: 'pass', detail: `${sockets.length} slow connections open; a valid request answered in ${ms.toFixed(0)} ms` };
        } finally {
          clearInterval(trickle);
        }
      } finally {
        for (const s of sockets) s.destroy();
      }
    },
  },
  {
    name: 'connection-flood',
    run: async (t, b) => {
      const n = Math.min(b.floodConnections, STRESS_LIMITS.connections);
      const sockets: Socket[] = [];
      let refused = 0;
      try {
        for (let i = 0; i < n; i++) {
          const s = await openSocket(t).catch(() => null);
          if (!s) break;
          s.on('error', () => undefined);
          s.on('data', (d: Buffer) => {
            if (d.toString('latin1').startsWith('HTTP/1.1 503')) refused++;
          });
          sockets.push(s);
        }
        await new Promise((r) => setTimeout(r, 500));
      } finally {
        for (const s of sockets) s.destroy();
      }
      await new Promise((r) => setTimeout(r, 200));
      const after = await stillServing(t);
      return after ? { verdict: 'fail', detail: `${sockets.length} connections (${refused} refused with 503); ${after}` } : { verdict: 'pass', detail: `${sockets.length} connections opened, ${refused} refused with 503; still serving after` };
    },
  },
  {
    name: 'grpc-garbage',
    run: async (t, b) => {
      if (!t.grpc) return { verdict: 'skip', detail: 'no --grpc address given' };
      const n = Math.max(1, Math.min(b.grpcGarbageFrames, STRESS_LIMITS.grpcGarbageFrames));
      const client = new grpc.Client(t.grpc, grpc.credentials.createInsecure());
      const call = (bytes: Buffer): Promise<grpc.ServiceError | null> => {
        const md = new grpc.Metadata();
        for (const [k, v] of Object.entries(t.headers)) md.set(k, v);
        md.set(QOS_HEADER, '3600000'); // the longest QoS: a message that admission would refuse is still read
        return new Promise((resolve) => {
          client.makeUnaryRequest('/inference.GRPCInferenceService/ModelInfer', (x: Buffer) => x, (x: Buffer) => x, bytes, md, { deadline: Date.now() + 10_000 }, (err) => resolve(err));
        });
      };
      try {
        const counts = new Map<string, number>();
        let wrong = '';
        for (const frame of grpcGarbageFrames(t.model.name, n)) {
          const err = await call(frame);
          const code = err ? (grpc.status[err.code] ?? String(err.code)) : 'OK';
          counts.set(code, (counts.get(code) ?? 0) + 1);
          if (err?.code !== grpc.status.INVALID_ARGUMENT && wrong === '') wrong = `${frame.subarray(0, 16).toString('hex')}${frame.length > 16 ? '…' : ''} (${frame.length} bytes): ${code}${err ? ` ${err.details}` : ''}`;
        }
        const summary = [...counts].map(([c, k]) => `${k}× ${c}`).join(', ');
        if (wrong) return { verdict: 'fail', detail: `${n} messages that are not protobuf: ${summary}; expected INVALID_ARGUMENT, e.g. ${wrong}` };
        const serialize = loadInferenceService().service.ModelInfer!.requestSerialize as (value: unknown) => Buffer;
        const valid = binaryGrpcRequest(t.model, serialize);
        const after = await call(valid);
        if (after) return { verdict: 'fail', detail: `${summary}; a valid gRPC request then got ${grpc.status[after.code] ?? after.code} ${after.details}` };
        const http = await stillServing(t);
        return http ? { verdict: 'fail', detail: `${summary}; ${http}` } : { verdict: 'pass', detail: `${n} messages that are not protobuf: ${summary}; still serving (gRPC and HTTP)` };
      } finally {
        client.close();
      }
    },
  },
  {
    name: 'no-token',
    run: async (t, b) => {
      if (!b.authToken) return { verdict: 'skip', detail: 'no --auth-token given' };
      const req = binaryRequest(t.model, 1, 8, () => 0.5);
      const none = await httpCall(urlFor(t.url, `/v2/models/${t.model.name}/infer`), { method: 'POST', body: req.body, headers: req.headers, timeoutMs: 10_000 });
      const wrong = await httpCall(urlFor(t.url, `/v2/models/${t.model.name}/infer`), { method: 'POST', body: req.body, headers: { ...req.headers, authorization: `Bearer x${b.authToken}` }, timeoutMs: 10_000 });
      const a = expectStatus(none, [401], 'no token');
      const w = expectStatus(wrong, [401], 'a wrong token');
      return a.verdict === 'fail' ? a : w.verdict === 'fail' ? w : { verdict: 'pass', detail: `no token ${a.detail}; wrong token ${w.detail}` };
    },
  },
];

export const ATTACK_NAMES: readonly string[] = ATTACKS.map((a) => a.name);

/** The served model's metadata plus abacus's limits. */
async function target(url: URL, modelName: string | undefined, authToken: string | undefined, grpcAt: string | null = null): Promise<Target> {
  const headers: Record<string, string> = authToken ? { authorization: `Bearer ${authToken}` } : {};
  const index = (await fetchJson(urlFor(url, '/v2/repository/index'), { method: 'POST', body: Buffer.from('{}'), headers: { 'content-type': 'application/json', ...headers }, timeoutMs: 10_000 })) as { name?: unknown }[];
  const names = Array.isArray(index) ? index.flatMap((m) => (typeof m.name === 'string' ? [m.name] : [])) : [];
  if (names.length === 0) throw new InputError(`${url.href} serves no models`);
  const limits = new Map<string, { maxBatch: number | null; maxSeq: number | null }>();
  const models: RemoteModel[] = [];
  for (const [i, name] of names.entries()) {
    models.push(await modelMetadata(url, name, i, 10_000, headers));
    const meta = (await fetchJson(urlFor(url, `/v2/models/${encodeURIComponent(name)}`), { headers, timeoutMs: 10_000 })) as { abacus?: { limits?: { max_batch?: unknown; max_seq?: unknown } } };
    const l = meta.abacus?.limits;
    limits.set(name, { maxBatch: typeof l?.max_batch === 'number' ? l.max_batch : null, maxSeq: typeof l?.max_seq === 'number' ? l.max_seq : null });
  }
  const model = modelName ? models.find((m) => m.name === modelName) : models.find((m) => !m.hasSeq) ?? models[0];
  if (!model) throw new InputError(`model '${modelName}' is not served (served: ${names.join(', ')})`);
  return { url, model, seqModel: models.find((m) => m.hasSeq) ?? null, limits, headers, grpc: grpcAt };
}

/** Run the attacks (all, or those named) one after another. */
export async function runAttacks(url: URL, options: { names?: readonly string[]; model?: string; bounds?: Partial<StressBounds>; grpc?: string; onResult?: (r: AttackResult) => void } = {}): Promise<AttackResult[]> {
  assertLoopback(url);
  const grpcAt = options.grpc !== undefined ? grpcStressTarget(options.grpc) : null;
  const bounds = { ...DEFAULT_STRESS_BOUNDS, ...options.bounds };
  for (const n of options.names ?? []) if (!ATTACK_NAMES.includes(n)) throw new InputError(`unknown attack '${n}': expected ${ATTACK_NAMES.join(', ')}`);
  const t = await target(url, options.model, bounds.authToken, grpcAt);
  const out: AttackResult[] = [];
  for (const attack of ATTACKS) {
    if (options.names && !options.names.includes(attack.name)) continue;
    const t0 = performance.now();
    let r: Omit<AttackResult, 'name' | 'ms'>;
    try {
      r = await attack.run(t, bounds);
    } catch (err) {
      r = { verdict: 'fail', detail: `the attack itself failed: ${errorMessage(err)}` };
    }
    const result = { name: attack.name, ...r, ms: Math.round(performance.now() - t0) };
    options.onResult?.(result);
    out.push(result);
  }
  return out;
}

/** One rate of the overload sweep. */
export interface SweepPoint {
  rateQps: number;
  sent: number;
  ok: number;
  late: number;
  rejected: number;
  failed: number;
  /** ok / duration. */
  goodputQps: number;
  /** ok / (ok + late): accepted requests answered within QoS. */
  acceptedWithinQos: number | null;
  p99AcceptedMs: number | null;
  /** The server's own count of the rate's requests (from its /metrics, when it has abacus_requests_total): ok, late, and ok / (ok + late). */
  server: { ok: number; late: number; acceptedWithinQos: number | null } | null;
  /** How late the client sent its requests against the schedule (ms; its own lag, which the server cannot see). */
  clientSendLagMs: { p50: number; p99: number; max: number } | null;
  summary: LoadSummary;
}

/** ok and late totals of a model in the server's Prometheus metrics (null when it has none). */
async function serverCounts(t: Target): Promise<{ ok: number; late: number } | null> {
  try {
    const reply = await httpCall(urlFor(t.url, '/metrics'), { headers: t.headers, timeoutMs: 10_000 });
    if (reply.status !== 200) return null;
    const text = reply.body.toString('utf8');
    const get = (outcome: string): number => {
      const m = new RegExp(`^abacus_requests_total\\{model="${t.model.name}",outcome="${outcome}"\\} (\\S+)$`, 'm').exec(text);
      return m ? Number(m[1]) : 0;
    };
    return text.includes('abacus_requests_total') ? { ok: get('ok'), late: get('late') } : null;
  } catch {
    return null;
  }
}

/** Open-loop Poisson load on one model at each rate for `durationS`, batch 1, with the header QoS. */
export async function overloadSweep(url: URL, options: { rates: readonly number[]; durationS: number; qosMs: number; model?: string; seed?: number; authToken?: string; batchSizes?: number[]; seqLens?: number[]; onPoint?: (p: SweepPoint) => void }): Promise<SweepPoint[]> {
  assertLoopback(url);
  if (options.durationS > STRESS_LIMITS.sweepSeconds) throw new InputError(`--duration is at most ${STRESS_LIMITS.sweepSeconds} s per rate`);
  const total = options.rates.reduce((n, r) => n + r * options.durationS, 0);
  if (total > STRESS_LIMITS.sweepRequests) throw new InputError(`the sweep would send about ${Math.round(total)} requests, over the bound of ${STRESS_LIMITS.sweepRequests}`);
  const t = await target(url, options.model, options.authToken);
  const services: ServiceSpec[] = [{ name: t.model.name, modelId: t.model.modelId, hasSeq: t.model.hasSeq }];
  const models = new Map([[t.model.name, t.model]]);
  const points: SweepPoint[] = [];
  for (const [i, rate] of options.rates.entries()) {
    const expected = rate * options.durationS;
    const trace = generateTrace({ services, loadQps: rate, queries: Math.ceil(expected + 6 * Math.sqrt(expected) + 10), seed: (options.seed ?? 0) + i, qos: options.qosMs, batchSizes: options.batchSizes ?? [1], seqLens: options.seqLens ?? [8] }).filter((q) => q.arrivalMs < options.durationS * 1000);
    const agent = keepAliveAgent(512);
    const before = await serverCounts(t);
    const { records, summary, sendLagMs } = await runLoad({ url, trace, models, timeoutMs: 30_000, seed: options.seed ?? 0, agent, ...(options.authToken ? { headers: { authorization: `Bearer ${options.authToken}` } } : {}) });
    const lags = [...sendLagMs].sort((a, b) => a - b);
    const quantile = (q: number): number => lags[Math.min(lags.length - 1, Math.max(0, Math.ceil(q * lags.length) - 1))] as number;
    agent.destroy();
    const after = await serverCounts(t);
    const server = before && after ? { ok: after.ok - before.ok, late: after.late - before.late } : null;
    const ok = records.filter((r) => r.outcome === 'ok').length;
    const late = records.filter((r) => r.outcome === 'late').length;
    const accepted = records.filter((r) => r.outcome === 'ok' || r.outcome === 'late').map((r) => r.latencyMs as number).sort((a, b) => a - b);
    const point: SweepPoint = {
      rateQps: rate,
      sent: records.length,
      ok,
      late,
      rejected: records.filter((r) => r.outcome === 'rejected').length,
      failed: records.filter((r) => r.outcome === 'failed').length,
      goodputQps: ok / options.durationS,
      acceptedWithinQos: ok + late > 0 ? ok / (ok + late) : null,
      p99AcceptedMs: accepted.length > 0 ? (accepted[Math.min(accepted.length - 1, Math.ceil(0.99 * accepted.length) - 1)] as number) : null,
      server: server ? { ...server, acceptedWithinQos: server.ok + server.late > 0 ? server.ok / (server.ok + server.late) : null } : null,
      clientSendLagMs: lags.length > 0 ? { p50: quantile(0.5), p99: quantile(0.99), max: lags[lags.length - 1] as number } : null,
      summary,
    };
    options.onPoint?.(point);
    points.push(point);
  }
  return points;
}

