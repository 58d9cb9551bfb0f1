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
 * UNAVAILABLE (not accepting, the query's host failed, or the bound on held request bytes is reached),
 * INTERNAL otherwise. A message that cannot be decoded is INVALID_ARGUMENT (grpc-js alone would say
 * INTERNAL). With a token, every call but ServerLive, ServerReady and the health service's needs
 * metadata `authorization: Bearer <token>` (UNAUTHENTICATED otherwise; reflection too), checked on the
 * call's metadata before its message is read. ModelInfer's message is decoded only after admission: the
 * token, the model (read from the undecoded message's top level) and admission (the QoS of metadata
 * `abacus-qos-ms`, else the model's default; a full queue or a predicted miss is RESOURCE_EXHAUSTED)
 * come first, as over HTTP before the body is read. Every call's
 * final status is reported through `GrpcApi.callEnded`, also of calls that end before their handler runs
 * (a deadline that expires while the request arrives, a refused token).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { errorMessage } from '../common/errors.js';
import { MAX_TENSORS_PER_REQUEST, ProtocolError, type ProtocolErrorKind, type RawInput } from './tensors.js';
import type { InferRequestIn, InferResult, InferenceCore, ModelMetadata, RequestedOutput } from './service.js';
import type { HostPort } from './http.js';
import type { ByteBudget } from './limits.js';
import { bearerMatches } from './auth.js';
import { QOS_HEADER, parseQosMs } from './http.js';
import { peekInferRequestHead, type InferRequestHead } from './proto-peek.js';

/** Concurrent calls on one gRPC connection (HTTP/2 streams). */
const GRPC_MAX_CONCURRENT_STREAMS = 128;

/** The vendored protos' folder, next to this module: in the sources, and in dist/ (`npm run build` copies them). */
export function protoDir(): string {
  const here = fileURLToPath(new URL('./proto', import.meta.url));
  if (!existsSync(join(here, 'triton', 'grpc_service.proto'))) throw new Error(`the gRPC protos are missing from ${here} (npm run build copies them there)`);
  return here;
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
  unauthenticated: grpc.status.UNAUTHENTICATED,
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
  if (inputs.length > MAX_TENSORS_PER_REQUEST) throw new ProtocolError('bad-request', `${inputs.length} inputs is too many (at most ${MAX_TENSORS_PER_REQUEST})`);
  if ((req.outputs ?? []).length > MAX_TENSORS_PER_REQUEST) throw new ProtocolError('bad-request', `${req.outputs.length} outputs is too many (at most ${MAX_TENSORS_PER_REQUEST}; each output at most once)`);
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
    max_batch: String(a.limits.max_batch),
    max_seq: a.limits.max_seq === null ? '' : String(a.limits.max_seq),
  };
}

/** What the gRPC front end serves. */
export interface GrpcApi {
  readonly core: InferenceCore;
  serverMetadata(): { name: string; version: string; extensions: string[] };
  ready(): boolean;
  /** Told the final status of every call (method name, e.g. 'ModelInfer'; status code name, e.g. 'OK'). */
  callEnded?(method: string, code: string): void;
  /** Told each time a ModelInfer message is decoded (that is: it passed the token, the model and admission). */
  inferDecoded?(): void;
}

export interface GrpcFront {
  readonly address: HostPort;
  /** Stop accepting calls; wait (at most `graceMs`) for the calls in flight, then force. */
  close(graceMs?: number): Promise<void>;
}

type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => void;

/** Marks a request message that could not be decoded (grpc-js would answer INTERNAL; it is the client's fault). */
const UNDECODABLE = Symbol('abacus.undecodable');
interface Undecodable {
  [UNDECODABLE]: string;
}

function undecodable(value: unknown): string | null {
  return typeof value === 'object' && value !== null && UNDECODABLE in value ? (value as Undecodable)[UNDECODABLE] : null;
}

/** The service with request decoders that never throw: an undecodable message reaches the handler marked. */
function tolerantService(service: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, def] of Object.entries(service)) {
    out[name] = {
      ...def,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          return def.requestDeserialize(bytes);
        } catch (err) {
          return { [UNDECODABLE]: errorMessage(err) } satisfies Undecodable;
        }
      },
    };
  }
  return out as grpc.ServiceDefinition;
}

function unary<Req, Res>(fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Res | Promise<Res>, onUndecodable?: () => void): Unary<Req, Res> {
  return (call, callback) => {
    const broken = undecodable(call.request);
    if (broken !== null) {
      onUndecodable?.();
      callback({ code: grpc.status.INVALID_ARGUMENT, details: `the request message could not be decoded: ${broken}` });
      return;
    }
    Promise.resolve()
      .then(() => fn(call.request, call))
      .then(
        (res) => callback(null, res),
        (err: unknown) => callback(toServiceError(err)),
      );
  };
}

const STATUS_NAME: ReadonlyMap<number, string> = new Map(Object.entries(grpc.status).filter((e): e is [string, number] => typeof e[1] === 'number').map(([k, v]) => [v, k]));

/**
 * How early (wall-clock ms) grpc-js's deadline timer can fire. grpc-js sets a call's deadline to
 * `Date.now() + timeout` and arms `setTimeout(timeout)`, which runs on libuv's monotonic clock in whole
 * ms: it fires once that clock's ms counter has advanced by `timeout`, which can be just over
 * `timeout - 1` ms later, while `Date.now()` has not yet reached the deadline (measured: 24 of 1000
 * 1 ms deadlines were seen by a plain `deadline <= Date.now()` as a client's cancel).
 */
const DEADLINE_TIMER_EARLY_MS = 1;

/** Whether a call that grpc-js cancelled before any status was sent had reached its deadline (its timer fired) rather than lost its client. */
function deadlineReached(deadline: grpc.Deadline, nowMs: number): boolean {
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) && ms - DEADLINE_TIMER_EARLY_MS <= nowMs;
}

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
        onCancel: () => once(deadlineReached(call.getDeadline(), Date.now()) ? 'DEADLINE_EXCEEDED' : 'CANCELLED'),
      }),
      sendStatus: (status, next) => {
        once(STATUS_NAME.get(status.code) ?? String(status.code));
        next(status);
      },
    });
  };
}

/** The calls that need no token: the liveness and readiness probes. */
const OPEN_PATHS: ReadonlySet<string> = new Set(['/inference.GRPCInferenceService/ServerLive', '/inference.GRPCInferenceService/ServerReady', '/grpc.health.v1.Health/Check', '/grpc.health.v1.Health/List', '/grpc.health.v1.Health/Watch']);

/** ModelInfer checks its token in its handler, before decoding, so that a refusal is counted under its model. */
const MODEL_INFER_PATH = '/inference.GRPCInferenceService/ModelInfer';

/**
 * With a token, a call needs metadata `authorization: Bearer <token>`: checked on the call's metadata,
 * before any message is read (so never decoded), for every method but the open probes and ModelInfer
 * (which checks it on its undecoded message). Server reflection too (its handlers are @grpc/reflection's).
 */
function tokenInterceptor(authorized: (metadata: grpc.Metadata) => boolean, refusal: { code: grpc.status; details: string }): grpc.ServerInterceptor {
  return (descriptor, call) => {
    if (OPEN_PATHS.has(descriptor.path) || descriptor.path === MODEL_INFER_PATH) return new grpc.ServerInterceptingCall(call);
    return new grpc.ServerInterceptingCall(call, {
      start: (next) => next({
        onReceiveMetadata: (metadata, mdNext) => {
          if (authorized(metadata)) mdNext(metadata);
          else call.sendStatus({ ...refusal, metadata: new grpc.Metadata() });
        },
      }),
    });
  };
}

type ServingStatus = 'SERVING' | 'NOT_SERVING';

/** The QoS a call asks in metadata `abacus-qos-ms` (admission before decoding uses it), if given. */
function qosMetadataMs(metadata: grpc.Metadata): number | undefined {
  const values = metadata.get(QOS_HEADER);
  if (values.length === 0) return undefined;
  return parseQosMs(values[0]?.toString() ?? '', `metadata ${QOS_HEADER}`);
}

/**
 * ModelInfer, registered with a deserializer that keeps the message's bytes: everything admission needs
 * is decided before the message is decoded. In order: the token (metadata), the model and version (read
 * from the message's top level, `peekInferRequestHead`: NOT_FOUND for an unknown model), the QoS of
 * metadata `abacus-qos-ms` (else the model's default) and admission (`admitBeforeBody`: a full queue or a
 * predicted miss is RESOURCE_EXHAUSTED), the bound on held request bytes (the message's length;
 * UNAVAILABLE); only then is the message decoded (`GrpcApi.inferDecoded` is told) and checked.
 */
function modelInferHandler(
  api: GrpcApi,
  decode: (bytes: Buffer) => GrpcInferRequest,
  authorized: (metadata: grpc.Metadata) => boolean,
  refusal: { code: grpc.status; details: string },
  inflight: ByteBudget | undefined,
): Unary<Buffer, GrpcInferResponse> {
  return (call, callback) => {
    const receivedAt = performance.now();
    const bytes = call.request;
    if (!authorized(call.metadata)) {
      // counted under its model when its top level names one (nothing more is read of a stranger's message)
      let label = '';
      try {
        label = peekInferRequestHead(bytes).modelName;
      } catch {
        // not wire format: counted under no model
      }
      api.core.countInvalid(label);
      callback(refusal);
      return;
    }
    let head: InferRequestHead;
    try {
      head = peekInferRequestHead(bytes);
    } catch (err) {
      api.core.countInvalid('');
      callback({ code: grpc.status.INVALID_ARGUMENT, details: `the request message could not be decoded: ${errorMessage(err)}` });
      return;
    }
    const version = head.modelVersion || undefined;
    let release: () => void;
    let qosMs: number | undefined;
    try {
      api.core.model(head.modelName, version); // an unknown model is NOT_FOUND whatever the rest says
      qosMs = qosMetadataMs(call.metadata);
      release = api.core.admitBeforeBody(head.modelName, version, qosMs); // counts its own refusals
    } catch (err) {
      if (!(err instanceof ProtocolError && (err.kind === 'rejected' || err.kind === 'unavailable'))) api.core.countRefused(head.modelName, err);
      callback(toServiceError(err));
      return;
    }
    // grpc-js holds the whole message (bounded by --max-body-mb); its decoded tensors are views of it
    if (inflight && !inflight.tryTake(bytes.byteLength)) {
      release();
      const err = new ProtocolError('unavailable', `the server holds ${inflight.usedBytes} bytes of requests; ${bytes.byteLength} more is over its limit of ${inflight.limitBytes}; retry later`);
      api.core.countRefused(head.modelName, err);
      callback(toServiceError(err));
      return;
    }
    const done = (err: Partial<grpc.StatusObject> | null, res?: GrpcInferResponse): void => {
      release();
      inflight?.release(bytes.byteLength);
      if (err) callback(err);
      else callback(null, res);
    };
    let request: InferRequestIn;
    try {
      let decoded: GrpcInferRequest;
      try {
        decoded = decode(bytes);
      } catch (err) {
        throw new ProtocolError('bad-request', `the request message could not be decoded: ${errorMessage(err)}`);
      } finally {
        api.inferDecoded?.();
      }
      request = fromGrpcRequest(decoded);
      if (qosMs !== undefined && request.parameters.qos_ms === undefined) request = { ...request, parameters: { ...request.parameters, qos_ms: qosMs } };
    } catch (err) {
      api.core.countInvalid(head.modelName);
      done(toServiceError(err));
      return;
    }
    const gone = new AbortController();
    call.once('cancelled', () => gone.abort());
    api.core.inferEncoded(request, gone.signal, toGrpcResponse, { receivedAt, onSubmitted: release }).then(
      (res) => done(null, res),
      (err: unknown) => done(toServiceError(err)),
    );
  };
}

/** Serve the protocol over gRPC on `host:port` (insecure: loopback and trusted networks). */
export async function startGrpcFront(api: GrpcApi, at: HostPort, maxMessageBytes = 64 * 1024 * 1024, inflight?: ByteBudget, authToken?: string): Promise<GrpcFront> {
  const authorized = (metadata: grpc.Metadata): boolean => authToken === undefined || bearerMatches(metadata.get('authorization')[0]?.toString(), authToken);
  const refusal = { code: grpc.status.UNAUTHENTICATED, details: 'this server needs metadata authorization: Bearer <token>' };
  const triton = loadProto('triton');
  const kserve = loadProto('kserve');
  const health = loadProto('health');
  // the status interceptor first, so that it sees the token interceptor's refusals too
  const interceptors: grpc.ServerInterceptor[] = [
    ...(api.callEnded ? [statusInterceptor((m, c) => api.callEnded?.(m, c))] : []),
    ...(authToken !== undefined ? [tokenInterceptor(authorized, refusal)] : []),
  ];
  const server = new grpc.Server({
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
    'grpc.max_concurrent_streams': GRPC_MAX_CONCURRENT_STREAMS,
    ...(interceptors.length > 0 ? { interceptors } : {}),
  });
  const inferenceName = 'inference.GRPCInferenceService';
  const servingStatus = (service: string): ServingStatus => {
    if (service !== '' && service !== inferenceName) throw new ProtocolError('not-found', `unknown service '${service}' (known: '', ${inferenceName})`);
    return api.ready() ? 'SERVING' : 'NOT_SERVING';
  };
  // health probes are open, as ServerLive and ServerReady
  server.addService(tolerantService(serviceOf(health, 'grpc.health.v1.Health').service), {
    Check: unary((req: { service: string }) => ({ status: servingStatus(req.service) })),
    List: unary(() => ({ statuses: { '': { status: servingStatus('') }, [inferenceName]: { status: servingStatus(inferenceName) } } })),
  });
  new ReflectionService({ ...triton, ...health }).addToServer(server);
  const inference = inferenceServiceDefinition(triton, kserve);
  const inferDefinition = inference.ModelInfer as grpc.MethodDefinition<GrpcInferRequest, GrpcInferResponse>;
  const modelInfer = modelInferHandler(api, inferDefinition.requestDeserialize, authorized, refusal, inflight);
  server.addService({ ...tolerantService(inference), ModelInfer: { ...inferDefinition, requestDeserialize: (bytes: Buffer): Buffer => bytes } }, {
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
    ModelInfer: modelInfer,
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
