/**
 * The Open Inference Protocol over gRPC with @grpc/grpc-js, from the official protos vendored in
 * src/serve/proto/ (see its README.md: sources, commits, licences):
 *
 * - `inference.GRPCInferenceService` as Triton's grpc_service.proto defines it (a superset of KServe's
 *   open_inference_grpc.proto, same package, service and field numbers). The six methods of the Open
 *   Inference Protocol (ServerLive, ServerReady, ModelReady, ServerMetadata, ModelMetadata, ModelInfer)
 *   use KServe's messages, so `ModelMetadataResponse.properties` (KServe's field 6, unknown to Triton's
 *   clients, which skip it) goes out; Triton's ModelConfig, ModelStatistics and RepositoryIndex use
 *   Triton's. Triton's other methods (shared memory, trace, logging, streaming) answer UNIMPLEMENTED.
 * - `grpc.health.v1.Health` (Check, List) for Kubernetes' gRPC probes: SERVING while the server is
 *   ready, NOT_SERVING otherwise, for the server ('') and for `inference.GRPCInferenceService`.
 * - gRPC server reflection (v1 and v1alpha, @grpc/reflection) over the same definitions.
 *
 * Inputs come as `raw_input_contents` (one entry per input, little-endian) or as `contents.fp32_contents`;
 * outputs go back as `raw_output_contents`. The QoS is the `qos_ms` request parameter; the response's
 * parameters hold the server-side timings. Errors: INVALID_ARGUMENT (bad request), NOT_FOUND (unknown
 * model, checked before the request's body), RESOURCE_EXHAUSTED (rejected: cannot meet its QoS),
 * UNAVAILABLE (not accepting, or the query's host failed), INTERNAL otherwise. Every call's final status
 * is reported through `GrpcApi.callEnded`, also of calls that end before their handler runs (a deadline
 * that expires while the request arrives).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { errorMessage } from '../common/errors.js';
import { ProtocolError, type ProtocolErrorKind, type RawInput } from './tensors.js';
import type { InferRequestIn, InferResult, InferenceCore, ModelMetadata, RequestedOutput } from './service.js';
import type { HostPort } from './http.js';

/** The vendored protos' folder: next to this module in the sources, under src/ from a build in dist/. */
export function protoDir(): string {
  const here = fileURLToPath(new URL('./proto', import.meta.url));
  if (existsSync(join(here, 'triton', 'grpc_service.proto'))) return here;
  return fileURLToPath(new URL('../../src/serve/proto', import.meta.url));
}

/** The official protos, relative to protoDir(). */
export const PROTO_FILES = {
  kserve: 'kserve/open_inference_grpc.proto',
  triton: 'triton/grpc_service.proto',
  health: 'grpc/health/v1/health.proto',
} as const;

export const PROTO_LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true };

/** One of the vendored protos as a proto-loader package definition. */
export function loadProto(which: keyof typeof PROTO_FILES): protoLoader.PackageDefinition {
  const dir = protoDir();
  return protoLoader.loadSync(join(dir, PROTO_FILES[which]), { ...PROTO_LOADER_OPTIONS, includeDirs: [join(dir, 'triton')] });
}

function serviceOf(definition: protoLoader.PackageDefinition, path: string): grpc.ServiceClientConstructor {
  let node: unknown = grpc.loadPackageDefinition(definition);
  for (const part of path.split('.')) node = (node as Record<string, unknown>)[part];
  return node as grpc.ServiceClientConstructor;
}

/** The Open Inference Protocol's service from KServe's proto (a client for tests and tools). */
export function loadInferenceService(): grpc.ServiceClientConstructor {
  return serviceOf(loadProto('kserve'), 'inference.GRPCInferenceService');
}

/** Triton's GRPCInferenceService from Triton's grpc_service.proto (a client for tests and tools). */
export function loadTritonService(): grpc.ServiceClientConstructor {
  return serviceOf(loadProto('triton'), 'inference.GRPCInferenceService');
}

/** gRPC's health service (grpc.health.v1.Health). */
export function loadHealthService(): grpc.ServiceClientConstructor {
  return serviceOf(loadProto('health'), 'grpc.health.v1.Health');
}

/** The methods the Open Inference Protocol defines (served with KServe's messages). */
const OIP_METHODS = ['ServerLive', 'ServerReady', 'ModelReady', 'ServerMetadata', 'ModelMetadata', 'ModelInfer'] as const;

/** Every gRPC method the front end implements (the metrics' series start from these). */
export const GRPC_SERVED_METHODS: readonly string[] = [...OIP_METHODS, 'ModelConfig', 'ModelStatistics', 'RepositoryIndex', 'Check', 'List'];

/** Triton's service definition with KServe's messages for the methods the Open Inference Protocol defines. */
function inferenceServiceDefinition(triton: protoLoader.PackageDefinition, kserve: protoLoader.PackageDefinition): grpc.ServiceDefinition {
  const tritonService = serviceOf(triton, 'inference.GRPCInferenceService').service;
  const kserveService = serviceOf(kserve, 'inference.GRPCInferenceService').service;
  const merged: Record<string, grpc.MethodDefinition<unknown, unknown>> = { ...tritonService };
  for (const m of OIP_METHODS) merged[m] = kserveService[m] as grpc.MethodDefinition<unknown, unknown>;
  return merged as grpc.ServiceDefinition;
}

/** An InferParameter as proto-loader gives it (oneofs: true). */
export interface GrpcParameter {
  parameter_choice?: 'bool_param' | 'int64_param' | 'string_param' | 'double_param' | 'uint64_param';
  bool_param?: boolean;
  int64_param?: number;
  string_param?: string;
  double_param?: number;
  uint64_param?: number;
}

interface GrpcInputTensor {
  name: string;
  datatype: string;
  shape: number[];
  parameters: Record<string, GrpcParameter>;
  contents: { fp32_contents: number[] } | null;
}

interface GrpcInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, GrpcParameter>;
  inputs: GrpcInputTensor[];
  outputs: { name: string; parameters: Record<string, GrpcParameter> }[];
  raw_input_contents: Buffer[];
}

interface GrpcInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, GrpcParameter>;
  outputs: { name: string; datatype: string; shape: number[]; parameters: Record<string, GrpcParameter> }[];
  raw_output_contents: Buffer[];
}

/** The plain value of a parameter. */
export function parameterValue(p: GrpcParameter): boolean | number | string | undefined {
  switch (p.parameter_choice) {
    case 'bool_param':
      return p.bool_param;
    case 'int64_param':
      return p.int64_param;
    case 'string_param':
      return p.string_param;
    case 'double_param':
      return p.double_param;
    case 'uint64_param':
      return p.uint64_param;
    default:
      return undefined;
  }
}

function parameters(map: Record<string, GrpcParameter> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(map ?? {})) out[k] = parameterValue(v);
  return out;
}

const GRPC_CODE: Readonly<Record<ProtocolErrorKind, grpc.status>> = {
  'bad-request': grpc.status.INVALID_ARGUMENT,
  'not-found': grpc.status.NOT_FOUND,
  method: grpc.status.UNIMPLEMENTED,
  'too-large': grpc.status.INVALID_ARGUMENT,
  rejected: grpc.status.RESOURCE_EXHAUSTED,
  unavailable: grpc.status.UNAVAILABLE,
  failed: grpc.status.INTERNAL,
};

function toServiceError(err: unknown): Partial<grpc.StatusObject> {
  return { code: err instanceof ProtocolError ? GRPC_CODE[err.kind] : grpc.status.INTERNAL, details: errorMessage(err) };
}

/** A gRPC ModelInfer request as the core takes it. */
export function fromGrpcRequest(req: GrpcInferRequest): InferRequestIn {
  const raw = req.raw_input_contents ?? [];
  const inputs = req.inputs ?? [];
  if (raw.length > 0 && raw.length !== inputs.length) throw new ProtocolError('bad-request', `raw_input_contents has ${raw.length} entries for ${inputs.length} inputs`);
  const parsed: RawInput[] = inputs.map((t, i) => {
    const input: RawInput = { name: t.name, datatype: t.datatype, shape: (t.shape ?? []).map(Number) };
    if (raw.length > 0) {
      if (t.contents && t.contents.fp32_contents.length > 0) throw new ProtocolError('bad-request', `input '${t.name}' has both contents and raw contents`);
      const b = raw[i] as Buffer;
      input.bytes = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } else {
      input.json = t.contents?.fp32_contents ?? [];
    }
    return input;
  });
  const outputs: RequestedOutput[] | undefined = (req.outputs ?? []).length > 0 ? req.outputs.map((o) => ({ name: o.name, binary: true })) : undefined;
  return {
    model: req.model_name,
    ...(req.model_version ? { version: req.model_version } : {}),
    ...(req.id ? { id: req.id } : {}),
    parameters: parameters(req.parameters),
    inputs: parsed,
    ...(outputs ? { outputs } : {}),
  };
}

function toGrpcResponse(result: InferResult): GrpcInferResponse {
  const t = result.timings;
  const d = (x: number): GrpcParameter => ({ parameter_choice: 'double_param', double_param: x });
  return {
    model_name: result.model,
    model_version: result.version,
    id: result.id ?? '',
    parameters: {
      status: { parameter_choice: 'string_param', string_param: t.status },
      qos_ms: d(t.qos_ms),
      queue_ms: d(t.queue_ms),
      compute_ms: d(t.compute_ms),
      total_ms: d(t.total_ms),
      groups: { parameter_choice: 'int64_param', int64_param: t.groups },
      search_steps: { parameter_choice: 'int64_param', int64_param: t.search_steps },
    },
    outputs: result.outputs.map((o) => ({ name: o.name, datatype: o.datatype, shape: o.shape, parameters: {} })),
    raw_output_contents: result.outputs.map((o) => Buffer.from(o.data.buffer, o.data.byteOffset, o.data.byteLength)),
  };
}

/** `ModelMetadataResponse.properties` (string values): abacus's own fields of the model's metadata. */
export function metadataProperties(m: ModelMetadata): Record<string, string> {
  const a = m.abacus;
  return {
    abacus_id: String(a.id),
    qos_ms: String(a.qos_ms),
    operators: String(a.operators.length),
    dtype: a.dtype,
    scale: a.scale ?? '',
    dims: JSON.stringify(a.dims),
  };
}

/** What the gRPC front end serves. */
export interface GrpcApi {
  readonly core: InferenceCore;
  serverMetadata(): { name: string; version: string; extensions: string[] };
  ready(): boolean;
  /** Told the final status of every call (method name, e.g. 'ModelInfer'; status code name, e.g. 'OK'). */
  callEnded?(method: string, code: string): void;
}

export interface GrpcFront {
  readonly address: HostPort;
  /** Stop accepting calls; wait (at most `graceMs`) for the calls in flight, then force. */
  close(graceMs?: number): Promise<void>;
}

type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => void;

function unary<Req, Res>(fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Res | Promise<Res>): Unary<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => fn(call.request, call))
      .then(
        (res) => callback(null, res),
        (err: unknown) => callback(toServiceError(err)),
      );
  };
}

const STATUS_NAME: ReadonlyMap<number, string> = new Map(Object.entries(grpc.status).filter((e): e is [string, number] => typeof e[1] === 'number').map(([k, v]) => [v, k]));

/** Reports every call's final status once: the status sent, or (a call ended before any status: an expired deadline, a client gone) DEADLINE_EXCEEDED / CANCELLED. */
function statusInterceptor(report: (method: string, code: string) => void): grpc.ServerInterceptor {
  return (descriptor, call) => {
    const method = descriptor.path.slice(descriptor.path.lastIndexOf('/') + 1);
    let reported = false;
    const once = (code: string): void => {
      if (reported) return;
      reported = true;
      report(method, code);
    };
    return new grpc.ServerInterceptingCall(call, {
      start: (next) => next({
        onCancel: () => {
          const deadline = call.getDeadline();
          const ms = deadline instanceof Date ? deadline.getTime() : deadline;
          once(ms <= Date.now() ? 'DEADLINE_EXCEEDED' : 'CANCELLED');
        },
      }),
      sendStatus: (status, next) => {
        once(STATUS_NAME.get(status.code) ?? String(status.code));
        next(status);
      },
    });
  };
}

type ServingStatus = 'SERVING' | 'NOT_SERVING';

/** Serve the protocol over gRPC on `host:port` (insecure: loopback and trusted networks). */
export async function startGrpcFront(api: GrpcApi, at: HostPort, maxMessageBytes = 64 * 1024 * 1024): Promise<GrpcFront> {
  const triton = loadProto('triton');
  const kserve = loadProto('kserve');
  const health = loadProto('health');
  const server = new grpc.Server({
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
    ...(api.callEnded ? { interceptors: [statusInterceptor((m, c) => api.callEnded?.(m, c))] } : {}),
  });
  const inferenceName = 'inference.GRPCInferenceService';
  const servingStatus = (service: string): ServingStatus => {
    if (service !== '' && service !== inferenceName) throw new ProtocolError('not-found', `unknown service '${service}' (known: '', ${inferenceName})`);
    return api.ready() ? 'SERVING' : 'NOT_SERVING';
  };
  server.addService(serviceOf(health, 'grpc.health.v1.Health').service, {
    Check: unary((req: { service: string }) => ({ status: servingStatus(req.service) })),
    List: unary(() => ({ statuses: { '': { status: servingStatus('') }, [inferenceName]: { status: servingStatus(inferenceName) } } })),
  });
  new ReflectionService({ ...triton, ...health }).addToServer(server);
  server.addService(inferenceServiceDefinition(triton, kserve), {
    ServerLive: unary(() => ({ live: true })),
    ServerReady: unary(() => ({ ready: api.ready() })),
    ModelReady: unary((req: { name: string; version: string }) => {
      api.core.model(req.name, req.version || undefined);
      return { ready: api.ready() };
    }),
    ServerMetadata: unary(() => api.serverMetadata()),
    ModelMetadata: unary((req: { name: string; version: string }) => {
      const m = api.core.metadata(req.name, req.version || undefined);
      return { name: m.name, versions: m.versions, platform: m.platform, inputs: m.inputs, outputs: m.outputs, properties: metadataProperties(m) };
    }),
    ModelConfig: unary((req: { name: string; version: string }) => ({ config: api.core.config(req.name, req.version || undefined) })),
    ModelStatistics: unary((req: { name: string; version: string }) => ({ model_stats: api.core.statistics(req.name, req.version || undefined) })),
    RepositoryIndex: unary(() => ({ models: api.core.modelNames.map((name) => ({ name, version: '1', state: 'READY', reason: '' })) })),
    ModelInfer: unary(async (req: GrpcInferRequest, call: grpc.ServerUnaryCall<GrpcInferRequest, GrpcInferResponse>) => {
      let request: InferRequestIn;
      try {
        api.core.model(req.model_name, req.model_version || undefined); // an unknown model is NOT_FOUND whatever the rest says
        request = fromGrpcRequest(req);
      } catch (err) {
        api.core.countInvalid(req.model_name);
        throw err;
      }
      const gone = new AbortController();
      call.once('cancelled', () => gone.abort());
      return toGrpcResponse(await api.core.infer(request, gone.signal));
    }),
  });
  const host = at.host.includes(':') ? `[${at.host}]` : at.host;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${at.port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
  });
  return {
    address: { host: at.host, port },
    close: (graceMs = 30_000) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
