/**
 * Online serving: queries that arrive while the serving loop runs (a network front end submits them)
 * instead of a trace made before the run. The loop reads an `OnlineQueue` the way it reads a trace: a
 * submission is a query arriving now. Every issued query ends in exactly one status, as in a trace run,
 * and its submitter receives that outcome (with the output when it asked for one).
 *
 * Admission control happens at submission, before a query is issued, so a rejected submission is never
 * counted among the run's issued queries:
 * - `closed`: the queue no longer accepts work (shutdown);
 * - `queue-full`: `maxQueue` submissions are outstanding (issued or waiting to be issued, not finished);
 * - `predicted-miss` (with a latency model): the predicted finish of the new query, given the work queued
 *   ahead of it under the policy (see `POLICIES.md`, "Online serving"), is beyond its QoS. Predictions
 *   are scaled by the measured/predicted latency of recent completed queries (`LatencyCalibration`), and
 *   the time the request already spent in the front end counts, as does the reply's expected delay
 *   (`DelayTail`, fed by `replied`).
 *
 * `precheck` applies the same rules before a request's body is read, so that a front end refuses work
 * it cannot serve without reading or parsing it.
 *
 * A submitter that goes away (its `signal` aborts) has its query dropped at the loop's next step, unless
 * the query's last segment is already running.
 */
import { performance } from 'node:perf_hooks';
import { InputError } from '../common/errors.js';
import { priceRemainders } from './policies.js';
import type { QueryState, ServicePool } from './state.js';
import type { LatencyModel, PolicyName, QueryLogRow, QueryTensor, TraceQuery } from './types.js';

/** A service the queue accepts queries for. */
export interface OnlineService {
  name: string;
  modelId: number;
}

export interface OnlineSubmission {
  model: string;
  batch: number;
  /** Sequence length (BERT); 0 for models without one. */
  seq: number;
  qosMs: number;
  /** The query's own inputs (else the runner's prepared inputs). */
  inputs?: Readonly<Record<string, QueryTensor>>;
  /** Ask the runner for the final output. */
  returnOutput?: boolean;
  /** Aborts when the submitter went away. */
  signal?: AbortSignal;
  /** ms the request already spent in the front end (reading, parsing): its arrival is that much earlier. */
  waitedMs?: number;
}

export type RejectReason = 'closed' | 'queue-full' | 'predicted-miss';

export type OnlineOutcome =
  | { status: 'ok' | 'late'; row: QueryLogRow; output?: QueryTensor }
  /** `cancelled`: dropped because its submitter went away; otherwise by the abandon rule. */
  | { status: 'dropped'; row: QueryLogRow; cancelled: boolean }
  | { status: 'failed'; row: QueryLogRow; error: string }
  | { status: 'rejected'; reason: RejectReason; detail: string; predictedMs: number | null };

export interface OnlineQueueOptions {
  /** Most outstanding submissions (issued or waiting to be issued, not finished); default 256. */
  maxQueue?: number;
  /** Reject a submission at once when it is predicted to miss its QoS (needs a latency model); default true. */
  predictAdmission?: boolean;
  /**
   * Period (ms) of the timer that samples the event loop's lag while a run is attached (default 5; 0: off).
   * The lag's tail is what a request waits before the front end even sees it, and admission adds it.
   */
  loopLagSampleMs?: number;
}

/** What the queue reads from the run that serves it (the serving loop implements it). */
export interface OnlineRunView {
  readonly policy: PolicyName;
  readonly latencyModel: LatencyModel | undefined;
  /** Run time: ms since the run started. */
  nowMs(): number;
  readonly pools: readonly ServicePool[];
  /** Predicted remaining time of the work in flight that a new query of `service` waits for (0: none or unknown). */
  inflightRemainingMs(service: string): number;
  operatorCount(service: string): number;
  /** The queue changed: wake the loop. */
  wake(): void;
}

/** A submission on its way through the run. */
export interface OnlineEntry {
  readonly query: TraceQuery;
  readonly inputs: Readonly<Record<string, QueryTensor>> | undefined;
  readonly returnOutput: boolean;
  /** Predicted solo latency of the whole query (NaN without a latency model). */
  readonly soloMs: number;
  /** Set by the loop when the query is issued. */
  state: QueryState | null;
  cancelled: boolean;
}

interface Pending extends OnlineEntry {
  /** Predicted ms from submission to finish at admission (NaN without a latency model). */
  readonly admittedPredictionMs: number;
  readonly waitedMs: number;
  resolve(outcome: OnlineOutcome): void;
  detach(): void;
}

/**
 * A smoothed mean and mean absolute deviation of samples that, without fresh samples, relax back to a resting
 * value (half-life `RELAX_HALF_LIFE_MS`), and their tail estimate: the mean plus `SPREADS` deviations. The two
 * estimates admission uses are this with different resting values.
 */
class RelaxingTail {
  static readonly ALPHA = 0.05;
  /** The estimate is the mean plus this many mean deviations: the tail, not the middle, must fit the QoS. */
  static readonly SPREADS = 2;
  static readonly RELAX_HALF_LIFE_MS = 2000;
  private mean: number;
  /** Smoothed absolute deviation of the samples from the mean. */
  private spread = 0;
  private lastMs = 0;

  constructor(private readonly rest: number) {
    this.mean = rest;
  }

  private relax(nowMs: number): number {
    return Math.pow(0.5, Math.max(0, nowMs - this.lastMs) / RelaxingTail.RELAX_HALF_LIFE_MS);
  }

  protected tail(nowMs: number): number {
    const r = this.relax(nowMs);
    return this.rest + (this.mean - this.rest) * r + RelaxingTail.SPREADS * this.spread * r;
  }

  protected sample(nowMs: number, x: number): void {
    const r = this.relax(nowMs);
    const mean = this.rest + (this.mean - this.rest) * r;
    const spread = this.spread * r;
    this.mean = mean + RelaxingTail.ALPHA * (x - mean);
    this.spread = spread + RelaxingTail.ALPHA * (Math.abs(x - mean) - spread);
    this.lastMs = nowMs;
  }
}

/**
 * Measured over predicted latency of recent completed queries: what the predictor does not price (the
 * server's own parsing and queueing, a busier machine than it was profiled on). Admission multiplies its
 * predictions by it. Without fresh samples it relaxes back to 1 (half-life `RELAX_HALF_LIFE_MS`), so that
 * a burst of slow queries cannot shut admission for good.
 */
export class LatencyCalibration extends RelaxingTail {
  static readonly MIN = 0.5;
  static readonly MAX = 50;

  constructor() {
    super(1);
  }

  factor(nowMs: number): number {
    return Math.max(LatencyCalibration.MIN, this.tail(nowMs));
  }

  observe(nowMs: number, measuredMs: number, predictedMs: number): void {
    if (!(predictedMs > 0) || !Number.isFinite(measuredMs)) return;
    this.sample(nowMs, Math.min(LatencyCalibration.MAX, Math.max(LatencyCalibration.MIN, measuredMs / predictedMs)));
  }
}

/**
 * A tail estimate of a delay the server adds outside the compute: the front end's reading and parsing of a
 * request before it is submitted, and the reply's way back (the loop noticing the finish, the output's
 * extraction, the response's encoding). Under overload both grow with the event loop's backlog, which the
 * predictor cannot see, so admission adds them to its predictions. Without fresh samples it relaxes to 0.
 */
export class DelayTail extends RelaxingTail {
  constructor() {
    super(0);
  }

  /** The delay's tail estimate now, ms (0 before any sample). */
  valueMs(nowMs: number): number {
    return this.tail(nowMs);
  }

  observe(nowMs: number, delayMs: number): void {
    if (!Number.isFinite(delayMs) || delayMs < 0) return;
    this.sample(nowMs, delayMs);
  }
}

export interface OnlineModelStatus {
  /** Outstanding submissions of this model. */
  queued: number;
  /** Predicted ms before a new query of this model could start, with everything queued ahead of it (null without a model). */
  backlogMs: number | null;
  /** Smoothed predicted solo latency of this model's recent queries (null before the first, or without a model). */
  soloMs: number | null;
}

export interface OnlineStatus {
  policy: PolicyName;
  accepting: boolean;
  /** Outstanding submissions (issued or waiting to be issued, not finished). */
  queued: number;
  maxQueue: number;
  /** The largest per-model backlog (null without a latency model). */
  backlogMs: number | null;
  perModel: Record<string, OnlineModelStatus>;
  submitted: number;
  issued: number;
  rejected: Record<RejectReason, number>;
}

const ONLINE_ID_PREFIX = 'online-';

/** Whether a waiting query (deadline, solo) runs before a new one under the policy's order. */
function ahead(policy: PolicyName, deadlineMs: number, soloMs: number, newDeadlineMs: number, newSoloMs: number): boolean {
  if (policy === 'edf' || policy === 'abacus') return deadlineMs <= newDeadlineMs;
  if (policy === 'sjf') return soloMs <= newSoloMs;
  return true; // fcfs, concurrent: everything already there is ahead
}

/** The policies that run one query at a time (everything queued is ahead); the others overlap services. */
function serializedWhole(policy: PolicyName): boolean {
  return policy === 'fcfs' || policy === 'edf' || policy === 'sjf';
}

export class OnlineQueue {
  private readonly services = new Map<string, OnlineService>();
  private readonly maxQueue: number;
  private readonly predictAdmission: boolean;
  private view: OnlineRunView | null = null;
  private closedFlag = false;
  private pending: Pending[] = [];
  private readonly outstanding = new Map<string, Pending>();
  /** Ids of submissions whose submitters went away, not yet seen by the loop. */
  private readonly cancelledIds = new Set<string>();
  private readonly soloEwma = new Map<string, number>();
  /** Smallest predicted solo latency seen per service: a lower bound for a request whose size is not known yet. */
  private readonly soloMin = new Map<string, number>();
  private readonly calibration = new LatencyCalibration();
  /** The front end's time from a request's receipt to its submission (`waitedMs`), and from a query's finish to its reply. */
  private readonly frontDelay = new DelayTail();
  private readonly replyDelay = new DelayTail();
  /** The event loop's lag: how late a timer fires (sampled every `loopLagSampleMs`). */
  private readonly loopDelay = new DelayTail();
  private readonly loopLagSampleMs: number;
  private loopLagTimer: ReturnType<typeof setInterval> | null = null;
  private nextId = 0;
  private issuedCount = 0;
  private readonly rejected: Record<RejectReason, number> = { closed: 0, 'queue-full': 0, 'predicted-miss': 0 };

  constructor(services: readonly OnlineService[], options: OnlineQueueOptions = {}) {
    if (services.length === 0) throw new InputError('an online queue needs at least one service');
    for (const s of services) {
      if (this.services.has(s.name)) throw new InputError(`service '${s.name}' is listed twice`);
      this.services.set(s.name, s);
    }
    this.maxQueue = options.maxQueue ?? 256;
    if (!Number.isInteger(this.maxQueue) || this.maxQueue < 1) throw new InputError(`max queue must be an integer >= 1, got ${this.maxQueue}`);
    this.predictAdmission = options.predictAdmission ?? true;
    this.loopLagSampleMs = options.loopLagSampleMs ?? 5;
    if (!(Number.isFinite(this.loopLagSampleMs) && this.loopLagSampleMs >= 0)) throw new InputError(`loop lag sample period must be a number of ms >= 0, got ${this.loopLagSampleMs}`);
  }

  private startLoopLagSampler(): void {
    if (this.loopLagSampleMs <= 0 || this.loopLagTimer !== null) return;
    const period = this.loopLagSampleMs;
    let expected = performance.now() + period;
    this.loopLagTimer = setInterval(() => {
      const now = performance.now();
      const lagMs = Math.max(0, now - expected);
      expected = now + period;
      if (this.view) this.loopDelay.observe(this.view.nowMs(), lagMs);
    }, period);
    this.loopLagTimer.unref();
  }

  private stopLoopLagSampler(): void {
    if (this.loopLagTimer !== null) clearInterval(this.loopLagTimer);
    this.loopLagTimer = null;
  }

  get serviceList(): OnlineService[] {
    return [...this.services.values()];
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Submissions not yet issued by the loop. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Whether the queue may still produce queries: open, or holding submissions not yet issued. */
  hasMore(): boolean {
    return !this.closedFlag || this.pending.length > 0;
  }

  /** Stop accepting submissions; the run serves what was accepted and then ends. Idempotent. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.view?.wake();
  }

  /**
   * Submit a query arriving now. Resolves with its outcome once it finished, was dropped or failed, or
   * at once when it is rejected. Throws an InputError for an unknown model or a bad batch, seq or QoS.
   */
  submit(s: OnlineSubmission): Promise<OnlineOutcome> {
    const service = this.services.get(s.model);
    if (!service) throw new InputError(`unknown model '${s.model}' (served: ${[...this.services.keys()].join(', ')})`);
    if (!Number.isInteger(s.batch) || s.batch < 1) throw new InputError(`batch must be an integer >= 1, got ${s.batch}`);
    if (!Number.isInteger(s.seq) || s.seq < 0) throw new InputError(`seq must be an integer >= 0, got ${s.seq}`);
    if (!Number.isFinite(s.qosMs) || s.qosMs <= 0) throw new InputError(`QoS must be a positive number of ms, got ${s.qosMs}`);
    const view = this.view;
    const reject = (reason: RejectReason, detail: string, predictedMs: number | null): Promise<OnlineOutcome> => {
      this.rejected[reason]++;
      return Promise.resolve({ status: 'rejected', reason, detail, predictedMs });
    };
    if (this.closedFlag || view === null) return reject('closed', 'the server is not accepting queries', null);
    if (this.outstanding.size >= this.maxQueue) return reject('queue-full', `${this.outstanding.size} queries are queued (limit ${this.maxQueue})`, null);
    const model = view.latencyModel;
    const ops = view.operatorCount(service.name);
    let soloMs = Number.NaN;
    let predictedMs: number | null = null;
    let admittedPredictionMs = Number.NaN;
    const nowMs = view.nowMs();
    const waitedMs = Math.min(Math.max(0, s.waitedMs ?? 0), nowMs);
    const arrivalMs = nowMs - waitedMs;
    if (s.waitedMs !== undefined) this.frontDelay.observe(nowMs, waitedMs);
    if (model) {
      soloMs = model.predictMs([[{ modelId: service.modelId, start: 0, end: ops, batch: s.batch, seq: s.seq }]])[0] as number;
      admittedPredictionMs = this.backlogMs(view, model, service.name, arrivalMs + s.qosMs, soloMs) + soloMs;
      predictedMs = waitedMs + this.calibration.factor(nowMs) * admittedPredictionMs + this.replyDelay.valueMs(nowMs);
      const previous = this.soloEwma.get(service.name);
      this.soloEwma.set(service.name, previous === undefined ? soloMs : 0.9 * previous + 0.1 * soloMs);
      if (Number.isFinite(soloMs)) this.soloMin.set(service.name, Math.min(this.soloMin.get(service.name) ?? Infinity, soloMs));
      if (this.predictAdmission && predictedMs > s.qosMs) {
        return reject('predicted-miss', `predicted to finish in ${predictedMs.toFixed(1)} ms, beyond its QoS of ${s.qosMs} ms`, predictedMs);
      }
    }
    const query: TraceQuery = { id: `${ONLINE_ID_PREFIX}${this.nextId++}`, arrivalMs, model: service.name, modelId: service.modelId, batch: s.batch, seq: s.seq, qosMs: s.qosMs };
    return new Promise<OnlineOutcome>((resolve) => {
      const signal = s.signal;
      const onAbort = (): void => this.cancel(query.id);
      const entry: Pending = {
        query,
        inputs: s.inputs,
        returnOutput: s.returnOutput === true,
        soloMs,
        admittedPredictionMs,
        waitedMs,
        state: null,
        cancelled: false,
        resolve,
        detach: () => signal?.removeEventListener('abort', onAbort),
      };
      this.pending.push(entry);
      this.outstanding.set(query.id, entry);
      if (signal?.aborted) {
        entry.cancelled = true;
        this.cancelledIds.add(query.id);
      } else signal?.addEventListener('abort', onAbort, { once: true });
      view.wake();
    });
  }

  /**
   * Admission before a request's body is read (its size unknown): whether a submission of `model` with
   * this QoS would be rejected anyway. The requests the front end admitted and is still reading or
   * parsing (`frontPendingOfModel`, per model name) count as queued and as work ahead of it, each at its
   * model's smallest solo latency seen. The predicted finish uses the smallest solo latency seen
   * for the model and adds the front end's expected delays (reading and parsing, the reply), so under a
   * backlog of unread requests it refuses what submission alone could not see coming. A refusal is
   * counted as a submission's would be; null: go on and read the body.
   */
  precheck(modelName: string, qosMs: number, frontPendingOfModel: ReadonlyMap<string, number> = new Map()): { reason: RejectReason; detail: string } | null {
    const service = this.services.get(modelName);
    if (!service) throw new InputError(`unknown model '${modelName}' (served: ${[...this.services.keys()].join(', ')})`);
    const refuse = (reason: RejectReason, detail: string) => {
      this.rejected[reason]++;
      return { reason, detail };
    };
    const view = this.view;
    if (this.closedFlag || view === null) return refuse('closed', 'the server is not accepting queries');
    let frontPending = 0;
    for (const count of frontPendingOfModel.values()) frontPending += count;
    const queued = this.outstanding.size + frontPending;
    if (queued >= this.maxQueue) return refuse('queue-full', `${queued} queries are queued (limit ${this.maxQueue})${frontPending > 0 ? `, ${frontPending} of them still being read` : ''}`);
    const model = view.latencyModel;
    const solo = this.soloMin.get(service.name);
    if (this.predictAdmission && model && solo !== undefined && Number.isFinite(qosMs)) {
      const nowMs = view.nowMs();
      // requests the front end admitted and is still reading arrived earlier: each is priced at its model's
      // smallest solo latency (their sizes are not known yet), for this model's or, under a policy that
      // runs one query at a time, every model's
      let frontMs = 0;
      for (const [name, count] of frontPendingOfModel) {
        if (count > 0 && (name === service.name || serializedWhole(view.policy))) frontMs += count * (this.soloMin.get(name) ?? 0);
      }
      const computeMs = this.calibration.factor(nowMs) * (this.backlogMs(view, model, service.name, nowMs + qosMs, solo) + frontMs + solo);
      const predictedMs = this.loopDelay.valueMs(nowMs) + this.frontDelay.valueMs(nowMs) + computeMs + this.replyDelay.valueMs(nowMs);
      if (predictedMs > qosMs) return refuse('predicted-miss', `predicted to finish in at least ${predictedMs.toFixed(1)} ms, beyond its QoS of ${qosMs} ms (decided before reading the body)`);
    }
    return null;
  }

  /** A snapshot for status endpoints and balancers (null before a run attached). */
  status(): OnlineStatus | null {
    const view = this.view;
    if (view === null) return null;
    const model = view.latencyModel;
    const perModel: Record<string, OnlineModelStatus> = {};
    let worst: number | null = null;
    for (const s of this.services.values()) {
      let queued = 0;
      for (const e of this.outstanding.values()) if (e.query.model === s.name) queued++;
      const backlogMs = model ? this.backlogMs(view, model, s.name, Infinity, Infinity) : null;
      if (backlogMs !== null) worst = Math.max(worst ?? 0, backlogMs);
      perModel[s.name] = { queued, backlogMs, soloMs: this.soloEwma.get(s.name) ?? null };
    }
    return {
      policy: view.policy,
      accepting: !this.closedFlag,
      queued: this.outstanding.size,
      maxQueue: this.maxQueue,
      backlogMs: worst,
      perModel,
      submitted: this.nextId,
      issued: this.issuedCount,
      rejected: { ...this.rejected },
    };
  }

  /**
   * Predicted ms before a new query of `service` (deadline, solo) could start: the work in flight it waits
   * for plus the remaining solo latency of every queued query that runs before it under the policy. The
   * one-query-at-a-time policies (fcfs, edf, sjf) count every service's queue; abacus and concurrent
   * overlap services, so only the query's own service queue counts (an optimistic bound, refined by the
   * abandon rule at decision time).
   */
  private backlogMs(view: OnlineRunView, model: LatencyModel, service: string, deadlineMs: number, soloMs: number): number {
    const everyService = serializedWhole(view.policy);
    const queued: QueryState[] = [];
    for (const pool of view.pools) if (everyService || pool.service === service) queued.push(...pool.waiting);
    const solo = queued.length > 0 ? priceRemainders(model, queued) : new Float64Array(0);
    let total = view.inflightRemainingMs(service);
    queued.forEach((q, i) => {
      const ms = solo[i] as number;
      if (ahead(view.policy, q.deadlineMs, ms, deadlineMs, soloMs)) total += ms;
    });
    for (const e of this.pending) {
      if (!everyService && e.query.model !== service) continue;
      if (Number.isFinite(e.soloMs) && ahead(view.policy, e.query.arrivalMs + e.query.qosMs, e.soloMs, deadlineMs, soloMs)) total += e.soloMs;
    }
    return total;
  }

  private cancel(queryId: string): void {
    const entry = this.outstanding.get(queryId);
    if (!entry || entry.cancelled) return;
    entry.cancelled = true;
    this.cancelledIds.add(queryId);
    this.view?.wake();
  }

  // ---- the serving loop's side -------------------------------------------------------------------

  /** Called by the serving loop when it starts reading the queue (one run per queue). */
  attach(view: OnlineRunView): void {
    if (this.view !== null) throw new Error('OnlineQueue: already attached to a run');
    this.view = view;
    this.startLoopLagSampler();
  }

  /** Called by the serving loop when it ends; submissions from now on are rejected as closed. */
  detach(): void {
    this.closedFlag = true;
    this.stopLoopLagSampler();
  }

  /** Submissions to issue now, in submission order. */
  take(): OnlineEntry[] {
    const out = this.pending;
    this.pending = [];
    this.issuedCount += out.length;
    return out;
  }

  /** The entry of an online query (undefined for trace queries). */
  entry(queryId: string): OnlineEntry | undefined {
    return this.outstanding.get(queryId);
  }

  /** Issued queries whose submitters went away since the last call (each is reported once). */
  cancelledIssued(): OnlineEntry[] {
    const out: OnlineEntry[] = [];
    for (const id of this.cancelledIds) {
      const e = this.outstanding.get(id);
      if (e === undefined) this.cancelledIds.delete(id);
      else if (e.state !== null) {
        out.push(e);
        this.cancelledIds.delete(id);
      }
    }
    return out;
  }

  /**
   * The front end answered a finished query (its response is encoded): the time from the query's finish
   * (run time) to now is a sample of the reply's delay, which admission adds to its predictions.
   */
  replied(row: QueryLogRow): void {
    const view = this.view;
    if (view === null || row.finishMs === null) return;
    const nowMs = view.nowMs();
    this.replyDelay.observe(nowMs, nowMs - row.finishMs);
  }

  /** The delays admission adds now (tail estimates, ms): the event loop's lag, receipt to submission, finish to reply. */
  frontDelaysMs(): { loopLagMs: number; frontMs: number; replyMs: number } {
    const nowMs = this.view?.nowMs() ?? 0;
    return { loopLagMs: this.loopDelay.valueMs(nowMs), frontMs: this.frontDelay.valueMs(nowMs), replyMs: this.replyDelay.valueMs(nowMs) };
  }

  /** Hand a finished query's outcome to its submitter. */
  settle(row: QueryLogRow, detail: { output?: QueryTensor; error?: string }): void {
    const entry = this.outstanding.get(row.id);
    if (!entry) return;
    this.outstanding.delete(row.id);
    entry.detach();
    if ((row.status === 'ok' || row.status === 'late') && row.latencyMs !== null && this.view) {
      this.calibration.observe(this.view.nowMs(), row.latencyMs - entry.waitedMs, entry.admittedPredictionMs);
    }
    if (row.status === 'ok' || row.status === 'late') entry.resolve(detail.output ? { status: row.status, row, output: detail.output } : { status: row.status, row });
    else if (row.status === 'dropped') entry.resolve({ status: 'dropped', row, cancelled: entry.cancelled });
    else entry.resolve({ status: 'failed', row, error: detail.error ?? 'its group failed' });
  }

  /**
   * The run reading this queue stopped with an error: answer every outstanding submission (as closed)
   * so that no submitter waits forever. Their accounting is lost with the run.
   */
  failOutstanding(detail: string): void {
    this.closedFlag = true;
    this.stopLoopLagSampler();
    this.pending = [];
    for (const entry of this.outstanding.values()) {
      entry.detach();
      entry.resolve({ status: 'rejected', reason: 'closed', detail, predictedMs: null });
    }
    this.outstanding.clear();
  }

  /** Whether an id belongs to the queue's id space (a trace must not use it). */
  static ownsId(id: string): boolean {
    return id.startsWith(ONLINE_ID_PREFIX);
  }
}
