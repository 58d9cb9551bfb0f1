/**
 * How the load client sends one inference request: over HTTP/REST (JSON or binary tensor data) or over
 * gRPC (KServe's Open Inference Protocol proto, `raw_input_contents`), to abacus or any KServe v2 /
 * Triton server. Both answer the same `InferReply`, so the load generator and its accounting do not
 * depend on the protocol. Every call ends: a reply, an error, or the timeout.
 */
import type { Agent } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { InputError, errorMessage } from '../common/errors.js';
import { httpCall, keepAliveAgent, urlFor, type RemoteModel } from './client.js';
import { BINARY_HEADER, QOS_HEADER } from './http.js';
import { loadInferenceService, loadTritonService, parameterValue, type GrpcParameter } from './grpc.js';

/** One request's input tensors, ready to send either way. */
export interface InferPayload {
  /** Batch size and sequence length (0: none) the tensors have. */
  batch: number;
  seq: number;
  tensors: { name: string; datatype: string; shape: number[]; bytes: Buffer; values: number[] }[];
}

export interface InferReply {
  /** answered: the server returned outputs; rejected: it could not meet the QoS (429 / RESOURCE_EXHAUSTED). */
  outcome: 'answered' | 'rejected' | 'failed';
  /** HTTP status, or gRPC status code; 0 when no reply came. */
  status: number;
  serverTotalMs: number | null;
  serverQueueMs: number | null;
  error: string | null;
}

export interface InferTransport {
  readonly protocol: 'http' | 'grpc';
  readonly target: string;
  infer(model: string, id: string, qosMs: number, payload: InferPayload, outputs: readonly string[], timeoutMs: number): Promise<InferReply>;
  close(): void;
}

const numberOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * The Open Inference Protocol over HTTP/REST. Every request carries `headers` (e.g. `authorization`) and
 * its QoS also as header `abacus-qos-ms`, so that an abacus server decides admission before the body.
 */
export function httpTransport(url: URL, options: { jsonTensors?: boolean; agent?: Agent; maxSockets?: number; headers?: Readonly<Record<string, string>> } = {}): InferTransport {
  const agent = options.agent ?? keepAliveAgent(options.maxSockets ?? 1024);
  return {
    protocol: 'http',
    target: url.href,
    async infer(model, id, qosMs, payload, outputNames, timeoutMs) {
      const outputs = outputNames.map((name) => ({ name, parameters: { binary_data: true } }));
      const headers: Record<string, string> = { ...options.headers, 'content-type': 'application/json', [QOS_HEADER]: String(qosMs) };
      let body: Buffer;
      if (options.jsonTensors) {
        const inputs = payload.tensors.map((t) => ({ name: t.name, shape: t.shape, datatype: t.datatype, data: t.values }));
        body = Buffer.from(JSON.stringify({ id, parameters: { qos_ms: qosMs }, inputs, outputs }));
      } else {
        const inputs = payload.tensors.map((t) => ({ name: t.name, shape: t.shape, datatype: t.datatype, parameters: { binary_data_size: t.bytes.length } }));
        const head = Buffer.from(JSON.stringify({ id, parameters: { qos_ms: qosMs }, inputs, outputs }));
        headers[BINARY_HEADER] = String(head.length);
        headers['content-type'] = 'application/octet-stream';
        body = Buffer.concat([head, ...payload.tensors.map((t) => t.bytes)]);
      }
      let reply;
      try {
        reply = await httpCall(urlFor(url, `/v2/models/${encodeURIComponent(model)}/infer`), { method: 'POST', headers, body, timeoutMs, agent });
      } catch (err) {
        return { outcome: 'failed', status: 0, serverTotalMs: null, serverQueueMs: null, error: errorMessage(err) };
      }
      if (reply.status === 200) {
        try {
          const jsonLength = Number(reply.headers[BINARY_HEADER] ?? reply.body.length);
          const parsed = JSON.parse(reply.body.subarray(0, jsonLength).toString('utf8')) as { parameters?: { total_ms?: unknown; queue_ms?: unknown } };
          return { outcome: 'answered', status: 200, serverTotalMs: numberOrNull(parsed.parameters?.total_ms), serverQueueMs: numberOrNull(parsed.parameters?.queue_ms), error: null };
        } catch (err) {
          return { outcome: 'failed', status: 200, serverTotalMs: null, serverQueueMs: null, error: `a reply that is not the protocol's: ${errorMessage(err)}` };
        }
      }
      let error = `status ${reply.status}`;
      try {
        const e = JSON.parse(reply.body.toString('utf8')) as { error?: unknown };
        if (typeof e.error === 'string') error = e.error;
      } catch {
        // not JSON: keep the status
      }
      return { outcome: reply.status === 429 ? 'rejected' : 'failed', status: reply.status, serverTotalMs: null, serverQueueMs: null, error };
    },
    close() {
      if (!options.agent) agent.destroy();
    },
  };
}

/** gRPC call metadata of HTTP-style headers (names lowercased), e.g. `authorization`. */
export function grpcMetadata(headers: Readonly<Record<string, string>> = {}): grpc.Metadata {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(headers)) md.set(k.toLowerCase(), v);
  return md;
}

type Callback<T> = (err: grpc.ServiceError | null, value: T) => void;
function call<T>(client: grpc.Client, method: string, request: unknown, deadlineMs: number, metadata: grpc.Metadata = new grpc.Metadata()): Promise<T> {
  const fn = (client as unknown as Record<string, (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback<T>) => void>)[method];
  if (!fn) return Promise.reject(new Error(`no gRPC method ${method}`));
  return new Promise((resolve, reject) => {
    fn.call(client, request, metadata, { deadline: Date.now() + deadlineMs }, (err: grpc.ServiceError | null, value: T) => (err ? reject(err) : resolve(value)));
  });
}

/** Parse a gRPC target `host:port` (or `grpc://host:port`). */
export function parseGrpcTarget(text: string, what = '--url'): string {
  const t = text.replace(/^grpc:\/\//, '').replace(/\/+$/, '');
  if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(t)) throw new InputError(`${what} for --protocol grpc must be <host>:<port> (or grpc://<host>:<port>), got '${text}'`);
  return t;
}

const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

/** The Open Inference Protocol over gRPC (a client from KServe's proto); `headers` go as every call's metadata, and ModelInfer's QoS also as metadata `abacus-qos-ms` (admission before decoding). */
export function grpcTransport(target: string, headers: Readonly<Record<string, string>> = {}): InferTransport & { client: grpc.Client } {
  const Service = loadInferenceService();
  const client = new Service(target, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': MAX_MESSAGE_BYTES, 'grpc.max_send_message_length': MAX_MESSAGE_BYTES });
  return {
    protocol: 'grpc',
    target,
    client,
    async infer(model, id, qosMs, payload, outputNames, timeoutMs) {
      const request = {
        model_name: model,
        id,
        parameters: { qos_ms: { double_param: qosMs } },
        inputs: payload.tensors.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape })),
        outputs: outputNames.map((name) => ({ name })),
        raw_input_contents: payload.tensors.map((t) => t.bytes),
      };
      try {
        const res = await call<{ parameters: Record<string, GrpcParameter> }>(client, 'ModelInfer', request, timeoutMs, grpcMetadata({ ...headers, [QOS_HEADER]: String(qosMs) }));
        const p = res.parameters ?? {};
        const total = p.total_ms ? parameterValue(p.total_ms) : undefined;
        const queue = p.queue_ms ? parameterValue(p.queue_ms) : undefined;
        return { outcome: 'answered', status: grpc.status.OK, serverTotalMs: numberOrNull(total), serverQueueMs: numberOrNull(queue), error: null };
      } catch (err) {
        const e = err as Partial<grpc.ServiceError>;
        const code = typeof e.code === 'number' ? e.code : grpc.status.UNKNOWN;
        return { outcome: code === grpc.status.RESOURCE_EXHAUSTED ? 'rejected' : 'failed', status: code, serverTotalMs: null, serverQueueMs: null, error: e.details ?? errorMessage(err) };
      }
    },
    close() {
      client.close();
    },
  };
}

/** The served models' names over gRPC (Triton's RepositoryIndex). */
export async function grpcListModels(target: string, timeoutMs = 10_000, headers: Readonly<Record<string, string>> = {}): Promise<string[]> {
  const client = new (loadTritonService())(target, grpc.credentials.createInsecure());
  try {
    const r = await call<{ models: { name: string }[] }>(client, 'RepositoryIndex', {}, timeoutMs, grpcMetadata(headers));
    return [...new Set((r.models ?? []).map((m) => m.name))];
  } finally {
    client.close();
  }
}

/** A model's metadata over gRPC (ModelMetadata; abacus's fields from its `properties`). */
export async function grpcModelMetadata(client: grpc.Client, name: string, position: number, timeoutMs = 10_000, headers: Readonly<Record<string, string>> = {}): Promise<RemoteModel> {
  const m = await call<{ inputs: { name: string; datatype: string; shape: number[] }[]; outputs: { name: string; datatype: string; shape: number[] }[]; properties?: Record<string, string> }>(client, 'ModelMetadata', { name }, timeoutMs, grpcMetadata(headers));
  const props = m.properties ?? {};
  let dims: Record<string, unknown> = {};
  try {
    dims = props.dims ? (JSON.parse(props.dims) as Record<string, unknown>) : {};
  } catch {
    dims = {};
  }
  const inputs = (m.inputs ?? []).map((t) => {
    const shape = (t.shape ?? []).map(Number);
    const given = dims[t.name];
    const named = Array.isArray(given) ? given.map((d) => (typeof d === 'string' ? d : null)) : shape.map((d, i) => (d < 0 ? (i === 0 ? 'batch' : 'seq') : null));
    return { name: t.name, datatype: t.datatype, shape, dims: named };
  });
  const id = Number(props.abacus_id);
  const qos = Number(props.qos_ms);
  return {
    name,
    modelId: props.abacus_id !== undefined && Number.isInteger(id) ? id : position,
    qosMs: props.qos_ms !== undefined && Number.isFinite(qos) && qos > 0 ? qos : null,
    inputs,
    outputs: (m.outputs ?? []).map((t) => ({ name: t.name, datatype: t.datatype, shape: (t.shape ?? []).map(Number) })),
    hasSeq: inputs.some((i) => i.dims.includes('seq')),
  };
}
