/**
 * `abacus serve --listen`: the online server. The loaded services run in the executor, the controller's
 * serving loop reads an `OnlineQueue` under the chosen policy, and the Open Inference Protocol front ends
 * (HTTP/REST, optionally gRPC) submit each request to that queue. A service host that dies is restarted;
 * the queries it held fail (503 / UNAVAILABLE). `drain()` stops admission, serves every accepted request,
 * closes the listeners and the services, and returns the run's summary.
 */
import { errorMessage } from '../common/errors.js';
import { Executor, type ExecutionProviderName, type ExecutorOptions } from '../executor/index.js';
import {
  OnlineQueue, runServing, teeRunLog, qosFor,
  type LatencyModel, type PolicyName, type QosSpec, type RunLogSink, type RunSummary, type TraceQuery, type OnlineStatus, type BarrierMode,
} from '../controller/index.js';
import { hasSeqInput, type Manifest } from '../zoo/manifest.js';
import { ExecutorRunner } from './adapters.js';
import { startServices } from './run.js';
import { ServerMetrics } from './metrics.js';
import { InferenceCore, type ServedModel } from './service.js';
import { startHttpFront, type HostPort, type HttpFront } from './http.js';
import { GRPC_SERVED_METHODS, startGrpcFront, type GrpcFront } from './grpc.js';
import { ByteBudget } from './limits.js';

const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

export const SERVER_NAME = 'abacus';
export const SERVER_VERSION = '0.1.0';
/** The protocol extensions served (KServe's and Triton's names): every one has its routes on HTTP and gRPC. */
export const SERVER_EXTENSIONS = ['binary_tensor_data', 'model_repository', 'model_configuration', 'statistics', 'parameters', 'abacus_status'];

export interface OnlineServerOptions {
  models: Array<{ manifest: Manifest; dir: string }>;
  policy: PolicyName;
  latencyModel: LatencyModel | null;
  /** Default QoS per model (a request's `qos_ms` parameter overrides it). */
  qos: QosSpec;
  ways: number;
  thldMs: number;
  /** abacus's barrier mode (default 'group'). */
  barrier?: BarrierMode;
  abandon: boolean;
  ep: ExecutionProviderName;
  intraOpThreads: number;
  seed: number;
  /** Batch sizes and sequence lengths to warm up before listening. */
  batchSizes: readonly number[];
  seqLens: readonly number[];
  /** Outstanding requests before more are rejected (default 256). */
  maxQueue?: number;
  /** Reject requests predicted to miss their QoS at once (needs a latency model; default true). */
  predictAdmission?: boolean;
  /** Largest request body / gRPC message (default 64 MiB). */
  maxBodyBytes?: number;
  /** Bytes of request bodies held at once over both protocols; beyond, 503 / UNAVAILABLE (default 4 x maxBodyBytes). */
  maxInflightBodyBytes?: number;
  /** Open HTTP connections; beyond, 503 and closed (default 1024). */
  maxConnections?: number;
  /** Callers must send `authorization: Bearer <token>` on both protocols (health probes excepted). */
  authToken?: string;
  /** JSON request parts of at least this many bytes are parsed on a worker thread (default 1 MiB). */
  offLoopJsonBytes?: number;
  maxBatch?: number;
  /** HTTP/REST address (port 0: any free port). */
  listen: HostPort;
  /** gRPC address (none: no gRPC). */
  grpc?: HostPort;
  /** Where the run's query and group rows go besides the metrics (a file log). */
  log?: RunLogSink;
  executor?: ExecutorOptions;
  /** Told about host restarts and a failed serving loop (default: stderr). */
  onEvent?: (message: string) => void;
}

export interface ServerStatus {
  name: string;
  ready: boolean;
  accepting: boolean;
  policy: PolicyName;
  models: string[];
  hosts: Record<string, boolean>;
  restarts: number;
  queue: OnlineStatus | null;
}

export class OnlineServer {
  private drainPromise: Promise<RunSummary> | null = null;
  private restarts = 0;
  private runError: Error | null = null;

  private constructor(
    readonly executor: Executor,
    readonly runner: ExecutorRunner,
    readonly queue: OnlineQueue,
    readonly metrics: ServerMetrics,
    readonly core: InferenceCore,
    private readonly run: Promise<RunSummary>,
    private readonly http: HttpFront,
    private readonly grpcFront: GrpcFront | null,
    private readonly options: OnlineServerOptions,
  ) {}

  get httpAddress(): HostPort {
    return this.http.address;
  }

  get grpcAddress(): HostPort | null {
    return this.grpcFront?.address ?? null;
  }

  /** Start the services, the serving loop and the listeners. */
  static async start(options: OnlineServerOptions): Promise<OnlineServer> {
    const say = options.onEvent ?? ((m: string) => process.stderr.write(`abacus: ${m}\n`));
    const served: ServedModel[] = options.models.map((m) => ({ manifest: m.manifest, qosMs: qosFor(options.qos, m.manifest.name) }));
    const executor = await startServices(options.models, options.ep, options.intraOpThreads, options.seed, warmupQueries(options));
    let state: { server: OnlineServer | null } = { server: null };
    try {
      const queue = new OnlineQueue(options.models.map((m) => ({ name: m.manifest.name, modelId: m.manifest.id })), {
        ...(options.maxQueue !== undefined ? { maxQueue: options.maxQueue } : {}),
        ...(options.predictAdmission !== undefined ? { predictAdmission: options.predictAdmission } : {}),
      });
      const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
      const inflightBodies = new ByteBudget(options.maxInflightBodyBytes ?? 4 * maxBodyBytes);
      const metrics = new ServerMetrics(() => queue.status(), {
        models: options.models.map((m) => m.manifest.name),
        ...(options.grpc ? { grpcMethods: GRPC_SERVED_METHODS } : {}),
      }, () => inflightBodies.usedBytes);
      const runner = new ExecutorRunner(executor, {
        restartDeadHosts: true,
        onRestart: (service, error) => {
          metrics.restart(service);
          if (state.server) state.server.restarts++;
          say(error ? `restarting the host of ${service} failed: ${error.message}` : `the host of ${service} died and was restarted`);
        },
      });
      const log = teeRunLog(metrics.groupSink(), ...(options.log ? [options.log] : []));
      const run = runServing({
        policy: options.policy,
        runner,
        trace: [],
        online: queue,
        ways: options.ways,
        thldMs: options.thldMs,
        abandon: options.abandon,
        ...(options.policy === 'abacus' && options.barrier ? { barrier: options.barrier } : {}),
        log,
        ...(options.latencyModel ? { latencyModel: options.latencyModel } : {}),
      });
      // a failed serving loop must not leave requests waiting forever
      run.catch((err: unknown) => {
        if (state.server) state.server.runError = err instanceof Error ? err : new Error(String(err));
        queue.close();
        queue.failOutstanding(`the serving loop stopped: ${errorMessage(err)}`);
        say(`the serving loop failed: ${errorMessage(err)}`);
      });
      const core = new InferenceCore(served, queue, metrics, { gpu: options.ep !== 'cpu', ...(options.maxBatch !== undefined ? { maxBatch: options.maxBatch } : {}) });
      const api = {
        core,
        serverMetadata: () => ({ name: SERVER_NAME, version: SERVER_VERSION, extensions: SERVER_EXTENSIONS }),
        ready: () => state.server?.ready() ?? false,
        status: () => state.server?.status() ?? null,
        metrics: async () => ({ contentType: metrics.contentType, text: await metrics.text() }),
        callEnded: (method: string, code: string) => metrics.grpcCall(method, code),
        inferDecoded: () => metrics.grpcInferDecodedOne(),
      };
      let http: HttpFront | null = null;
      let grpcFront: GrpcFront | null = null;
      try {
        const auth = options.authToken !== undefined ? { authToken: options.authToken } : {};
        http = await startHttpFront(api, {
          ...options.listen, maxBodyBytes, inflightBodies, ...auth,
          ...(options.maxConnections !== undefined ? { maxConnections: options.maxConnections } : {}),
          ...(options.offLoopJsonBytes !== undefined ? { offLoopJsonBytes: options.offLoopJsonBytes } : {}),
        });
        if (options.grpc) grpcFront = await startGrpcFront(api, options.grpc, maxBodyBytes, inflightBodies, options.authToken);
      } catch (err) {
        queue.close();
        await http?.close(0);
        await run.catch(() => undefined);
        throw err;
      }
      state = { server: new OnlineServer(executor, runner, queue, metrics, core, run, http, grpcFront, options) };
      return state.server as OnlineServer;
    } catch (err) {
      await executor.shutdown();
      throw err;
    }
  }

  /** Accepting requests, the serving loop running, and every service host alive. */
  ready(): boolean {
    if (this.queue.closed || this.runError !== null) return false;
    return this.executor.services.every((s) => this.executor.isAlive(s));
  }

  status(): ServerStatus {
    return {
      name: SERVER_NAME,
      ready: this.ready(),
      accepting: !this.queue.closed,
      policy: this.options.policy,
      models: this.core.modelNames,
      hosts: Object.fromEntries(this.executor.services.map((s) => [s, this.executor.isAlive(s)])),
      restarts: this.restarts,
      queue: this.queue.status(),
    };
  }

  /**
   * Stop admission (new requests get 503), serve every accepted request, close the listeners and the
   * services; resolves with the run's summary. Idempotent.
   */
  drain(): Promise<RunSummary> {
    this.drainPromise ??= (async () => {
      this.queue.close();
      try {
        const summary = await this.run;
        await this.runner.releaseAll().catch(() => undefined);
        return summary;
      } finally {
        await this.http.close();
        await this.grpcFront?.close();
        await this.executor.shutdown();
      }
    })();
    return this.drainPromise;
  }
}

/** One warm-up shape per batch size and (for models with one) sequence length. */
function warmupQueries(options: OnlineServerOptions): TraceQuery[] {
  const out: TraceQuery[] = [];
  for (const m of options.models) {
    const hasSeq = hasSeqInput(m.manifest);
    for (const batch of options.batchSizes) {
      for (const seq of hasSeq ? options.seqLens : [0]) {
        out.push({ id: `warm-${out.length}`, arrivalMs: 0, model: m.manifest.name, modelId: m.manifest.id, batch, seq, qosMs: 1 });
      }
    }
  }
  return out;
}
