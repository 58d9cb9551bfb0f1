/**
 * The Open Inference Protocol (KServe v2) over HTTP/REST, on node:http:
 *
 * | route | answer |
 * |---|---|
 * | `GET /v2` | server metadata (name, version, extensions) |
 * | `GET /v2/health/live`, `GET /v2/health/ready` | 200, or 503 when not ready (starting, draining, a host down) |
 * | `GET /v2/models/{name}[/versions/{v}]` | model metadata: inputs, outputs, and abacus's operators and QoS |
 * | `GET /v2/models/{name}[/versions/{v}]/ready` | 200 / 503 |
 * | `GET /v2/models/{name}[/versions/{v}]/config` | Triton's model configuration (src/serve/triton.ts) |
 * | `GET /v2/models[/{name}[/versions/{v}]]/stats` | Triton's model statistics: `{"model_stats": [...]}` |
 * | `POST /v2/models/{name}[/versions/{v}]/infer` | inference (JSON tensors, or the binary tensor data extension) |
 * | `POST /v2/repository/index` | the served models |
 * | `GET /v2/abacus/status` | queue, predicted backlog, hosts (read by `abacus balance`) |
 * | `GET /metrics` | Prometheus metrics |
 *
 * With a token (`--auth-token`), every route but the health probes needs `authorization: Bearer <token>`
 * (401 otherwise). Errors are JSON `{"error": "..."}`: 400 bad request, 401 no or wrong token, 404 unknown model
 * (whatever the body: before admission and before the body is read) or route, 405 wrong method,
 * 413 body too large, 429 rejected (cannot meet its QoS: admission control, the abandon rule, a full
 * queue), 503 not accepting, the query's host failed, or the server's bound on held request bodies or
 * open connections is reached (with `retry-after`). The per-request QoS is the `qos_ms` request
 * parameter; header `abacus-qos-ms` gives it before the body (and is the QoS when the body has none).
 * Admission is decided from the headers and the queue before the body is read: a request that would be
 * rejected (full queue, predicted miss of the header's QoS or else the model's default) is answered 429
 * without being read or parsed. A request's arrival, for its QoS, is when its headers were read. The
 * response's `parameters` hold the server-side timings.
 *
 * Binary tensor data: with header `Inference-Header-Content-Length: N`, the body is N bytes of JSON and
 * then the raw little-endian data of every input whose `parameters.binary_data_size` is set, in order.
 * Outputs asked for with `parameters.binary_data: true` (or, for the outputs that do not say
 * `binary_data: false`, the request parameter `binary_data_output: true`) come back the same way.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InputError, errorMessage } from '../common/errors.js';
import { HTTP_STATUS, MAX_TENSORS_PER_REQUEST, ProtocolError, tensorBytes, type RawInput } from './tensors.js';
import type { InferRequestIn, InferResult, InferenceCore, RequestedOutput } from './service.js';
import { ByteBudget, limitConnections, refusedConnection } from './limits.js';
import { bearerMatches } from './auth.js';
import { OffLoopJsonParser } from './json-parse.js';

export const BINARY_HEADER = 'inference-header-content-length';
/** The request's QoS in ms, read before the body (for admission); the body's `qos_ms` parameter, when given, is the request's QoS. */
export const QOS_HEADER = 'abacus-qos-ms';

export interface HostPort {
  host: string;
  port: number;
}

/** Parse "host:port" (port 0: any free port); only an address is accepted, never a URL path. */
export function parseHostPort(text: string, what = '--listen'): HostPort {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || port > 65535) throw new InputError(`${what} must be <host>:<port>, got '${text}'`);
  return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port };
}

/** Bytes of a request body held against a `ByteBudget` (released by whoever answers the request). */
export interface HeldBytes {
  budget: ByteBudget;
  bytes: number;
}

const overBudget = (held: HeldBytes, more: number): ProtocolError =>
  new ProtocolError('unavailable', `the server holds ${held.budget.usedBytes} bytes of request bodies; ${more} more is over its limit of ${held.budget.limitBytes}; retry later`);

/**
 * Read a request body of at most `maxBytes` (413 beyond; checked on Content-Length first). With `held`,
 * the body's bytes are taken from its budget first (the declared length before reading, else chunk by
 * chunk): over the budget is a 503, and nothing more is read.
 */
export function readBody(req: IncomingMessage, maxBytes: number, held?: HeldBytes): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) {
    return Promise.reject(new ProtocolError('too-large', `the body of ${declared} bytes is over the limit of ${maxBytes}`));
  }
  if (held && declared !== undefined) {
    const n = Number(declared);
    if (!held.budget.tryTake(n)) return Promise.reject(overBudget(held, n));
    held.bytes += n;
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > maxBytes) {
        done = true;
        req.pause();
        reject(new ProtocolError('too-large', `the body is over the limit of ${maxBytes} bytes`));
        return;
      }
      if (held && declared === undefined) {
        if (!held.budget.tryTake(chunk.length)) {
          done = true;
          req.pause();
          reject(overBudget(held, chunk.length));
          return;
        }
        held.bytes += chunk.length;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks, size));
    });
    req.on('error', (err) => {
      if (done) return;
      done = true;
      reject(new ProtocolError('bad-request', `reading the body failed: ${err.message}`));
    });
    req.on('aborted', () => {
      if (done) return;
      done = true;
      reject(new ProtocolError('bad-request', 'the client aborted the request'));
    });
    // a connection closed mid-body must settle too: the request holds a queue slot and budget bytes
    req.on('close', () => {
      if (done) return;
      done = true;
      reject(new ProtocolError('bad-request', 'the connection closed before the body was complete'));
    });
  });
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(body.length), ...headers });
  res.end(body);
}

/** Answer an error: a ProtocolError's status, or 500. A 413 also closes the connection (the rest of the body is not read). */
export function sendError(res: ServerResponse, err: unknown): void {
  const status = err instanceof ProtocolError ? HTTP_STATUS[err.kind] : 500;
  const headers: Record<string, string> = status === 413 ? { connection: 'close' } : status === 503 ? { 'retry-after': '1' } : {};
  sendJson(res, status, { error: errorMessage(err) }, headers);
  if (status === 413) res.once('finish', () => res.socket?.destroy());
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Split a body into its JSON header and binary part (binary tensor data extension). */
export function splitBody(body: Buffer, headerLength: string | string[] | undefined): { json: Buffer; binary: Buffer } {
  if (headerLength === undefined) return { json: body, binary: body.subarray(body.length) };
  const text = Array.isArray(headerLength) ? headerLength[0] : headerLength;
  const n = Number(text);
  if (text === undefined || !/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n > body.length) {
    throw new ProtocolError('bad-request', `header Inference-Header-Content-Length must be an integer between 0 and the body's ${body.length} bytes, got '${String(text)}'`);
  }
  return { json: body.subarray(0, n), binary: body.subarray(n) };
}

export function parseJsonObject(bytes: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new ProtocolError('bad-request', `malformed JSON in the ${what}: ${errorMessage(err)}`);
  }
  if (!isRecord(value)) throw new ProtocolError('bad-request', `the ${what} must be a JSON object`);
  return value;
}

/** An inference request body (JSON, or JSON plus binary data) as the core takes it. */
export function parseInferBody(model: string, version: string | undefined, body: Buffer, headerLength: string | string[] | undefined): InferRequestIn {
  const { json, binary } = splitBody(body, headerLength);
  return inferRequestOf(model, version, parseJsonObject(json, 'request'), binary);
}

/**
 * `parseInferBody`, with a JSON part of at least `offLoopBytes` parsed by `parser` on its worker thread
 * (so that a large body does not stall the event loop); smaller ones are parsed here.
 */
export async function parseInferBodyOffLoop(model: string, version: string | undefined, body: Buffer, headerLength: string | string[] | undefined, parser: Pick<OffLoopJsonParser, 'parse'>, offLoopBytes: number): Promise<InferRequestIn> {
  const { json, binary } = splitBody(body, headerLength);
  if (json.length < offLoopBytes) return inferRequestOf(model, version, parseJsonObject(json, 'request'), binary);
  let value: unknown;
  try {
    value = await parser.parse(json);
  } catch (err) {
    if (err instanceof SyntaxError) throw new ProtocolError('bad-request', `malformed JSON in the request: ${err.message}`);
    throw err;
  }
  if (!isRecord(value)) throw new ProtocolError('bad-request', 'the request must be a JSON object');
  return inferRequestOf(model, version, value, binary);
}

/** The request of a parsed JSON object and the binary part after it. */
function inferRequestOf(model: string, version: string | undefined, obj: Record<string, unknown>, binary: Buffer): InferRequestIn {
  if (obj.id !== undefined && typeof obj.id !== 'string') throw new ProtocolError('bad-request', "'id' must be a string");
  if (obj.parameters !== undefined && !isRecord(obj.parameters)) throw new ProtocolError('bad-request', "'parameters' must be an object");
  const parameters = (obj.parameters as Record<string, unknown> | undefined) ?? {};
  if (!Array.isArray(obj.inputs) || obj.inputs.length === 0) throw new ProtocolError('bad-request', "'inputs' must be a non-empty array");
  if (obj.inputs.length > MAX_TENSORS_PER_REQUEST) throw new ProtocolError('bad-request', `${obj.inputs.length} inputs is too many (at most ${MAX_TENSORS_PER_REQUEST})`);
  let offset = 0;
  const inputs: RawInput[] = obj.inputs.map((raw: unknown, i: number) => {
    if (!isRecord(raw)) throw new ProtocolError('bad-request', `inputs[${i}] must be an object`);
    const { name, datatype, shape } = raw;
    if (typeof name !== 'string') throw new ProtocolError('bad-request', `inputs[${i}] needs a string 'name'`);
    if (typeof datatype !== 'string') throw new ProtocolError('bad-request', `input '${name}' needs a string 'datatype'`);
    if (!Array.isArray(shape)) throw new ProtocolError('bad-request', `input '${name}' needs a 'shape' array`);
    if (raw.parameters !== undefined && !isRecord(raw.parameters)) throw new ProtocolError('bad-request', `input '${name}': 'parameters' must be an object`);
    const size = (raw.parameters as Record<string, unknown> | undefined)?.binary_data_size;
    const input: RawInput = { name, datatype, shape: shape as number[] };
    if (size !== undefined) {
      if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new ProtocolError('bad-request', `input '${name}': binary_data_size must be an integer >= 0`);
      if (raw.data !== undefined) throw new ProtocolError('bad-request', `input '${name}' has both 'data' and binary data`);
      if (offset + size > binary.length) throw new ProtocolError('bad-request', `input '${name}': binary_data_size ${size} runs past the ${binary.length} bytes of binary data`);
      input.bytes = binary.subarray(offset, offset + size);
      offset += size;
    } else {
      input.json = raw.data;
    }
    return input;
  });
  if (offset !== binary.length) throw new ProtocolError('bad-request', `${binary.length - offset} bytes of binary data belong to no input`);
  let outputs: RequestedOutput[] | undefined;
  if (obj.outputs !== undefined) {
    if (!Array.isArray(obj.outputs)) throw new ProtocolError('bad-request', "'outputs' must be an array");
    if (obj.outputs.length > MAX_TENSORS_PER_REQUEST) throw new ProtocolError('bad-request', `${obj.outputs.length} outputs is too many (at most ${MAX_TENSORS_PER_REQUEST}; each output at most once)`);
    outputs = obj.outputs.map((raw: unknown, i: number) => {
      if (!isRecord(raw) || typeof raw.name !== 'string') throw new ProtocolError('bad-request', `outputs[${i}] needs a string 'name'`);
      if (raw.parameters !== undefined && !isRecord(raw.parameters)) throw new ProtocolError('bad-request', `output '${raw.name}': 'parameters' must be an object`);
      const binary = (raw.parameters as Record<string, unknown> | undefined)?.binary_data;
      if (binary !== undefined && typeof binary !== 'boolean') throw new ProtocolError('bad-request', `output '${raw.name}': binary_data must be true or false`);
      return { name: raw.name, ...(binary !== undefined ? { binary } : {}) };
    });
  }
  return {
    model,
    ...(version !== undefined ? { version } : {}),
    ...(typeof obj.id === 'string' ? { id: obj.id } : {}),
    parameters,
    inputs,
    ...(outputs ? { outputs } : {}),
    binaryOutput: parameters.binary_data_output === true,
  };
}

/** The response body of an inference: JSON, or JSON plus binary outputs (with the header that says where the JSON ends). */
export function encodeInferResult(result: InferResult): { body: Buffer; headers: Record<string, string> } {
  const binaries: Uint8Array[] = [];
  const outputs = result.outputs.map((o) => {
    if (o.binary) {
      const bytes = tensorBytes(o.data);
      binaries.push(bytes);
      return { name: o.name, datatype: o.datatype, shape: o.shape, parameters: { binary_data_size: bytes.byteLength } };
    }
    return { name: o.name, datatype: o.datatype, shape: o.shape, data: Array.from(o.data) };
  });
  const json = Buffer.from(JSON.stringify({
    model_name: result.model,
    model_version: result.version,
    ...(result.id !== undefined ? { id: result.id } : {}),
    parameters: result.timings,
    outputs,
  }));
  if (binaries.length === 0) return { body: json, headers: { 'content-type': 'application/json' } };
  return {
    body: Buffer.concat([json, ...binaries.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength))]),
    headers: { 'content-type': 'application/octet-stream', [BINARY_HEADER]: String(json.length) },
  };
}

/** A parsed protocol route. */
export type Route =
  | { kind: 'server' }
  | { kind: 'live' }
  | { kind: 'ready' }
  | { kind: 'model'; model: string; version?: string; action: 'metadata' | 'ready' | 'infer' | 'config' | 'stats' }
  | { kind: 'stats' }
  | { kind: 'repository-index' }
  | { kind: 'status' }
  | { kind: 'metrics' }
  | { kind: 'none' };

/** The route of a URL path (percent-decoding model names; a bad escape is a 400). */
export function routeOf(url: string): Route {
  const path = url.split('?')[0] ?? '';
  if (path === '/metrics') return { kind: 'metrics' };
  const parts = path.replace(/\/$/, '').split('/').slice(1);
  if (parts[0] !== 'v2' || parts.some((p) => p.length === 0)) return { kind: 'none' };
  const rest = parts.slice(1);
  const joined = rest.join('/');
  if (joined === '') return { kind: 'server' };
  if (joined === 'health/live') return { kind: 'live' };
  if (joined === 'health/ready') return { kind: 'ready' };
  if (joined === 'repository/index') return { kind: 'repository-index' };
  if (joined === 'abacus/status') return { kind: 'status' };
  if (joined === 'models/stats') return { kind: 'stats' };
  if (rest[0] !== 'models' || rest.length < 2) return { kind: 'none' };
  let model: string;
  try {
    model = decodeURIComponent(rest[1] as string);
  } catch {
    throw new ProtocolError('bad-request', 'the model name is not a valid percent-encoded string');
  }
  let i = 2;
  let version: string | undefined;
  if (rest[i] === 'versions') {
    if (rest.length < 4) return { kind: 'none' };
    version = rest[3] as string;
    i = 4;
  }
  const tail = rest.slice(i);
  const actions = ['ready', 'infer', 'config', 'stats'] as const;
  const action = tail.length === 0 ? 'metadata' : tail.length === 1 ? (actions.find((a) => a === tail[0]) ?? null) : null;
  if (action === null) return { kind: 'none' };
  return { kind: 'model', model, ...(version !== undefined ? { version } : {}), action };
}

/** The method a route takes. */
export function methodOf(route: Route): 'GET' | 'POST' | null {
  if (route.kind === 'none') return null;
  if (route.kind === 'repository-index' || (route.kind === 'model' && route.action === 'infer')) return 'POST';
  return 'GET';
}

/** What the node's HTTP front end serves. */
export interface HttpApi {
  readonly core: InferenceCore;
  serverMetadata(): { name: string; version: string; extensions: string[] };
  ready(): boolean;
  status(): unknown;
  metrics(): Promise<{ contentType: string; text: string }>;
}

export interface HttpFrontOptions extends HostPort {
  /** Largest request body (default 64 MiB). */
  maxBodyBytes?: number;
  /** Bytes of request bodies held at once, shared with the gRPC front end (default: 4 of the largest bodies). */
  inflightBodies?: ByteBudget;
  /** Open connections; one beyond is answered 503 and closed (default 1024). */
  maxConnections?: number;
  /** Every route but the health probes needs `authorization: Bearer <token>` (401 otherwise). */
  authToken?: string;
  /** JSON parts of at least this many bytes are parsed on a worker thread (default 1 MiB). */
  offLoopJsonBytes?: number;
}

export const DEFAULT_OFF_LOOP_JSON_BYTES = 1024 * 1024;

export const DEFAULT_MAX_CONNECTIONS = 1024;

export interface HttpFront {
  readonly server: Server;
  readonly address: HostPort;
  /** Requests being handled now. */
  active(): number;
  /** Stop listening; wait (at most `graceMs`) for the requests being handled; close every connection. */
  close(graceMs?: number): Promise<void>;
}

/** Listen on `host:port` and serve the protocol with `api`. */
export async function startHttpFront(api: HttpApi, options: HttpFrontOptions): Promise<HttpFront> {
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024 * 1024;
  const budget = options.inflightBodies ?? new ByteBudget(4 * maxBodyBytes);
  const parser = new OffLoopJsonParser();
  const offLoopBytes = options.offLoopJsonBytes ?? DEFAULT_OFF_LOOP_JSON_BYTES;
  let active = 0;
  const server = createServer((req, res) => {
    if (refusedConnection(req.socket)) {
      res.destroy();
      return;
    }
    active++;
    const held: HeldBytes = { budget, bytes: 0 };
    res.once('close', () => {
      active--;
      budget.release(held.bytes);
      held.bytes = 0;
    });
    handle(api, req, res, { maxBodyBytes, held, authToken: options.authToken, parser, offLoopBytes }).catch((err: unknown) => sendError(res, err));
  });
  limitConnections(server, options.maxConnections ?? DEFAULT_MAX_CONNECTIONS);
  const front = await listen(server, options, () => active);
  return {
    ...front,
    close: async (graceMs?: number) => {
      await front.close(graceMs);
      await parser.close();
    },
  };
}

/** Shared by the node and the balancer: timeouts, bad-request handling at the parser, listen, close. */
export async function listen(server: Server, at: HostPort, active: () => number): Promise<HttpFront> {
  server.requestTimeout = 60_000;
  server.headersTimeout = 20_000;
  server.keepAliveTimeout = 5_000;
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (socket.writable && !socket.destroyed) {
      const body = JSON.stringify({ error: `bad HTTP request: ${err.code ?? err.message}` });
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    } else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  return {
    server,
    address: { host: addr.address, port: addr.port },
    active,
    close: async (graceMs = 30_000) => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const until = Date.now() + graceMs;
      while (active() > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      server.closeAllConnections();
      await closed;
    },
  };
}

/** What one request's handling needs besides the API. */
interface RequestContext {
  maxBodyBytes: number;
  held: HeldBytes;
  authToken: string | undefined;
  parser: OffLoopJsonParser;
  offLoopBytes: number;
}

async function handle(api: HttpApi, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const route = routeOf(req.url ?? '/');
  if (!authorizedFor(route, req, ctx.authToken)) {
    if (route.kind === 'model' && route.action === 'infer') api.core.countInvalid(route.model);
    refuseUnauthorized(req, res);
    return;
  }
  const method = methodOf(route);
  if (method === null) {
    sendJson(res, 404, { error: `no route ${req.method ?? ''} ${req.url ?? ''}` });
    return;
  }
  if (req.method !== method && !(method === 'GET' && req.method === 'HEAD')) {
    if (route.kind === 'model' && route.action === 'infer') api.core.countInvalid(route.model);
    sendJson(res, 405, { error: `${route.kind === 'model' ? `/${route.action}` : req.url} takes ${method}, not ${req.method ?? '?'}` }, { allow: method });
    return;
  }
  switch (route.kind) {
    case 'server':
      sendJson(res, 200, api.serverMetadata());
      return;
    case 'live':
      sendJson(res, 200, { live: true });
      return;
    case 'ready': {
      const ready = api.ready();
      sendJson(res, ready ? 200 : 503, { ready });
      return;
    }
    case 'repository-index':
      req.resume();
      sendJson(res, 200, api.core.modelNames.map((name) => ({ name, version: '1', state: 'READY' })));
      return;
    case 'status':
      sendJson(res, 200, api.status());
      return;
    case 'stats':
      sendJson(res, 200, { model_stats: api.core.statistics() });
      return;
    case 'metrics': {
      const m = await api.metrics();
      res.writeHead(200, { 'content-type': m.contentType });
      res.end(m.text);
      return;
    }
    case 'model': {
      if (route.action === 'metadata') {
        sendJson(res, 200, api.core.metadata(route.model, route.version));
        return;
      }
      if (route.action === 'config') {
        sendJson(res, 200, api.core.config(route.model, route.version));
        return;
      }
      if (route.action === 'stats') {
        sendJson(res, 200, { model_stats: api.core.statistics(route.model, route.version) });
        return;
      }
      if (route.action === 'ready') {
        api.core.model(route.model, route.version);
        const ready = api.ready();
        sendJson(res, ready ? 200 : 503, { name: route.model, ready });
        return;
      }
      await infer(api, route.model, route.version, req, res, ctx);
      return;
    }
  }
}

/** Bodies up to this size are read and thrown away after an early refusal (keeps the connection); larger ones close it. */
const DISCARD_MAX_BYTES = 1024 * 1024;

/** After refusing a request whose body was not read: throw a small body away, else close the connection once answered. */
function dropUnreadBody(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete) return;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared <= DISCARD_MAX_BYTES) {
    req.resume();
    return;
  }
  res.setHeader('connection', 'close');
  res.once('finish', () => res.socket?.destroy());
}

/** Whether a request may use a route: without a token, always; with one, the health probes always, else with `authorization: Bearer <token>`. */
export function authorizedFor(route: Route, req: IncomingMessage, authToken: string | undefined): boolean {
  return authToken === undefined || route.kind === 'live' || route.kind === 'ready' || bearerMatches(req.headers.authorization, authToken);
}

/** Answer 401 (no or wrong token) without reading the body (a large one closes the connection after the answer). */
export function refuseUnauthorized(req: IncomingMessage, res: ServerResponse): void {
  dropUnreadBody(req, res);
  sendJson(res, 401, { error: req.headers.authorization === undefined ? 'this server needs authorization: Bearer <token>' : 'the bearer token is not this server\'s' }, { 'www-authenticate': 'Bearer' });
}

/** The request's QoS from header `abacus-qos-ms` (admission before the body is read uses it), if given. */
export function qosHeaderMs(req: IncomingMessage): number | undefined {
  const raw = req.headers[QOS_HEADER];
  if (raw === undefined) return undefined;
  return parseQosMs(Array.isArray(raw) ? (raw[0] ?? '') : raw, `header ${QOS_HEADER}`);
}

/** A QoS given as text (HTTP header, gRPC metadata): a positive number of ms, at most an hour. */
export function parseQosMs(text: string, what: string): number {
  const n = text.trim() === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(n) || n <= 0 || n > 3_600_000) throw new ProtocolError('bad-request', `${what} must be a positive number of ms (at most an hour), got '${text}'`);
  return n;
}

async function infer(api: HttpApi, model: string, version: string | undefined, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const receivedAt = performance.now();
  let release: () => void;
  let qosMs: number | undefined;
  try {
    api.core.model(model, version); // an unknown model is a 404 whatever the headers and the body
    qosMs = qosHeaderMs(req);
    // admission from the headers and the queue: a request that would be refused is never read or parsed
    release = api.core.admitBeforeBody(model, version, qosMs);
  } catch (err) {
    if (!(err instanceof ProtocolError && (err.kind === 'rejected' || err.kind === 'unavailable'))) api.core.countRefused(model, err);
    dropUnreadBody(req, res);
    throw err;
  }
  let request: InferRequestIn;
  try {
    const body = await readBody(req, ctx.maxBodyBytes, ctx.held);
    request = await parseInferBodyOffLoop(model, version, body, req.headers[BINARY_HEADER], ctx.parser, ctx.offLoopBytes);
    if (qosMs !== undefined && request.parameters.qos_ms === undefined) request = { ...request, parameters: { ...request.parameters, qos_ms: qosMs } };
  } catch (err) {
    release();
    api.core.countRefused(model, err);
    dropUnreadBody(req, res);
    throw err;
  }
  const gone = new AbortController();
  const onClose = (): void => {
    if (!res.writableFinished) gone.abort();
  };
  res.once('close', onClose);
  let encoded: { body: Buffer; headers: Record<string, string> };
  try {
    encoded = await api.core.inferEncoded(request, gone.signal, encodeInferResult, { receivedAt, onSubmitted: release });
  } finally {
    release();
  }
  const { body, headers } = encoded;
  if (res.destroyed) return;
  res.writeHead(200, { ...headers, 'content-length': String(body.length) });
  res.end(body);
}
