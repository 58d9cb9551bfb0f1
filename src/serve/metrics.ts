/**
 * Prometheus metrics of an online server (prom-client, one registry per server). Latencies are
 * histograms in seconds, so percentiles (p99) can be derived and aggregated across servers:
 *
 * - `abacus_requests_total{model,outcome}`: every inference request by outcome: ok, late, dropped (the
 *   abandon rule gave up on it), rejected (admission control), failed (its group failed, or its response
 *   could not be encoded; ok and late are counted only once the response is encoded), cancelled (the
 *   client went away), invalid (bad request), unavailable (not accepting);
 * - `abacus_request_duration_seconds{model}`, `abacus_request_queue_seconds{model}`,
 *   `abacus_request_compute_seconds{model}`: server-side latency of completed requests: arrival to
 *   finish, arrival to the first segment's launch, first launch to finish;
 * - `abacus_queue_depth{model}`: outstanding requests (gauge), `abacus_backlog_seconds`: predicted time to
 *   drain them;
 * - `abacus_group_duration_seconds`: measured launch-to-barrier time of groups;
 *   `abacus_group_prediction_error_ratio`: |predicted - measured| / measured per group, and
 *   `abacus_group_predicted_seconds_total` / `abacus_group_measured_seconds_total` (same groups);
 * - `abacus_host_restarts_total{model}`;
 * - `abacus_grpc_server_handled_total{grpc_method,grpc_code}`: every gRPC call by its final status,
 *   also calls that end before their handler runs (a deadline that expires while the request arrives);
 * - `abacus_grpc_infer_decoded_total`: ModelInfer messages decoded: only those that passed the token,
 *   the model check and admission (a refused one is never decoded);
 * - `abacus_inflight_body_bytes`: bytes of request bodies held now (bounded; beyond, 503);
 * - `abacus_build_info{version,commit,node,onnxruntime}`: 1.
 *
 * The series of every served model (and of `_unknown`) and every outcome exist at 0 from the start, so
 * that rates and absent-series alerts work before the first request; the gRPC series of every method the
 * server implements exist at 0 with code OK.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { gitCommit, libraryVersions } from '../common/provenance.js';
import type { GroupLogRow, OnlineStatus, QueryLogRow, RunLogSink } from '../controller/index.js';

export const REQUEST_OUTCOMES = ['ok', 'late', 'dropped', 'rejected', 'failed', 'cancelled', 'invalid', 'unavailable'] as const;
export type RequestOutcome = (typeof REQUEST_OUTCOMES)[number];

/** What the series start from: the served models, the gRPC methods served (none: no gRPC). */
export interface MetricsSeries {
  models: readonly string[];
  grpcMethods?: readonly string[];
}

/** The model label of requests for a model the server does not serve (keeps label values bounded). */
export const UNKNOWN_MODEL_LABEL = '_unknown';

const LATENCY_BUCKETS_S = [0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10];
const RATIO_BUCKETS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5];

export class ServerMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'model' | 'outcome'>;
  private readonly duration: Histogram<'model'>;
  private readonly queue: Histogram<'model'>;
  private readonly compute: Histogram<'model'>;
  private readonly groupDuration: Histogram<string>;
  private readonly predictionError: Histogram<string>;
  private readonly predictedTotal: Counter<string>;
  private readonly measuredTotal: Counter<string>;
  private readonly restarts: Counter<'model'>;
  private readonly grpcHandled: Counter<'grpc_method' | 'grpc_code'>;
  private readonly grpcInferDecoded: Counter<string>;

  constructor(status: () => OnlineStatus | null, series: MetricsSeries = { models: [] }, inflightBodyBytes?: () => number) {
    const registers = [this.registry];
    this.requests = new Counter({ name: 'abacus_requests_total', help: 'Inference requests by model and outcome', labelNames: ['model', 'outcome'], registers });
    this.duration = new Histogram({ name: 'abacus_request_duration_seconds', help: 'Server-side latency of completed requests (arrival to finish)', labelNames: ['model'], buckets: LATENCY_BUCKETS_S, registers });
    this.queue = new Histogram({ name: 'abacus_request_queue_seconds', help: 'Arrival to the launch of the first segment, completed requests', labelNames: ['model'], buckets: LATENCY_BUCKETS_S, registers });
    this.compute = new Histogram({ name: 'abacus_request_compute_seconds', help: 'Launch of the first segment to finish, completed requests', labelNames: ['model'], buckets: LATENCY_BUCKETS_S, registers });
    this.groupDuration = new Histogram({ name: 'abacus_group_duration_seconds', help: 'Measured launch-to-barrier time of groups', buckets: LATENCY_BUCKETS_S, registers });
    this.predictionError = new Histogram({ name: 'abacus_group_prediction_error_ratio', help: '|predicted - measured| / measured group time', buckets: RATIO_BUCKETS, registers });
    this.predictedTotal = new Counter({ name: 'abacus_group_predicted_seconds_total', help: 'Predicted time of the groups with a prediction', registers });
    this.measuredTotal = new Counter({ name: 'abacus_group_measured_seconds_total', help: 'Measured time of the groups with a prediction', registers });
    this.restarts = new Counter({ name: 'abacus_host_restarts_total', help: 'Service hosts restarted after they died', labelNames: ['model'], registers });
    this.grpcHandled = new Counter({ name: 'abacus_grpc_server_handled_total', help: 'gRPC calls by method and final status code', labelNames: ['grpc_method', 'grpc_code'], registers });
    this.grpcInferDecoded = new Counter({ name: 'abacus_grpc_infer_decoded_total', help: 'ModelInfer messages decoded (after the token, model and admission checks)', registers });
    const versions = libraryVersions();
    new Gauge({ name: 'abacus_build_info', help: 'The running abacus: version, git commit, Node and onnxruntime versions (value 1)', labelNames: ['version', 'commit', 'node', 'onnxruntime'], registers })
      .set({ version: versions.abacus ?? 'unknown', commit: gitCommit() ?? 'unknown', node: versions.node ?? 'unknown', onnxruntime: versions['onnxruntime-node'] ?? 'unknown' }, 1);
    for (const model of [...series.models, UNKNOWN_MODEL_LABEL]) {
      for (const outcome of REQUEST_OUTCOMES) this.requests.inc({ model, outcome }, 0);
    }
    for (const model of series.models) {
      for (const h of [this.duration, this.queue, this.compute]) h.zero({ model });
      this.restarts.inc({ model }, 0);
    }
    for (const method of series.grpcMethods ?? []) this.grpcHandled.inc({ grpc_method: method, grpc_code: 'OK' }, 0);
    new Gauge({
      name: 'abacus_queue_depth',
      help: 'Outstanding requests (issued or waiting to be issued, not finished)',
      labelNames: ['model'],
      registers,
      collect() {
        const s = status();
        if (!s) return;
        for (const [model, m] of Object.entries(s.perModel)) this.set({ model }, m.queued);
      },
    });
    new Gauge({
      name: 'abacus_inflight_body_bytes',
      help: 'Bytes of request bodies held now (both protocols; bounded by --max-inflight-mb)',
      registers,
      collect() {
        if (inflightBodyBytes) this.set(inflightBodyBytes());
      },
    });
    new Gauge({
      name: 'abacus_backlog_seconds',
      help: 'Predicted time to drain the outstanding requests (largest per model)',
      registers,
      collect() {
        const s = status();
        if (s?.backlogMs !== null && s?.backlogMs !== undefined) this.set(s.backlogMs / 1000);
      },
    });
  }

  request(model: string, outcome: RequestOutcome): void {
    this.requests.inc({ model, outcome });
  }

  /** A completed request's server-side timings (from its run-log row). */
  completed(row: QueryLogRow): void {
    if (row.latencyMs === null) return;
    this.duration.observe({ model: row.model }, row.latencyMs / 1000);
    if (row.startMs !== null && row.finishMs !== null) {
      this.queue.observe({ model: row.model }, (row.startMs - row.arrivalMs) / 1000);
      this.compute.observe({ model: row.model }, (row.finishMs - row.startMs) / 1000);
    }
  }

  /** A gRPC call's final status (method name, status code name). */
  grpcCall(method: string, code: string): void {
    this.grpcHandled.inc({ grpc_method: method, grpc_code: code });
  }

  /** A ModelInfer message was decoded. */
  grpcInferDecodedOne(): void {
    this.grpcInferDecoded.inc();
  }

  restart(model: string): void {
    this.restarts.inc({ model });
  }

  /** A run-log sink feeding the group metrics (tee it with a file log). */
  groupSink(): RunLogSink {
    return {
      query: () => undefined,
      group: (row: GroupLogRow) => {
        if (row.status !== 'ok') return;
        this.groupDuration.observe(row.groupMs / 1000);
        if (row.predictedMs !== null && row.groupMs > 0) {
          this.predictionError.observe(Math.abs(row.predictedMs - row.groupMs) / row.groupMs);
          this.predictedTotal.inc(row.predictedMs / 1000);
          this.measuredTotal.inc(row.groupMs / 1000);
        }
      },
    };
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
