/**
 * The executor: services in hosts, and groups of their segments launched together and joined by a
 * barrier (the paper's deterministic operator overlap). Every member of a group starts at one start
 * signal, a deadline on the machine's monotonic clock; the group completes when its last member
 * finishes. Each host runs one segment at a time, so groups of different services overlap only as the
 * group says.
 */
import { availableParallelism } from 'node:os';
import { InputError } from '../common/errors.js';
import { HostError, ServiceHost } from './host.js';
import { hostKindFor, checkExecutionProvider } from './providers.js';
import type { GroupResult, MemberTiming, SegmentRun, ServiceConfig, ExecutionProviderName, SegmentPlan, SegmentGraphChoice, SegmentGraphInfo } from './types.js';
import type { HostReply, HostStats } from './protocol.js';

export interface ExecutorOptions {
  /** Deadline for a host to start and load its model. */
  initTimeoutMs?: number;
  /** Deadline for one segment run (a stuck host is stopped after it). */
  runTimeoutMs?: number;
  /** Deadline for building sessions in `prepare`. */
  prepareTimeoutMs?: number;
  /**
   * Fixed lead of the start signal, for every group; by default it adapts to the measured message delay for
   * groups of several members, and a group of one member starts on receipt (lead 0).
   */
  startLeadMs?: number;
}

export interface ServiceOptions {
  name?: string;
  modelDir: string;
  ep?: ExecutionProviderName;
  intraOpThreads?: number;
  plan?: SegmentPlan;
  /** `tiered` plan: block counts of the coarse tiers (default [1, 4]). */
  tiers?: number[];
  maxCachedSessions?: number;
  graphOptimizationLevel?: ServiceConfig['graphOptimizationLevel'];
  deviceId?: number;
  seed?: number;
  /** Which graph segments are cut from (default `auto`: onnxruntime's optimised graph where it applies). */
  segmentGraph?: SegmentGraphChoice;
  /** One session per (range, batch, seq) (default: on cuda; `sessionPerShapeFor`). */
  sessionPerShape?: boolean;
  /** Host kind; by default a worker thread, or a child process where the provider needs one (webgpu). */
  hostKind?: 'thread' | 'process';
}

/**
 * Default segment plan: `tiered` on every provider (measured in data/bench: on webgpu it keeps 4-segment
 * queries within 1.3x of one session, where `partition` pays a chain of per-operator runs).
 */
export function defaultPlan(ep: ExecutionProviderName): SegmentPlan {
  void ep;
  return 'tiered';
}

export class Executor {
  private readonly hosts = new Map<string, ServiceHost>();
  private readonly opts: Required<Omit<ExecutorOptions, 'startLeadMs'>> & { startLeadMs: number | null };
  /** Smoothed message delivery delay (ns), which sizes the start signal's lead. */
  private deliveryNs = 0;
  /** Services with a group in flight: groups may overlap only when their services are disjoint. */
  private readonly busy = new Set<string>();

  constructor(options: ExecutorOptions = {}) {
    this.opts = {
      initTimeoutMs: options.initTimeoutMs ?? 120_000,
      runTimeoutMs: options.runTimeoutMs ?? 120_000,
      prepareTimeoutMs: options.prepareTimeoutMs ?? 900_000,
      startLeadMs: options.startLeadMs ?? null,
    };
  }

  get services(): string[] {
    return [...this.hosts.keys()];
  }

  /** Start a host for a service; `intraOpThreads` defaults to the cores shared out among services. */
  async addService(options: ServiceOptions, servicesPlanned = 1): Promise<void> {
    const ep = options.ep ?? 'cpu';
    checkExecutionProvider(ep);
    const name = options.name ?? options.modelDir.replace(/\/+$/, '').split('/').pop() ?? 'model';
    if (this.hosts.has(name)) throw new InputError(`service '${name}' is already running`);
    const config: ServiceConfig = {
      name,
      modelDir: options.modelDir,
      ep,
      intraOpThreads: options.intraOpThreads ?? Math.max(1, Math.floor(availableParallelism() / Math.max(1, servicesPlanned))),
      plan: options.plan ?? defaultPlan(ep),
      tiers: options.tiers ?? [1, 4],
      maxCachedSessions: options.maxCachedSessions ?? 64,
      graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
      deviceId: options.deviceId ?? 0,
      seed: options.seed ?? 0,
      segmentGraph: options.segmentGraph ?? 'auto',
      ...(options.sessionPerShape !== undefined ? { sessionPerShape: options.sessionPerShape } : {}),
    };
    const host = new ServiceHost(config, options.hostKind ?? hostKindFor(ep), this.opts.initTimeoutMs);
    this.hosts.set(name, host);
    try {
      await host.start();
    } catch (err) {
      this.hosts.delete(name);
      await host.kill();
      throw err;
    }
  }

  private host(service: string): ServiceHost {
    const h = this.hosts.get(service);
    if (!h) throw new InputError(`unknown service '${service}' (running: ${this.services.join(', ') || 'none'})`);
    return h;
  }

  /** Process id of each service's host (the coordinator's own pid for worker threads). */
  hostPids(): Record<string, number> {
    return Object.fromEntries([...this.hosts].map(([name, h]) => [name, h.pid]));
  }

  operatorCount(service: string): number {
    return this.host(service).operatorCount;
  }

  /** Which graph a service's segments are cut from, and why (as its host reported when it started). */
  graphInfo(service: string): SegmentGraphInfo {
    const g = this.host(service).graph;
    if (!g) throw new Error(`service '${service}' has not reported its segment graph (its host is not running)`);
    return g;
  }

  /** Untimed preparation: inputs for (batch, seq) and the sessions that `ranges` need. */
  async prepare(service: string, batch: number, seq: number, ranges: Array<[number, number]> = [], warmAll = false): Promise<number> {
    const r = await this.host(service).request({ type: 'prepare', id: 0, batch, seq, ranges, warmAll }, this.opts.prepareTimeoutMs, `prepare batch ${batch} seq ${seq}`);
    return r.type === 'prepared' ? r.sessionsBuilt : 0;
  }

  async release(service: string, queryId: string): Promise<void> {
    await this.host(service).request({ type: 'release', id: 0, queryId }, this.opts.runTimeoutMs, `release of query ${queryId}`);
  }

  async stats(service: string): Promise<HostStats> {
    const r = await this.host(service).request({ type: 'stats', id: 0 }, this.opts.runTimeoutMs, 'stats');
    if (r.type !== 'stats') throw new Error('unexpected reply');
    return r.stats;
  }

  isAlive(service: string): boolean {
    return this.host(service).isAlive;
  }

  /** Replace a dead (or live) host of a service with a fresh one; its partial queries are lost. */
  async restart(service: string): Promise<void> {
    const h = this.host(service);
    await h.kill('was restarted');
    await h.start();
  }

  /** Test hook: make a service's host die. */
  crashHost(service: string, how: 'throw' | 'exit'): void {
    this.host(service).crash(how);
  }

  private leadNs(): bigint {
    if (this.opts.startLeadMs !== null) return BigInt(Math.round(this.opts.startLeadMs * 1e6));
    const anyProcess = [...this.hosts.values()].some((h) => h.kind === 'process');
    const floor = anyProcess ? 1_000_000 : 300_000;
    return BigInt(Math.round(Math.min(20_000_000, Math.max(floor, 3 * this.deliveryNs))));
  }

  /**
   * Run a group: every member starts at one start signal; resolves when the last finishes. A member's
   * failure (an error, a dead host, a missed deadline) rejects with an error naming service and query,
   * after every other member has settled (the barrier holds even then).
   */
  async runGroup(members: readonly SegmentRun[]): Promise<GroupResult> {
    if (members.length === 0) throw new InputError('a group needs at least one member');
    const seen = new Set<string>();
    for (const m of members) {
      if (seen.has(m.service)) throw new InputError(`a group has at most one segment per service ('${m.service}' twice)`);
      seen.add(m.service);
      this.host(m.service);
    }
    const clash = members.find((m) => this.busy.has(m.service));
    if (clash) throw new Error(`runGroup: service '${clash.service}' is still running another group (a service runs one segment at a time)`);
    for (const m of members) this.busy.add(m.service);
    try {
      const sentNs = process.hrtime.bigint();
      // A lone member has no one to start with: it starts on receipt (its delivery time shows in its
      // startDelayMs), instead of spinning out a lead that only a barrier of several members needs.
      const startAtNs = members.length === 1 && this.opts.startLeadMs === null ? sentNs : sentNs + this.leadNs();
      const settled = await Promise.allSettled(
        members.map((m) =>
          this.host(m.service).request(
            { type: 'run', id: 0, queryId: m.queryId, start: m.start, end: m.end, batch: m.batch, seq: m.seq, startAtNs, sentNs, returnOutput: m.returnOutput ?? false, advance: m.advance ?? true, ...(m.inputs ? { inputs: m.inputs } : {}) },
            this.opts.runTimeoutMs,
            `query ${m.queryId} operators [${m.start}, ${m.end})`,
          ),
        ),
      );
      const failures = settled.flatMap((s, i) => (s.status === 'rejected' ? [{ m: members[i]!, err: s.reason as Error }] : []));
      if (failures.length > 0) {
        const first = failures[0]!;
        const text = failures.map((f) => f.err.message).join('; ');
        if (first.err instanceof InputError) throw new InputError(text);
        throw new HostError(text, first.m.service, first.err instanceof HostError && first.err.hostDied);
      }
      const replies = settled.map((s) => (s as PromiseFulfilledResult<HostReply>).value);
      let lastEnd = startAtNs;
      let minStart: bigint | null = null;
      let maxStart: bigint | null = null;
      const timings: MemberTiming[] = replies.map((r, i) => {
        if (r.type !== 'done') throw new Error(`unexpected reply ${r.type}`);
        const delivery = Number(r.receivedNs - sentNs);
        this.deliveryNs = this.deliveryNs === 0 ? delivery : 0.9 * this.deliveryNs + 0.1 * delivery;
        if (r.endNs > lastEnd) lastEnd = r.endNs;
        if (minStart === null || r.startNs < minStart) minStart = r.startNs;
        if (maxStart === null || r.startNs > maxStart) maxStart = r.startNs;
        const m = members[i]!;
        const t: MemberTiming = {
          service: m.service,
          queryId: m.queryId,
          start: m.start,
          end: m.end,
          ms: Number(r.endNs - r.startNs) / 1e6,
          startDelayMs: Number(r.startNs - startAtNs) / 1e6,
          sessionsBuilt: r.sessionsBuilt,
          finished: r.finished,
        };
        if (r.output) t.output = r.output;
        return t;
      });
      return {
        groupMs: Number(lastEnd - startAtNs) / 1e6,
        members: timings,
        startSkewMs: Number((maxStart ?? 0n) - (minStart ?? 0n)) / 1e6,
        startLeadMs: Number(startAtNs - sentNs) / 1e6,
      };
    } finally {
      for (const m of members) this.busy.delete(m.service);
    }
  }

  /** Stop every host (clean shutdown with a deadline, then kill): no orphan process is left. */
  async shutdown(): Promise<void> {
    await Promise.all([...this.hosts.values()].map((h) => h.stop()));
    this.hosts.clear();
  }
}
