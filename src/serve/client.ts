/**
 * A small HTTP client on node:http for the load generator and the balancer: one request with a deadline
 * (every request ends: a reply, an error, or the timeout), keep-alive agents, JSON helpers, and the
 * Open Inference Protocol calls they need (model list, metadata, status).
 */
import { Agent, request as httpRequestRaw, type IncomingHttpHeaders } from 'node:http';
import { InputError, errorMessage } from '../common/errors.js';

export interface HttpReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface HttpCallOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: Buffer;
  /** The whole exchange must finish within this (default 30 s). */
  timeoutMs?: number;
  agent?: Agent;
  /** Abort the exchange (e.g. the balancer's own client went away). */
  signal?: AbortSignal;
  /** Largest reply body accepted (default 256 MiB). */
  maxReplyBytes?: number;
}

/** A keep-alive agent for many concurrent requests to a few servers. */
export function keepAliveAgent(maxSockets = 256): Agent {
  return new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' });
}

/** Parse and check a server base URL (http only). */
export function parseServerUrl(text: string, what = '--url'): URL {
  let url: URL;
  try {
    url = new URL(text.includes('://') ? text : `http://${text}`);
  } catch {
    throw new InputError(`${what} is not a URL: '${text}'`);
  }
  if (url.protocol !== 'http:') throw new InputError(`${what} must be an http:// URL, got '${text}'`);
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

/** A path under a base URL. */
export function urlFor(base: URL, path: string): URL {
  const u = new URL(base.href);
  u.pathname = `${base.pathname.replace(/\/+$/, '')}${path}`;
  return u;
}

/** One HTTP exchange. Rejects on a network error, the timeout or an abort; never hangs. */
export function httpCall(url: URL, options: HttpCallOptions = {}): Promise<HttpReply> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxReply = options.maxReplyBytes ?? 256 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | null, reply?: HttpReply): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(reply as HttpReply);
    };
    const headers: Record<string, string> = { ...options.headers };
    if (options.body) headers['content-length'] = String(options.body.length);
    const req = httpRequestRaw(url, { method: options.method ?? 'GET', headers, ...(options.agent ? { agent: options.agent } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxReply) {
          res.destroy();
          finish(new Error(`the reply is over ${maxReply} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => finish(null, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks, size) }));
      res.on('error', (err) => finish(err));
      res.on('aborted', () => finish(new Error('the server aborted the reply')));
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish(new Error(`no reply within ${timeoutMs} ms`));
    }, timeoutMs);
    const onAbort = (): void => {
      req.destroy();
      finish(new Error('aborted'));
    };
    if (options.signal?.aborted) {
      onAbort();
      return;
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err) => finish(err));
    req.end(options.body);
  });
}

/** A non-2xx answer of a JSON endpoint. */
export class HttpStatusError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
    this.name = 'HttpStatusError';
  }
}

/** GET/POST a JSON endpoint; non-2xx answers (HttpStatusError) and bad JSON are errors naming the URL. */
export async function fetchJson(url: URL, options: HttpCallOptions = {}): Promise<unknown> {
  let reply: HttpReply;
  try {
    reply = await httpCall(url, options);
  } catch (err) {
    throw new Error(`${options.method ?? 'GET'} ${url.href}: ${errorMessage(err)}`, { cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(reply.body.toString('utf8'));
  } catch {
    throw new Error(`${url.href}: answered ${reply.status} with a body that is not JSON`);
  }
  if (reply.status < 200 || reply.status >= 300) {
    const message = typeof value === 'object' && value !== null && 'error' in value ? String((value as { error: unknown }).error) : `status ${reply.status}`;
    throw new HttpStatusError(`${url.href}: ${message}`, reply.status);
  }
  return value;
}

/** A model's metadata as a server reports it (the fields the clients use). */
export interface RemoteModel {
  name: string;
  /** abacus model id (for the trace and the predictor), or the model's position when the server does not say. */
  modelId: number;
  /** Default QoS the server applies (null when it does not say). */
  qosMs: number | null;
  inputs: { name: string; datatype: string; shape: number[]; dims: (string | null)[] }[];
  outputs: { name: string; datatype: string; shape: number[] }[];
  hasSeq: boolean;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The served models' names (`POST /v2/repository/index`). */
export async function listModels(base: URL, timeoutMs = 10_000, headers?: Record<string, string>): Promise<string[]> {
  const value = await fetchJson(urlFor(base, '/v2/repository/index'), { method: 'POST', body: Buffer.from('{}'), headers: { 'content-type': 'application/json', ...headers }, timeoutMs });
  if (!Array.isArray(value)) throw new Error(`${base.href}: the repository index is not a list`);
  return value.flatMap((m) => (isRecord(m) && typeof m.name === 'string' ? [m.name] : []));
}

/** A model's metadata (`GET /v2/models/{name}`). */
export async function modelMetadata(base: URL, name: string, position: number, timeoutMs = 10_000, headers?: Record<string, string>): Promise<RemoteModel> {
  const value = await fetchJson(urlFor(base, `/v2/models/${encodeURIComponent(name)}`), { timeoutMs, ...(headers ? { headers } : {}) });
  if (!isRecord(value) || !Array.isArray(value.inputs) || !Array.isArray(value.outputs)) throw new Error(`${base.href}: bad metadata for model '${name}'`);
  const abacus = isRecord(value.abacus) ? value.abacus : {};
  const dims = isRecord(abacus.dims) ? abacus.dims : {};
  const inputs = value.inputs.flatMap((t) => {
    if (!isRecord(t) || typeof t.name !== 'string' || typeof t.datatype !== 'string' || !Array.isArray(t.shape)) return [];
    const shape = t.shape.map(Number);
    const named = Array.isArray(dims[t.name]) ? (dims[t.name] as unknown[]).map((d) => (typeof d === 'string' ? d : null)) : shape.map((d, i) => (d < 0 ? (i === 0 ? 'batch' : 'seq') : null));
    return [{ name: t.name, datatype: t.datatype, shape, dims: named }];
  });
  const outputs = value.outputs.flatMap((t) => (isRecord(t) && typeof t.name === 'string' && typeof t.datatype === 'string' && Array.isArray(t.shape) ? [{ name: t.name, datatype: t.datatype, shape: t.shape.map(Number) }] : []));
  return {
    name,
    modelId: typeof abacus.id === 'number' ? abacus.id : position,
    qosMs: typeof abacus.qos_ms === 'number' ? abacus.qos_ms : null,
    inputs,
    outputs,
    hasSeq: inputs.some((i) => i.dims.includes('seq')),
  };
}
