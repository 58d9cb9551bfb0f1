/**
 * The protocol-neutral core of the online server, shared by the HTTP/REST and gRPC front ends: model
 * metadata, and inference requests checked against the manifests, submitted to the controller's online
 * queue and answered with the output and server-side timings. Every outcome is counted in the metrics.
 */
import type { Manifest } from '../zoo/manifest.js';
import { errorMessage } from '../common/errors.js';
import type { OnlineOutcome, OnlineQueue, QueryLogRow } from '../controller/index.js';
import { decodeInputs, datatypeOf, protocolShape, ProtocolError, type Datatype, type RawInput } from './tensors.js';
import { UNKNOWN_MODEL_LABEL, type RequestOutcome, type ServerMetrics } from './metrics.js';
import { ModelStatisticsRecorder, modelConfigOf, type ModelConfig, type ModelStatistics } from './triton.js';

/** The only model version the server has. */
export const MODEL_VERSION = '1';

export interface ServedModel {
  manifest: Manifest;
  /** Default QoS target of the model's requests (a request's `qos_ms` parameter overrides it). */
  qosMs: number;
}

export interface TensorMetadata {
  name: string;
  datatype: Datatype;
  /** -1 for a symbolic dim. */
  shape: number[];
}

/** `GET /v2/models/{name}`: the protocol's fields plus abacus's own (`abacus`). */
export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
  abacus: {
    id: number;
    qos_ms: number;
    /** Name of each symbolic dim by input, e.g. {input: ['batch', null, null, null]}. */
    dims: Record<string, (string | null)[]>;
    operators: { index: number; name: string; kind: string; params: number; flops: number }[];
    /** The largest batch and sequence length the model is served at (the manifest's `limits`). */
    limits: { max_batch: number; max_seq: number | null };
    scale: string | null;
    dtype: string;
  };
}

export interface RequestedOutput {
  name: string;
  /** As binary data (true), as JSON (false), or as the request's `binary_data_output` says (absent). */
  binary?: boolean;
}

/** An inference request as a front end parsed it; tensor data not yet decoded. */
export interface InferRequestIn {
  model: string;
  version?: string;
  id?: string;
  /** Request parameters; `qos_ms` (a number of ms) is read. */
  parameters: Readonly<Record<string, unknown>>;
  inputs: RawInput[];
  /** Outputs asked for (all when absent). */
  outputs?: RequestedOutput[];
  /** Every output as binary data (the binary extension's `binary_data_output`). */
  binaryOutput?: boolean;
}

export interface InferOutput {
  name: string;
  datatype: 'FP32';
  shape: number[];
  data: Float32Array;
  binary: boolean;
}

/** Server-side timings of a request, ms: arrival at the controller to first launch, to finish. */
export interface InferTimings {
  status: 'ok' | 'late';
  qos_ms: number;
  queue_ms: number;
  compute_ms: number;
  total_ms: number;
  groups: number;
  search_steps: number;
}

export interface InferResult {
  model: string;
  version: string;
  id?: string;
  outputs: InferOutput[];
  timings: InferTimings;
}

/** What a front end tells the core about a request besides its content. */
export interface FrontContext {
  /** `performance.now()` when the request's headers were read: its arrival (parsing counts against its QoS). */
  receivedAt?: number;
  /** Called once the request is in the queue (or refused): the front end's slot from `admitBeforeBody` is free again. */
  onSubmitted?: () => void;
}

export interface InferenceCoreOptions {
  /** Largest batch dim accepted (default 1024). */
  maxBatch?: number;
  /** The services run on a GPU (the model configuration's instance kind). */
  gpu?: boolean;
}

const nsSince = (t0: bigint): number => Number(process.hrtime.bigint() - t0);

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

export class InferenceCore {
  private readonly models = new Map<string, ServedModel>();
  private readonly maxBatch: number;
  private readonly gpu: boolean;
  private readonly stats = new Map<string, ModelStatisticsRecorder>();
  /** Requests admitted by `admitBeforeBody` and not yet submitted (their bodies being read or parsed), per model name. */
  private readonly frontPendingOfModel = new Map<string, number>();

  constructor(models: readonly ServedModel[], private readonly queue: OnlineQueue, private readonly metrics: ServerMetrics, options: InferenceCoreOptions = {}) {
    for (const m of models) {
      this.models.set(m.manifest.name, m);
      this.stats.set(m.manifest.name, new ModelStatisticsRecorder(m.manifest.name, MODEL_VERSION));
    }
    this.maxBatch = options.maxBatch ?? 1024;
    this.gpu = options.gpu ?? false;
  }

  get modelNames(): string[] {
    return [...this.models.keys()];
  }

  /** The served model of that name (and version, when given); ProtocolError not-found otherwise. */
  model(name: string, version?: string): ServedModel {
    const m = this.models.get(name);
    if (!m) throw new ProtocolError('not-found', `unknown model '${name}' (served: ${this.modelNames.join(', ')})`);
    if (version !== undefined && version !== '' && version !== MODEL_VERSION) throw new ProtocolError('not-found', `model '${name}' has no version '${version}' (versions: ${MODEL_VERSION})`);
    return m;
  }

  /** The label value for a model name in the metrics (unknown names share one value). */
  modelLabel(name: string): string {
    return this.models.has(name) ? name : UNKNOWN_MODEL_LABEL;
  }

  /** Count a request a front end refused before it reached the core (malformed, too large). */
  countInvalid(model: string): void {
    this.metrics.request(this.modelLabel(model), 'invalid');
  }

  /** Triton's model configuration of a served model. */
  config(name: string, version?: string): ModelConfig {
    const { manifest, qosMs } = this.model(name, version);
    return modelConfigOf(manifest, this.maxBatch, this.gpu, qosMs);
  }

  /** Triton's model statistics: of one model (`name` given) or of every served model. */
  statistics(name?: string, version?: string): ModelStatistics[] {
    if (name === undefined || name === '') return [...this.stats.values()].map((s) => s.snapshot());
    this.model(name, version);
    return [(this.stats.get(name) as ModelStatisticsRecorder).snapshot()];
  }

  /** Count a request a front end refused before it reached the core, by its error: rejected, unavailable, else invalid. */
  countRefused(model: string, err: unknown): void {
    const kind = err instanceof ProtocolError ? err.kind : 'bad-request';
    this.metrics.request(this.modelLabel(model), kind === 'rejected' ? 'rejected' : kind === 'unavailable' ? 'unavailable' : 'invalid');
  }

  /**
   * Admission from a request's headers, before its body is read: unknown model (not-found), not
   * accepting (unavailable), or a full queue or a predicted miss of `qosMs` (default: the model's QoS)
   * with the work already queued (rejected) throw a ProtocolError, counted. Otherwise the request holds a
   * front slot (it counts as queued) until the returned release is called (idempotent).
   */
  admitBeforeBody(name: string, version: string | undefined, qosMs: number | undefined): () => void {
    const served = this.model(name, version);
    const modelName = served.manifest.name;
    const refused = this.queue.precheck(modelName, qosMs ?? served.qosMs, this.frontPendingOfModel);
    if (refused) {
      const closed = refused.reason === 'closed';
      this.metrics.request(served.manifest.name, closed ? 'unavailable' : 'rejected');
      throw new ProtocolError(closed ? 'unavailable' : 'rejected', closed ? refused.detail : `rejected: ${refused.detail}`);
    }
    this.frontPendingOfModel.set(modelName, (this.frontPendingOfModel.get(modelName) ?? 0) + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.frontPendingOfModel.set(modelName, (this.frontPendingOfModel.get(modelName) ?? 1) - 1);
    };
  }

  metadata(name: string, version?: string): ModelMetadata {
    const { manifest, qosMs } = this.model(name, version);
    return {
      name: manifest.name,
      versions: [MODEL_VERSION],
      platform: 'onnxruntime_onnx',
      inputs: manifest.inputs.map((t) => ({ name: t.name, datatype: datatypeOf(t), shape: protocolShape(t, manifest.reference) })),
      outputs: manifest.outputs.map((t) => ({ name: t.name, datatype: 'FP32', shape: protocolShape(t, manifest.reference) })),
      abacus: {
        id: manifest.id,
        qos_ms: qosMs,
        dims: Object.fromEntries(manifest.inputs.map((t) => [t.name, t.shape.map((d) => (typeof d === 'string' ? d : null))])),
        operators: manifest.operators.map((o) => ({ index: o.index, name: o.name, kind: o.kind, params: o.params, flops: o.flops })),
        limits: { max_batch: manifest.limits.maxBatch, max_seq: manifest.limits.maxSeq },
        scale: manifest.scale,
        dtype: manifest.dtype,
      },
    };
  }

  /**
   * Serve one request: check it, submit it, await its outcome. Throws a ProtocolError for a bad request
   * (bad-request, not-found), a rejection (rejected: admission control or the abandon rule), a server
   * that is not accepting or whose host failed (unavailable), and a client that went away (failed).
   */
  async infer(req: InferRequestIn, signal?: AbortSignal): Promise<InferResult> {
    return this.inferEncoded(req, signal, (result) => result);
  }

  /**
   * `infer`, with the response encoded by `encode` before the outcome is counted: a request counts as ok
   * (or late) only once its response exists; an encoding that throws counts as failed (500). The
   * model's statistics (Triton's) count it as a success or a failure the same way.
   */
  async inferEncoded<T>(req: InferRequestIn, signal: AbortSignal | undefined, encode: (result: InferResult) => T, front: FrontContext = {}): Promise<T> {
    const t0 = process.hrtime.bigint();
    try {
      return await this.inferTimed(req, t0, signal, encode, front);
    } catch (err) {
      this.stats.get(req.model)?.failed(nsSince(t0));
      throw err;
    }
  }

  private async inferTimed<T>(req: InferRequestIn, t0: bigint, signal: AbortSignal | undefined, encode: (result: InferResult) => T, front: FrontContext): Promise<T> {
    let served: ServedModel;
    let decoded: ReturnType<typeof decodeInputs>;
    let qosMs: number;
    try {
      served = this.model(req.model, req.version);
      const manifest = served.manifest;
      qosMs = this.qosOf(req.parameters, served.qosMs);
      if (req.outputs) {
        const names = new Set(manifest.outputs.map((o) => o.name));
        const asked = new Set<string>();
        for (const o of req.outputs) {
          if (!names.has(o.name)) throw new ProtocolError('bad-request', `model '${manifest.name}' has no output '${o.name}' (outputs: ${[...names].join(', ')})`);
          if (asked.has(o.name)) throw new ProtocolError('bad-request', `output '${o.name}' is asked for more than once`);
          asked.add(o.name);
        }
      }
      if (!Array.isArray(req.inputs) || req.inputs.length === 0) throw new ProtocolError('bad-request', "a request needs 'inputs'");
      decoded = decodeInputs(manifest, req.inputs, this.maxBatch);
    } catch (err) {
      front.onSubmitted?.();
      this.metrics.request(this.modelLabel(req.model), 'invalid');
      throw err instanceof ProtocolError ? err : new ProtocolError('bad-request', errorMessage(err));
    }
    const manifest = served.manifest;
    const inputNs = nsSince(t0);
    let outcome: OnlineOutcome;
    try {
      const waitedMs = front.receivedAt !== undefined ? performance.now() - front.receivedAt : 0;
      const submitted = this.queue.submit({ model: manifest.name, batch: decoded.batch, seq: decoded.seq, qosMs, inputs: decoded.tensors, returnOutput: true, waitedMs, ...(signal ? { signal } : {}) });
      front.onSubmitted?.();
      outcome = await submitted;
    } catch (err) {
      front.onSubmitted?.();
      this.metrics.request(manifest.name, 'invalid');
      throw new ProtocolError('bad-request', errorMessage(err));
    }
    const t1 = process.hrtime.bigint();
    const answered = this.answer(req, manifest, qosMs, outcome);
    let encoded: T;
    try {
      encoded = encode(answered.result);
    } catch (err) {
      this.metrics.request(manifest.name, 'failed');
      throw new ProtocolError('failed', `encoding the response failed: ${errorMessage(err)}`);
    }
    this.metrics.request(manifest.name, answered.result.timings.status);
    this.metrics.completed(answered.row);
    this.queue.replied(answered.row);
    const row = answered.row;
    const start = row.startMs ?? row.arrivalMs;
    this.stats.get(manifest.name)?.completed({
      batch: decoded.batch,
      totalNs: nsSince(t0),
      queueNs: (start - row.arrivalMs) * 1e6,
      inputNs,
      inferNs: ((row.finishMs ?? start) - start) * 1e6,
      // the output's extraction and the response's encoding
      outputNs: nsSince(t1),
    });
    return encoded;
  }

  private qosOf(parameters: Readonly<Record<string, unknown>>, fallbackMs: number): number {
    const value = parameters.qos_ms;
    if (value === undefined || value === null) return fallbackMs;
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0 || n > 3_600_000) throw new ProtocolError('bad-request', `parameter qos_ms must be a positive number of ms (at most an hour), got ${JSON.stringify(value)}`);
    return n;
  }

  /** The result of a served query (not yet counted: the caller counts it once encoded), or the ProtocolError of any other outcome (counted). */
  private answer(req: InferRequestIn, manifest: Manifest, qosMs: number, outcome: OnlineOutcome): { result: InferResult; row: QueryLogRow } {
    const count = (o: RequestOutcome): void => this.metrics.request(manifest.name, o);
    switch (outcome.status) {
      case 'rejected':
        if (outcome.reason === 'closed') {
          count('unavailable');
          throw new ProtocolError('unavailable', outcome.detail);
        }
        count('rejected');
        throw new ProtocolError('rejected', `rejected: ${outcome.detail}`);
      case 'dropped':
        count(outcome.cancelled ? 'cancelled' : 'dropped');
        throw new ProtocolError(outcome.cancelled ? 'failed' : 'rejected', outcome.cancelled ? 'cancelled: the client went away' : `dropped: predicted to miss its QoS of ${qosMs} ms`);
      case 'failed':
        count('failed');
        throw new ProtocolError('unavailable', `the query failed: ${outcome.error}`);
      case 'ok':
      case 'late': {
        const output = outcome.output;
        if (!output) {
          count('failed');
          throw new ProtocolError('failed', 'the executor returned no output');
        }
        const data = output.data instanceof Float32Array ? output.data : Float32Array.from(output.data);
        const spec = manifest.outputs[0];
        const name = spec?.name ?? 'output';
        const wanted: RequestedOutput[] = req.outputs ?? [{ name }];
        const result: InferResult = {
          model: manifest.name,
          version: MODEL_VERSION,
          ...(req.id !== undefined ? { id: req.id } : {}),
          outputs: wanted.filter((o) => o.name === name).map((o) => ({ name, datatype: 'FP32' as const, shape: [...output.dims], data, binary: o.binary ?? req.binaryOutput === true })),
          timings: timingsOf(outcome.row, outcome.status, qosMs),
        };
        return { result, row: outcome.row };
      }
    }
  }
}

function timingsOf(row: QueryLogRow, status: 'ok' | 'late', qosMs: number): InferTimings {
  const start = row.startMs ?? row.arrivalMs;
  const finish = row.finishMs ?? start;
  return {
    status,
    qos_ms: qosMs,
    queue_ms: round3(start - row.arrivalMs),
    compute_ms: round3(finish - start),
    total_ms: round3(row.latencyMs ?? finish - row.arrivalMs),
    groups: row.groups,
    search_steps: row.searchSteps,
  };
}
