/**
 * Triton's protocol extensions that its tools call first: the model configuration
 * (`ModelConfig`, `GET /v2/models/{m}/config`) and the model statistics (`ModelStatistics`,
 * `GET /v2/models[/{m}]/stats`), in the shapes of Triton's grpc_service.proto / model_config.proto
 * (src/serve/proto/triton/) and of its REST extensions (JSON with the proto's field names).
 *
 * Statistics follow Triton's definitions (grpc_service.proto, `InferStatistics`): `success` counts the
 * requests that completed (ok or late) with their cumulative server-side time, arrival at the core to the
 * answer; `fail` the requests for a served model that got an error, with the same time; `queue` the
 * wait from arrival at the serving loop to the launch of the first segment; `compute_input` decoding the
 * request's tensors; `compute_infer` first launch to the last segment's finish; `compute_output` building
 * the output. `inference_count` sums the batch sizes of completed requests, `execution_count` counts
 * model executions (abacus runs each request on its own: one per request), `last_inference` is ms since
 * the epoch. All times are integer ns. abacus has no response cache: `cache_hit`/`cache_miss` stay 0.
 */
import type { Manifest } from '../zoo/manifest.js';
import { datatypeOf, protocolShape } from './tensors.js';

export interface StatisticDuration {
  count: number;
  ns: number;
}

export interface InferStatistics {
  success: StatisticDuration;
  fail: StatisticDuration;
  queue: StatisticDuration;
  compute_input: StatisticDuration;
  compute_infer: StatisticDuration;
  compute_output: StatisticDuration;
  cache_hit: StatisticDuration;
  cache_miss: StatisticDuration;
}

export interface InferBatchStatistics {
  batch_size: number;
  compute_input: StatisticDuration;
  compute_infer: StatisticDuration;
  compute_output: StatisticDuration;
}

/** Triton's `ModelStatistics` (the fields abacus has). */
export interface ModelStatistics {
  name: string;
  version: string;
  last_inference: number;
  inference_count: number;
  execution_count: number;
  inference_stats: InferStatistics;
  batch_stats: InferBatchStatistics[];
}

/** Where the time of one completed request went, ns. */
export interface CompletedTimesNs {
  batch: number;
  totalNs: number;
  queueNs: number;
  inputNs: number;
  inferNs: number;
  outputNs: number;
}

const zero = (): StatisticDuration => ({ count: 0, ns: 0 });
const add = (d: StatisticDuration, ns: number): void => {
  d.count += 1;
  d.ns += Math.max(0, Math.round(ns));
};

/** Cumulative statistics of one served model. */
export class ModelStatisticsRecorder {
  private lastInferenceMs = 0;
  private inferences = 0;
  private executions = 0;
  private readonly stats: InferStatistics = {
    success: zero(), fail: zero(), queue: zero(), compute_input: zero(), compute_infer: zero(), compute_output: zero(), cache_hit: zero(), cache_miss: zero(),
  };
  private readonly byBatch = new Map<number, InferBatchStatistics>();

  constructor(readonly name: string, readonly version: string) {}

  completed(t: CompletedTimesNs, nowMs = Date.now()): void {
    this.lastInferenceMs = nowMs;
    this.inferences += t.batch;
    this.executions += 1;
    add(this.stats.success, t.totalNs);
    add(this.stats.queue, t.queueNs);
    add(this.stats.compute_input, t.inputNs);
    add(this.stats.compute_infer, t.inferNs);
    add(this.stats.compute_output, t.outputNs);
    let b = this.byBatch.get(t.batch);
    if (!b) {
      b = { batch_size: t.batch, compute_input: zero(), compute_infer: zero(), compute_output: zero() };
      this.byBatch.set(t.batch, b);
    }
    add(b.compute_input, t.inputNs);
    add(b.compute_infer, t.inferNs);
    add(b.compute_output, t.outputNs);
  }

  failed(totalNs: number): void {
    add(this.stats.fail, totalNs);
  }

  /** A copy of the statistics now. */
  snapshot(): ModelStatistics {
    const copy = (d: StatisticDuration): StatisticDuration => ({ ...d });
    const s = this.stats;
    return {
      name: this.name,
      version: this.version,
      last_inference: this.lastInferenceMs,
      inference_count: this.inferences,
      execution_count: this.executions,
      inference_stats: {
        success: copy(s.success), fail: copy(s.fail), queue: copy(s.queue), compute_input: copy(s.compute_input),
        compute_infer: copy(s.compute_infer), compute_output: copy(s.compute_output), cache_hit: copy(s.cache_hit), cache_miss: copy(s.cache_miss),
      },
      batch_stats: [...this.byBatch.values()].sort((a, b) => a.batch_size - b.batch_size).map((b) => ({
        batch_size: b.batch_size, compute_input: copy(b.compute_input), compute_infer: copy(b.compute_infer), compute_output: copy(b.compute_output),
      })),
    };
  }
}

/** Triton's `ModelInput` / `ModelOutput` (the fields abacus fills). */
export interface ModelTensorConfig {
  name: string;
  data_type: string;
  dims: number[];
}

/** Triton's `ModelConfig` (the fields abacus fills), as `GET /v2/models/{m}/config` and gRPC `ModelConfig` give it. */
export interface ModelConfig {
  name: string;
  platform: string;
  backend: string;
  version_policy: { latest: { num_versions: number } };
  max_batch_size: number;
  input: (ModelTensorConfig & { format: 'FORMAT_NONE' })[];
  output: ModelTensorConfig[];
  instance_group: { name: string; kind: 'KIND_CPU' | 'KIND_GPU'; count: number }[];
  default_model_filename: string;
  parameters: Record<string, { string_value: string }>;
}

/**
 * The Triton configuration of a served model. When every input's first dim is the symbolic `batch`,
 * the model batches: `max_batch_size` is the largest batch accepted (the server's `maxBatch` or the
 * manifest's `limits.maxBatch`, whichever is smaller) and `dims` leave the batch dim out
 * (Triton's convention); otherwise `max_batch_size` is 0 and `dims` are the full shapes. Symbolic dims
 * are -1.
 */
export function modelConfigOf(manifest: Manifest, maxBatch: number, gpu: boolean, qosMs: number): ModelConfig {
  const batching = manifest.inputs.length > 0 && manifest.inputs.every((t) => t.shape[0] === 'batch');
  const dims = (shape: number[]): number[] => (batching ? shape.slice(1) : shape);
  return {
    name: manifest.name,
    platform: 'onnxruntime_onnx',
    backend: 'onnxruntime',
    version_policy: { latest: { num_versions: 1 } },
    max_batch_size: batching ? Math.min(maxBatch, manifest.limits.maxBatch) : 0,
    input: manifest.inputs.map((t) => ({ name: t.name, data_type: `TYPE_${datatypeOf(t)}`, format: 'FORMAT_NONE' as const, dims: dims(protocolShape(t, manifest.reference)) })),
    output: manifest.outputs.map((t) => ({ name: t.name, data_type: 'TYPE_FP32', dims: dims(protocolShape(t, manifest.reference)) })),
    instance_group: [{ name: manifest.name, kind: gpu ? 'KIND_GPU' : 'KIND_CPU', count: 1 }],
    default_model_filename: manifest.model.file,
    parameters: {
      abacus_id: { string_value: String(manifest.id) },
      abacus_qos_ms: { string_value: String(qosMs) },
      abacus_operators: { string_value: String(manifest.operators.length) },
      ...(manifest.limits.maxSeq !== null ? { abacus_max_seq: { string_value: String(manifest.limits.maxSeq) } } : {}),
    },
  };
}
