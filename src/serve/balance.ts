/**
 * `abacus balance`: a front door speaking the same Open Inference Protocol as the nodes behind it
 * (`abacus serve --listen`). Each inference request is forwarded, body untouched (JSON or binary tensor
 * data), to one node chosen by the policy, and the node's answer is relayed. Policies:
 *
 * - `random`: a uniformly random node (seeded). The original Abacus cluster balancer.
 * - `least-loaded`: the node with the fewest requests this balancer has in flight there.
 * - `headroom`: the node where the request is predicted to finish first: the work ahead of it (the
 *   larger of the node's reported backlog for the model, `GET /v2/abacus/status` polled and aged, plus
 *   what this balancer sent there since; and what this balancer has in flight there), plus the request's
 *   own predicted solo time. Nodes without a predictor report no backlog; the choice then falls back to
 *   least-loaded.
 * - `clock`: the original's emulation of Clockwork: every node runs one request at a time; a request waits
 *   (first come, first served) for an idle node and is answered 429 when its headroom (its QoS) runs out
 *   while it waits. A request that got a node runs to completion whatever its remaining headroom.
 *
 * Status codes are the nodes': 429 when the node could not meet the QoS (or, with `clock`, no node was
 * idle in time); 503 when no node could be reached or the balancer is draining.
 *
 * Tokens: a forwarded request (inference, model metadata) carries the caller's `authorization` header
 * as it came, so nodes that need a token check the caller's; a caller without one is forwarded without
 * one (the node's 401 is relayed). The balancer's own calls to the nodes (model list and metadata at the
 * start, status polls) carry `nodeToken`. With `authToken`, the balancer checks callers itself as
 * `abacus serve` does: every route but the health probes needs `authorization: Bearer <token>` (401,
 * nothing forwarded, the body not read).
 */
import { createServer, type IncomingMessage, type ServerResponse, type Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { InputError, errorMessage } from '../common/errors.js';
import { Rng } from '../common/rng.js';
import { HttpStatusError, fetchJson, httpCall, keepAliveAgent, listModels, modelMetadata, urlFor, type RemoteModel } from './client.js';
import { BINARY_HEADER, QOS_HEADER, authorizedFor, listen, methodOf, readBody, refuseUnauthorized, routeOf, sendError, sendJson, splitBody, parseJsonObject, type HostPort, type HttpFront } from './http.js';
import { ProtocolError } from './tensors.js';
import { SERVER_NAME, SERVER_VERSION } from './server.js';
import { NODE_TOKEN_ENV } from './auth.js';

export type BalancePolicy = 'random' | 'least-loaded' | 'headroom' | 'clock';
export const BALANCE_POLICIES: readonly BalancePolicy[] = ['random', 'least-loaded', 'headroom', 'clock'];

export interface BalancerOptions {
  nodes: readonly URL[];
  policy: BalancePolicy;
  listen: HostPort;
  seed?: number;
  /** How often node status is read (default 100 ms for headroom, 1000 ms otherwise). */
  pollMs?: number;
  /** A forwarded request without an answer after this long is answered 503 (default 60 s). */
  timeoutMs?: number;
  maxBodyBytes?: number;
  /** clock: most requests waiting for an idle node (default 4096); beyond, 429 at once. */
  maxWaiting?: number;
  /** Callers must send `authorization: Bearer <token>` (health probes excepted; 401 otherwise). */
  authToken?: string;
  /** Sent as `authorization: Bearer <token>` on the balancer's own calls to the nodes (model list, metadata, status polls). */
  nodeToken?: string;
}

/** What a node last reported (`GET /v2/abacus/status`). */
interface NodeReport {
  atMs: number;
  ready: boolean;
  policy: string | null;
  perModel: Record<string, { backlogMs: number | null; soloMs: number | null }>;
}

interface NodeState {
  index: number;
  url: URL;
  agent: Agent;
  /** Requests this balancer has in flight there. */
  outstanding: number;
  /** The most it ever had in flight there at once. */
  maxOutstanding: number;
  /** Requests in flight there, by model. */
  outstandingByModel: Map<string, number>;
  forwarded: number;
  report: NodeReport | null;
  /** Requests sent since the last report, by model. */
  sentSinceReport: Map<string, number>;
  /** clock: the node runs a request now. */
  busy: boolean;
  polling: boolean;
}

interface Waiter {
  model: string;
  deadlineMs: number;
  dispatch: (node: NodeState) => void;
  expire: () => void;
  timer: NodeJS.Timeout;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** The caller's `authorization` header, to forward as it came (none when it sent none). */
function callerAuthHeaders(req: IncomingMessage): Record<string, string> {
  const value = req.headers.authorization;
  return typeof value === 'string' ? { authorization: value } : {};
}

function nodeAuthHeaders(token: string | undefined): Record<string, string> {
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseReport(value: unknown): NodeReport {
  const s = isRecord(value) ? value : {};
  const queue = isRecord(s.queue) ? s.queue : {};
  const perModelRaw = isRecord(queue.perModel) ? queue.perModel : {};
  const perModel: NodeReport['perModel'] = {};
  for (const [m, v] of Object.entries(perModelRaw)) {
    if (!isRecord(v)) continue;
    perModel[m] = { backlogMs: typeof v.backlogMs === 'number' ? v.backlogMs : null, soloMs: typeof v.soloMs === 'number' ? v.soloMs : null };
  }
  return { atMs: performance.now(), ready: s.ready === true, policy: typeof s.policy === 'string' ? s.policy : null, perModel };
}

export class Balancer {
  private readonly nodes: NodeState[];
  private readonly rng: Rng;
  private readonly waiting: Waiter[] = [];
  private readonly registry = new Registry();
  private readonly requests: Counter<'node' | 'outcome'>;
  private readonly forwardSeconds: Histogram<'node'>;
  private http: HttpFront | null = null;
  private closing = false;
  private pollTimer: NodeJS.Timeout | null = null;
  private rotate = 0;

  private constructor(private readonly options: BalancerOptions, private readonly models: Map<string, RemoteModel>, private readonly defaultQos: Map<string, number>) {
    this.nodes = options.nodes.map((url, index) => ({ index, url, agent: keepAliveAgent(512), outstanding: 0, maxOutstanding: 0, outstandingByModel: new Map(), forwarded: 0, report: null, sentSinceReport: new Map(), busy: false, polling: false }));
    this.rng = new Rng(options.seed ?? 0);
    const registers = [this.registry];
    this.requests = new Counter({ name: 'abacus_balancer_requests_total', help: 'Requests by node (or none) and HTTP status class', labelNames: ['node', 'outcome'], registers });
    this.forwardSeconds = new Histogram({ name: 'abacus_balancer_forward_seconds', help: 'Forwarding time (balancer to node and back)', labelNames: ['node'], buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10], registers });
    const self = this;
    new Gauge({ name: 'abacus_balancer_waiting', help: 'Requests waiting for an idle node (clock)', registers, collect() { this.set(self.waiting.length); } });
    new Gauge({ name: 'abacus_balancer_outstanding', help: 'Requests in flight at each node', labelNames: ['node'], registers, collect() { for (const n of self.nodes) this.set({ node: String(n.index) }, n.outstanding); } });
  }

  get address(): HostPort {
    if (!this.http) throw new Error('the balancer is not listening');
    return this.http.address;
  }

  /** Read the nodes' models (they must serve the same ones), start polling their status, listen. */
  static async start(options: BalancerOptions): Promise<Balancer> {
    if (options.nodes.length === 0) throw new InputError('--nodes lists no node');
    if (!BALANCE_POLICIES.includes(options.policy)) throw new InputError(`unknown balancer policy '${String(options.policy)}': expected ${BALANCE_POLICIES.join(', ')}`);
    const first = options.nodes[0] as URL;
    const nodeHeaders = nodeAuthHeaders(options.nodeToken);
    const cannotRead = (url: URL, err: unknown): InputError => {
      const hint = err instanceof HttpStatusError && err.status === 401 ? (options.nodeToken === undefined ? ` (the node needs a token: give the balancer --node-token or $${NODE_TOKEN_ENV})` : ' (the node refuses the balancer\'s node token)') : '';
      return new InputError(`cannot read the models of node ${url.href}: ${errorMessage(err)}${hint}`, { cause: err });
    };
    let names: string[];
    const models = new Map<string, RemoteModel>();
    try {
      names = await listModels(first, 10_000, nodeHeaders);
      for (const [i, name] of names.entries()) models.set(name, await modelMetadata(first, name, i, 10_000, nodeHeaders));
    } catch (err) {
      throw cannotRead(first, err);
    }
    for (const url of options.nodes.slice(1)) {
      let other: string[];
      try {
        other = await listModels(url, 10_000, nodeHeaders);
      } catch (err) {
        throw cannotRead(url, err);
      }
      if ([...other].sort().join(',') !== [...names].sort().join(',')) throw new InputError(`node ${url.href} serves ${other.join(', ')}, node ${first.href} serves ${names.join(', ')}: every node must serve the same models`);
    }
    const defaultQos = new Map<string, number>();
    for (const m of models.values()) if (m.qosMs !== null) defaultQos.set(m.name, m.qosMs);
    const b = new Balancer(options, models, defaultQos);
    await Promise.all(b.nodes.map((n) => b.poll(n)));
    b.schedulePoll();
    let active = 0;
    const server = createServer((req, res) => {
      active++;
      res.once('close', () => active--);
      b.handle(req, res).catch((err: unknown) => sendError(res, err));
    });
    b.http = await listen(server, options.listen, () => active);
    return b;
  }

  private pollPeriodMs(): number {
    return this.options.pollMs ?? (this.options.policy === 'headroom' ? 100 : 1000);
  }

  private schedulePoll(): void {
    if (this.closing) return;
    this.pollTimer = setTimeout(() => {
      for (const n of this.nodes) void this.poll(n);
      this.schedulePoll();
    }, this.pollPeriodMs());
  }

  /** Read one node's status (one read in flight per node; a node that does not answer is not ready). */
  private async poll(node: NodeState): Promise<void> {
    if (node.polling) return;
    node.polling = true;
    try {
      const value = await fetchJson(urlFor(node.url, '/v2/abacus/status'), { timeoutMs: 2000, agent: node.agent, headers: nodeAuthHeaders(this.options.nodeToken) });
      node.report = parseReport(value);
      node.sentSinceReport.clear();
    } catch {
      node.report = { atMs: performance.now(), ready: false, policy: node.report?.policy ?? null, perModel: {} };
    } finally {
      node.polling = false;
    }
  }

  ready(): boolean {
    return !this.closing && this.nodes.some((n) => n.report?.ready === true);
  }

  status(): Record<string, unknown> {
    const policies = new Set(this.nodes.map((n) => n.report?.policy).filter((p): p is string => typeof p === 'string'));
    return {
      name: `${SERVER_NAME}-balance`,
      balancer: this.options.policy,
      policy: policies.size === 1 ? [...policies][0] : policies.size === 0 ? null : [...policies].join('+'),
      ready: this.ready(),
      accepting: !this.closing,
      waiting: this.waiting.length,
      nodes: this.nodes.map((n) => ({ url: n.url.href, ready: n.report?.ready ?? false, outstanding: n.outstanding, maxOutstanding: n.maxOutstanding, forwarded: n.forwarded, busy: n.busy })),
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const route = routeOf(req.url ?? '/');
    if (!authorizedFor(route, req, this.options.authToken)) {
      if (route.kind === 'model' && route.action === 'infer') this.requests.inc({ node: 'none', outcome: '401' });
      return refuseUnauthorized(req, res);
    }
    const method = methodOf(route);
    if (method === null) return sendJson(res, 404, { error: `no route ${req.method ?? ''} ${req.url ?? ''}` });
    if (req.method !== method && !(method === 'GET' && req.method === 'HEAD')) return sendJson(res, 405, { error: `takes ${method}, not ${req.method ?? '?'}` }, { allow: method });
    switch (route.kind) {
      case 'server':
        return sendJson(res, 200, { name: `${SERVER_NAME}-balance`, version: SERVER_VERSION, extensions: ['binary_tensor_data', 'abacus_status'] });
      case 'live':
        return sendJson(res, 200, { live: true });
      case 'ready':
        return sendJson(res, this.ready() ? 200 : 503, { ready: this.ready() });
      case 'repository-index':
        req.resume();
        return sendJson(res, 200, [...this.models.keys()].map((name) => ({ name, version: '1', state: 'READY' })));
      case 'status':
        return sendJson(res, 200, this.status());
      case 'metrics': {
        const text = await this.registry.metrics();
        res.writeHead(200, { 'content-type': this.registry.contentType });
        res.end(text);
        return;
      }
      case 'model': {
        const m = this.models.get(route.model);
        if (!m || (route.version !== undefined && route.version !== '1')) {
          if (route.action === 'infer') req.resume();
          return sendJson(res, 404, { error: `unknown model '${route.model}' (served: ${[...this.models.keys()].join(', ')})` });
        }
        if (route.action === 'ready') return sendJson(res, this.ready() ? 200 : 503, { name: m.name, ready: this.ready() });
        if (route.action === 'metadata') {
          const node = this.nodes[0] as NodeState;
          const reply = await httpCall(urlFor(node.url, `/v2/models/${encodeURIComponent(m.name)}`), { timeoutMs: 5000, agent: node.agent, headers: callerAuthHeaders(req) });
          res.writeHead(reply.status, { 'content-type': String(reply.headers['content-type'] ?? 'application/json'), 'content-length': String(reply.body.length) });
          res.end(reply.body);
          return;
        }
        return this.infer(m.name, req, res);
      }
    }
  }

  /** The request's QoS: its `qos_ms` parameter, else the model's default on the nodes. */
  private qosOf(model: string, body: Buffer, headers: IncomingMessage['headers']): number {
    const { json } = splitBody(body, headers[BINARY_HEADER]);
    const obj = parseJsonObject(json, 'request');
    const params = isRecord(obj.parameters) ? obj.parameters : {};
    const raw = params.qos_ms;
    const value = typeof raw === 'string' ? Number(raw) : raw;
    if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
    if (raw !== undefined) throw new ProtocolError('bad-request', `parameter qos_ms must be a positive number of ms, got ${JSON.stringify(raw)}`);
    const d = this.defaultQos.get(model);
    if (d === undefined) throw new ProtocolError('bad-request', `model '${model}' has no default QoS: pass the qos_ms parameter`);
    return d;
  }

  private async infer(model: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.closing) {
      req.resume();
      this.requests.inc({ node: 'none', outcome: '503' });
      return sendJson(res, 503, { error: 'the balancer is draining' });
    }
    const body = await readBody(req, this.options.maxBodyBytes ?? 64 * 1024 * 1024);
    const gone = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    let node: NodeState;
    if (this.options.policy === 'clock') {
      const qosMs = this.qosOf(model, body, req.headers);
      const got = await this.idleNode(model, qosMs, gone.signal);
      if (got === null) {
        this.requests.inc({ node: 'none', outcome: '429' });
        return sendJson(res, 429, { error: `no idle node within the request's headroom of ${qosMs} ms` });
      }
      node = got;
    } else {
      node = this.choose(model);
    }
    await this.forward(node, model, req, res, body, gone.signal);
  }

  /** The node for a request under random, least-loaded or headroom. */
  private choose(model: string): NodeState {
    const policy = this.options.policy;
    const candidates = this.nodes.filter((n) => n.report?.ready !== false);
    const pool = candidates.length > 0 ? candidates : this.nodes;
    if (policy === 'random') return this.rng.pick(pool);
    const start = this.rotate++ % pool.length;
    const ordered = pool.map((_, i) => pool[(start + i) % pool.length] as NodeState);
    if (policy === 'headroom') {
      let best: NodeState | null = null;
      let bestMs = Infinity;
      for (const n of ordered) {
        const ms = this.predictedFinishMs(n, model);
        if (ms === null) {
          best = null;
          break;
        }
        if (ms < bestMs || (ms === bestMs && best !== null && n.outstanding < best.outstanding)) {
          best = n;
          bestMs = ms;
        }
      }
      if (best) return best;
    }
    return ordered.reduce((a, b) => (b.outstanding < a.outstanding ? b : a));
  }

  /**
   * When a request of `model` sent to `node` now is predicted to finish (ms from now); null without a
   * prediction. The wait is the larger of two estimates of the work ahead of it: the node's last report
   * (aged by the time since) plus what this balancer sent there since, and what this balancer has in
   * flight there (known exactly; reports lag by up to the poll period). Work counts at the models'
   * predicted solo latencies; nodes whose policy overlaps services (abacus, concurrent) count only the
   * request's own model.
   */
  private predictedFinishMs(node: NodeState, model: string): number | null {
    const report = node.report;
    const mine = report?.perModel[model];
    if (!report || !mine || mine.backlogMs === null || mine.soloMs === null) return null;
    const serial = report.policy === 'fcfs' || report.policy === 'edf' || report.policy === 'sjf';
    const work = (counts: Map<string, number>): number => {
      let ms = 0;
      for (const [m, count] of counts) if (serial || m === model) ms += count * (report.perModel[m]?.soloMs ?? mine.soloMs ?? 0);
      return ms;
    };
    const reported = Math.max(0, mine.backlogMs - (performance.now() - report.atMs)) + work(node.sentSinceReport);
    return Math.max(reported, work(node.outstandingByModel)) + mine.soloMs;
  }

  /** clock: wait (FIFO) for an idle node until the headroom runs out; null when it ran out or the client left. */
  private idleNode(model: string, qosMs: number, signal: AbortSignal): Promise<NodeState | null> {
    const idle = this.nodes.find((n) => !n.busy && n.report?.ready !== false);
    if (idle && this.waiting.length === 0) {
      idle.busy = true;
      return Promise.resolve(idle);
    }
    if (this.waiting.length >= (this.options.maxWaiting ?? 4096)) return Promise.resolve(null);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        model,
        deadlineMs: performance.now() + qosMs,
        dispatch: (node) => {
          clearTimeout(waiter.timer);
          signal.removeEventListener('abort', onAbort);
          resolve(node);
        },
        expire: () => {
          const i = this.waiting.indexOf(waiter);
          if (i >= 0) this.waiting.splice(i, 1);
          clearTimeout(waiter.timer);
          signal.removeEventListener('abort', onAbort);
          resolve(null);
        },
        timer: setTimeout(() => waiter.expire(), qosMs),
      };
      const onAbort = (): void => waiter.expire();
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  /** clock: a node finished its request; give it to the oldest request whose headroom has not run out. */
  private release(node: NodeState): void {
    node.busy = false;
    while (this.waiting.length > 0) {
      const w = this.waiting.shift() as Waiter;
      if (w.deadlineMs <= performance.now()) {
        w.expire();
        continue;
      }
      node.busy = true;
      w.dispatch(node);
      return;
    }
  }

  private async forward(node: NodeState, model: string, req: IncomingMessage, res: ServerResponse, body: Buffer, signal: AbortSignal): Promise<void> {
    node.outstanding++;
    node.maxOutstanding = Math.max(node.maxOutstanding, node.outstanding);
    node.outstandingByModel.set(model, (node.outstandingByModel.get(model) ?? 0) + 1);
    node.forwarded++;
    node.sentSinceReport.set(model, (node.sentSinceReport.get(model) ?? 0) + 1);
    const t0 = performance.now();
    const headers: Record<string, string> = { 'content-type': String(req.headers['content-type'] ?? 'application/json'), ...callerAuthHeaders(req) };
    const bin = req.headers[BINARY_HEADER];
    if (typeof bin === 'string') headers[BINARY_HEADER] = bin;
    const qos = req.headers[QOS_HEADER];
    if (typeof qos === 'string') headers[QOS_HEADER] = qos;
    try {
      const reply = await httpCall(urlFor(node.url, `/v2/models/${encodeURIComponent(model)}/infer`), { method: 'POST', headers, body, timeoutMs: this.options.timeoutMs ?? 60_000, agent: node.agent, signal });
      this.forwardSeconds.observe({ node: String(node.index) }, (performance.now() - t0) / 1000);
      this.requests.inc({ node: String(node.index), outcome: String(reply.status) });
      if (res.destroyed) return;
      const out: Record<string, string> = { 'content-type': String(reply.headers['content-type'] ?? 'application/json'), 'content-length': String(reply.body.length), 'abacus-node': String(node.index) };
      const replyBin = reply.headers[BINARY_HEADER];
      if (typeof replyBin === 'string') out[BINARY_HEADER] = replyBin;
      res.writeHead(reply.status, out);
      res.end(reply.body);
    } catch (err) {
      this.requests.inc({ node: String(node.index), outcome: 'error' });
      sendJson(res, 503, { error: `node ${node.index} (${node.url.href}): ${errorMessage(err)}`, forward_ms: round3(performance.now() - t0) });
    } finally {
      node.outstanding--;
      node.outstandingByModel.set(model, (node.outstandingByModel.get(model) ?? 1) - 1);
      if (this.options.policy === 'clock') this.release(node);
    }
  }

  /** Stop accepting (503), let the requests in flight finish (at most `graceMs`), stop polling, close. */
  async close(graceMs = 60_000): Promise<void> {
    this.closing = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    for (const w of [...this.waiting]) w.expire();
    await this.http?.close(graceMs);
    for (const n of this.nodes) n.agent.destroy();
  }

  /** Forwarded requests per node (for the CLI's closing line). */
  forwardedPerNode(): number[] {
    return this.nodes.map((n) => n.forwarded);
  }
}
