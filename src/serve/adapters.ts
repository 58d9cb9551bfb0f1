/**
 * Adapters between the controller's contracts and the real stages: the executor as a `GroupRunner`, a
 * predictor bundle as a `LatencyModel`, and the search for the bundle that fits a combination.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../common/errors.js';
import type { Executor } from '../executor/index.js';
import { loadPredictor, encodeGroup, BUNDLE_FILE, type Predictor } from '../predictor/index.js';
import type { GroupMember, GroupOutcome, GroupRunner, LatencyModel, SegmentRun } from '../controller/index.js';
import { operatorWork, type Manifest } from '../zoo/manifest.js';

export interface ExecutorRunnerOptions {
  /**
   * Restart a service's host when a group finds it dead (online serving): the group still fails (its
   * queries are lost with the host), and the service's next group waits for the fresh host.
   */
  restartDeadHosts?: boolean;
  /** Told about every restart (its error is null when the new host started). */
  onRestart?: (service: string, error: Error | null) => void;
}

/**
 * The executor as the controller's runner. A member's time is reported from the group's start signal
 * to its own finish. A query the controller gives up after some of its segments ran (dropped) is
 * released in its host when that service's next query starts, and at `releaseAll`. A query's own inputs
 * and its output (online serving) pass through unchanged.
 */
export class ExecutorRunner implements GroupRunner {
  private readonly unfinished = new Map<string, string>();
  private readonly restarting = new Map<string, Promise<void>>();

  constructor(private readonly executor: Executor, private readonly options: ExecutorRunnerOptions = {}) {}

  operatorCount(service: string): number {
    return this.executor.operatorCount(service);
  }

  /** Restarts begun and not yet finished. */
  get restartsInProgress(): number {
    return this.restarting.size;
  }

  async runGroup(members: readonly SegmentRun[]): Promise<GroupOutcome> {
    for (const m of members) {
      const pending = this.restarting.get(m.service);
      if (pending) await pending;
    }
    try {
      for (const m of members) {
        const previous = this.unfinished.get(m.service);
        if (m.start === 0 && previous !== undefined && previous !== m.queryId) {
          this.unfinished.delete(m.service);
          await this.executor.release(m.service, previous);
        }
      }
      const r = await this.executor.runGroup(
        members.map((m) => ({
          service: m.service, queryId: m.queryId, start: m.start, end: m.end, batch: m.batch, seq: m.seq,
          ...(m.inputs ? { inputs: m.inputs } : {}),
          ...(m.returnOutput ? { returnOutput: true } : {}),
        })),
      );
      for (const t of r.members) {
        if (t.finished) this.unfinished.delete(t.service);
        else this.unfinished.set(t.service, t.queryId);
      }
      return { groupMs: r.groupMs, startLeadMs: r.startLeadMs, members: r.members.map((t) => ({ queryId: t.queryId, ms: t.startDelayMs + t.ms, ...(t.output ? { output: t.output } : {}) })) };
    } catch (err) {
      // a failed group's queries are gone; forget them here too (a dead host lost them anyway)
      for (const m of members) if (this.unfinished.get(m.service) === m.queryId) this.unfinished.delete(m.service);
      if (this.options.restartDeadHosts) for (const m of members) this.restartIfDead(m.service);
      throw err;
    }
  }

  /** Start a fresh host for a service whose host died (once, however many groups notice). */
  private restartIfDead(service: string): void {
    if (this.restarting.has(service) || this.executor.isAlive(service)) return;
    const done = this.executor.restart(service).then(
      () => this.options.onRestart?.(service, null),
      (err: unknown) => this.options.onRestart?.(service, err instanceof Error ? err : new Error(String(err))),
    ).finally(() => {
      this.restarting.delete(service);
      for (const [s] of this.unfinished) if (s === service) this.unfinished.delete(s);
    });
    this.restarting.set(service, done);
  }

  /** Release every partially-run query still held in a host (end of a run). */
  async releaseAll(): Promise<void> {
    for (const [service, queryId] of this.unfinished) {
      if (this.executor.isAlive(service)) await this.executor.release(service, queryId);
    }
    this.unfinished.clear();
  }
}

/**
 * A predictor bundle as the controller's latency model. The groups are encoded into one feature buffer
 * that the model keeps and grows when a call has more groups than it holds, and predicted in one batched
 * call; with `out` given (as the split search gives it) a call allocates nothing.
 */
export function predictorLatencyModel(predictor: Predictor): LatencyModel {
  const width = predictor.width;
  let features = new Float32Array(16 * width);
  return {
    predictMs(groups: readonly (readonly GroupMember[])[], out?: Float64Array): Float64Array {
      const rows = groups.length;
      if (rows * width > features.length) features = new Float32Array(Math.max(rows, 2 * (features.length / width)) * width);
      for (let r = 0; r < rows; r++) encodeGroup(predictor.spec, groups[r] as readonly GroupMember[], features, r * width);
      return predictor.predictMs(features, rows, out ?? new Float64Array(rows));
    },
  };
}

/**
 * The bundle under `root` (data/predictor/ by default) that knows every model of the combination and
 * has as many slots as it has models: MLP bundles first, one-model-for-all bundles before per-combination
 * ones. With the models' manifests, a bundle must also have been trained on these builds of them: the
 * per-operator FLOPs it stores must match (a tiny and a full-size build share ids and names); a bundle
 * that stores none is passed over. An explicit folder is checked the same way (one without FLOPs is
 * taken on trust). Nothing fits: an InputError naming the commands that make a bundle that does.
 */
export async function findPredictor(root: string, modelIds: number[], modelNames: string[], explicit?: string, models?: readonly Manifest[], reject?: (predictor: Predictor, dir: string) => string | null): Promise<{ predictor: Predictor; dir: string }> {
  const work = models?.map((m) => operatorWork(m));
  const expect = { modelIds, modelNames, slots: modelIds.length, ...(work ? { work } : {}) };
  if (explicit) return { predictor: await loadPredictor(explicit, expect), dir: explicit };
  const candidates: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (!existsSync(dir)) return;
    if (existsSync(join(dir, BUNDLE_FILE))) candidates.push(dir);
    if (depth === 0) return;
    for (const name of readdirSync(dir, { withFileTypes: true })) if (name.isDirectory()) walk(join(dir, name.name), depth - 1);
  };
  walk(root, 3);
  const rank = (d: string) => (d.includes('mlp') ? 0 : 2) + (/(^|\/)all$/.test(d) ? 0 : 1);
  candidates.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const reasons: string[] = [];
  for (const dir of candidates) {
    try {
      const predictor = await loadPredictor(dir, { ...expect, requireWork: work !== undefined });
      // the caller's own test (the run's shapes against the bundle's training ranges): a reason to pass it by
      const why = reject?.(predictor, dir) ?? null;
      if (why === null) return { predictor, dir };
      reasons.push(why);
    } catch (err) {
      reasons.push((err as Error).message);
    }
  }
  const scale = models?.[0]?.scale;
  const make = `abacus profile --model-num ${modelIds.length} --comb ${modelNames.join(' ')}${scale ? ` --scale ${scale}` : ''} --out data/profile/<name>, then abacus train --data data/profile/<name> --out ${join(root, '<name>')}`;
  throw new InputError(
    `no predictor bundle under ${root} fits models ${modelNames.join(', ')}${scale ? ` (${scale} builds)` : ''} with ${modelIds.length} slots` +
      (reasons.length ? ` (${reasons.length} bundle(s) checked, e.g. ${reasons.find((r) => /another build/.test(r)) ?? reasons[0]})` : '') +
      `; make one with '${make}', or pass --predictor <bundle dir>`,
  );
}
