/**
 * `abacus profile`: time random co-located operator groups through the executor and append one row per
 * group to the combination's CSV. Per group: each member's activation is prepared untimed (operators
 * [0, start) run once), then the group runs `warmup` times untimed and `reps` times timed, every time from
 * one start signal to the barrier (the executor's replay runs keep each member at its start operator).
 * With `stablePct`, `reps` is the minimum: more runs follow, in rounds, until the half-width of the
 * median's 95 % confidence interval is within `stablePct` % of the median or `maxReps` runs are done.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../common/errors.js';
import { DurableAppender, writeJsonAtomic } from '../common/fsutil.js';
import { collectProvenance, type Provenance } from '../common/provenance.js';
import { summarize, median, medianCiHalfWidthSorted, sortedCopy } from '../common/stats.js';
import { Executor, defaultPlan, keepsActivationsOnDevice, type ExecutionProviderName, type SegmentRun } from '../executor/index.js';
import { hasSeqInput, operatorWork, type Manifest } from '../zoo/manifest.js';
import { PROFILE_FORMAT, PROFILE_VERSION, PROFILE_VERSIONS, csvHeader, csvRow, prepareCsvForAppend, type GroupStats } from './format.js';
import { SAMPLING_RULE, countGroups, combinationName, drawProfile, groupsPerCombination, type GroupCounts, type ProfileModel, type ProfileGroup } from './sampling.js';

export interface ProfileSettings {
  modelNum: number;
  /** Combinations, each a list of model names (ascending id). */
  combinations: string[][];
  batchSizes: number[];
  seqLens: number[];
  samples: number;
  reps: number;
  warmup: number;
  absentRatio: number;
  seed: number;
  ep: ExecutionProviderName;
  scale: string;
  intraOpThreads: number;
  plan: string;
  /** The sampling rule that drew the groups (src/profiler/sampling.ts); a resume must use the same one. */
  samplingRule: number;
  /** Adaptive repetitions (recorded only when asked): stop when the median's 95 % CI half-width is within this % of it. */
  stablePct?: number;
  /** With stablePct: at most this many timed runs per group. */
  maxReps?: number;
  /**
   * cuda only: where activations live between segments ('device' with the options shim's device activations,
   * else 'host'). It changes what a segment costs, so a profile resumes only in the same mode.
   */
  activations?: 'device' | 'host';
}

/** The `activations` setting of a profile on `ep` (recorded for cuda, whose mode is a choice; absent otherwise). */
export function activationsSetting(ep: ExecutionProviderName): Pick<ProfileSettings, 'activations'> {
  return ep === 'cuda' ? { activations: keepsActivationsOnDevice(ep) ? 'device' : 'host' } : {};
}

export interface ProfileRunOptions extends Omit<ProfileSettings, 'plan' | 'samplingRule' | 'stablePct' | 'maxReps' | 'activations'> {
  stablePct?: number | undefined;
  maxReps?: number | undefined;
  out: string;
  /** The models, with their manifest folders. */
  models: Array<{ manifest: Manifest; dir: string }>;
  /** Stop after this many new groups (for tests and time-boxed runs); the run can be resumed. */
  maxGroups?: number;
  onProgress?: (done: number, total: number, info: string) => void;
  /** Checked between groups: true stops the run cleanly (Ctrl-C). */
  shouldStop?: () => boolean;
}

export interface ProfileFile {
  format: typeof PROFILE_FORMAT;
  version: number;
  settings: ProfileSettings;
  models: Array<{ id: number; name: string; operators: number; hasSeq: boolean; sha256: string; operatorGflops?: number[]; referenceSeq?: number }>;
  files: Array<{ combination: string[]; csv: string; groups: number; rows: number; planned: GroupCounts; measured: GroupCounts }>;
  /** What the profile holds, summed over the files (rewritten when a run ends or stops). */
  contents: ProfileContents;
  provenance: Provenance;
}

/** profile.json's statement of what the data set holds. */
export interface ProfileContents {
  samplingRule: number;
  /** Every group configuration (present members, segments, batches, sequence lengths) is in the profile once. */
  distinctConfigurations: 'profile';
  /** Share of the planned groups with a model absent, and what --absent-ratio asked. */
  absentShare: number;
  absentRatio: number;
  /** Timed runs per group (the minimum with stablePct) and untimed runs first. */
  reps: number;
  warmup: number;
  /** Adaptive repetitions: the stability bound (%) and the cap, or null for a fixed `reps`. */
  stability: { stablePct: number; maxReps: number } | null;
  planned: GroupCounts;
  /** The rows the CSVs hold now. */
  measured: GroupCounts;
  complete: boolean;
}

export interface ProfileRunResult {
  out: string;
  groupsTotal: number;
  groupsDone: number;
  groupsThisRun: number;
  resumedFrom: number;
  repairedLines: number;
  wallMs: number;
  /** Time inside timed group runs (start signal to barrier). */
  timedMs: number;
  /** Untimed preparation (prefix runs, session builds). */
  prepareMs: number;
  /** Everything else: messages between timed runs, bookkeeping, writing. */
  bookkeepingMs: number;
  bookkeepingShare: number;
  groupsPerMinute: number;
  complete: boolean;
}

function profileModel(m: Manifest): ProfileModel {
  return { id: m.id, name: m.name, operators: m.operators.length, hasSeq: hasSeqInput(m) };
}

function sameSettings(a: ProfileSettings, b: ProfileSettings): keyof ProfileSettings | null {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)] as Array<keyof ProfileSettings>);
  for (const key of keys) {
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) return key;
  }
  return null;
}

export async function runProfile(opts: ProfileRunOptions): Promise<ProfileRunResult> {
  const started = performance.now();
  const byName = new Map(opts.models.map((m) => [m.manifest.name, m]));
  // everything but where the run writes, what it reads and how it reports is a setting recorded in profile.json
  const { out: _out, models: _models, maxGroups: _maxGroups, onProgress: _onProgress, shouldStop: _shouldStop, stablePct, maxReps: maxRepsAsked, ...chosen } = opts;
  let stability: { stablePct: number; maxReps: number } | null = null;
  if (stablePct !== undefined) {
    if (!(stablePct > 0 && Number.isFinite(stablePct))) throw new InputError(`--stable-pct must be a number > 0 (got ${stablePct})`);
    const maxReps = maxRepsAsked ?? 4 * opts.reps;
    if (!(Number.isInteger(maxReps) && maxReps >= opts.reps)) throw new InputError(`--max-reps (${maxReps}) must be an integer of at least --reps (${opts.reps})`);
    stability = { stablePct, maxReps };
  } else if (maxRepsAsked !== undefined) {
    throw new InputError('--max-reps caps the adaptive repetitions of --stable-pct; give --stable-pct too');
  }
  // adaptive settings enter the settings only when asked, so that fixed-reps profiles resume as before
  const settings: ProfileSettings = { ...chosen, plan: defaultPlan(opts.ep), samplingRule: SAMPLING_RULE, ...(stability ?? {}), ...activationsSetting(opts.ep) };
  const metaPath = join(opts.out, 'profile.json');
  let version = PROFILE_VERSION;
  if (existsSync(metaPath)) {
    let previous: ProfileFile;
    try {
      previous = JSON.parse(readFileSync(metaPath, 'utf8')) as ProfileFile;
    } catch (err) {
      throw new InputError(`${metaPath}: not valid JSON (${(err as Error).message})`);
    }
    if (previous.format !== PROFILE_FORMAT || !PROFILE_VERSIONS.includes(previous.version)) throw new InputError(`${metaPath}: not an abacus profile of version ${PROFILE_VERSIONS.join(' or ')}`);
    // a v1 profile goes on in v1 rows (without median_ci_us), so that its CSVs stay one format
    version = previous.version;
    const differs = previous.settings.samplingRule !== SAMPLING_RULE ? 'samplingRule' : sameSettings(previous.settings, settings);
    if (differs === 'samplingRule') {
      throw new InputError(`${opts.out} holds a profile drawn with sampling rule ${previous.settings.samplingRule ?? 1}; this abacus draws with rule ${SAMPLING_RULE} (absent share over the whole profile, configurations distinct), so it cannot resume it: choose another --out`);
    }
    if (differs) throw new InputError(`${opts.out} holds a profile made with another ${differs} (${JSON.stringify(previous.settings[differs])}); resume with the same arguments or choose another --out`);
    for (const m of opts.models) {
      const was = previous.models?.find((p) => p.name === m.manifest.name);
      if (was?.sha256 && was.sha256 !== m.manifest.model.sha256) {
        throw new InputError(`${opts.out} was profiled with another ${m.manifest.name} (model.onnx sha256 ${was.sha256.slice(0, 12)}, now ${m.manifest.model.sha256.slice(0, 12)}); resume with the same models or choose another --out`);
      }
    }
  }
  const perComb = groupsPerCombination(opts.modelNum, opts);
  const combModels = opts.combinations.map((c) =>
    c.map((n) => {
      const m = byName.get(n);
      if (!m) throw new InputError(`combination names unknown model '${n}'`);
      return profileModel(m.manifest);
    }),
  );
  // the whole draw, up front (cheap): what each file will hold, and the groups to measure
  const plan: ProfileGroup[][] = opts.combinations.map(() => []);
  for (const { combination, group } of drawProfile(combModels, opts)) plan[combination]!.push(group);

  // resume state of every combination
  let resumedFrom = 0;
  let repairedLines = 0;
  const resume = opts.combinations.map((c) => {
    const path = join(opts.out, `${c.join('_')}.csv`);
    const state = prepareCsvForAppend(path, opts.modelNum, version);
    resumedFrom += state.rows;
    if (state.repairedBytes > 0) repairedLines++;
    return { path, state };
  });
  const rowsDone = resume.map((r) => r.state.rows);
  const writeMeta = (): void => {
    const files = opts.combinations.map((c, i) => ({
      combination: c,
      csv: `${c.join('_')}.csv`,
      groups: perComb,
      rows: rowsDone[i]!,
      planned: countGroups(plan[i]!),
      measured: countGroups(plan[i]!.slice(0, rowsDone[i]!)),
    }));
    const planned = sumCounts(files.map((f) => f.planned));
    const measured = sumCounts(files.map((f) => f.measured));
    const meta: ProfileFile = {
      format: PROFILE_FORMAT,
      version,
      settings,
      // per-operator work recorded, so that training (feature encodings 2, 3) needs no model files
      models: opts.models.map((m) => ({ ...profileModel(m.manifest), sha256: m.manifest.model.sha256, ...operatorWork(m.manifest) })),
      files,
      contents: {
        samplingRule: SAMPLING_RULE,
        distinctConfigurations: 'profile',
        absentShare: planned.groups > 0 ? planned.withAbsent / planned.groups : 0,
        absentRatio: opts.absentRatio,
        reps: opts.reps,
        warmup: opts.warmup,
        stability,
        planned,
        measured,
        complete: measured.groups >= planned.groups,
      },
      provenance: collectProvenance({ executionProvider: opts.ep, seed: opts.seed }),
    };
    writeJsonAtomic(metaPath, meta);
  };
  writeMeta();

  const groupsTotal = perComb * opts.combinations.length;
  let groupsDone = resumedFrom;
  let groupsThisRun = 0;
  let timedMs = 0;
  let prepareMs = 0;
  let stopped = false;

  const needed = [...new Set(opts.combinations.flat())];
  const ex = new Executor();
  try {
    if (groupsDone < groupsTotal) {
      for (const name of needed) {
        const m = byName.get(name)!;
        const t0 = performance.now();
        await ex.addService({ name, modelDir: m.dir, ep: opts.ep, intraOpThreads: opts.intraOpThreads, seed: opts.seed }, opts.modelNum);
        await ex.prepare(name, opts.batchSizes[0]!, hasSeqInput(m.manifest) ? opts.seqLens[0]! : 0, [], true);
        prepareMs += performance.now() - t0;
      }
    }
    outer: for (const [ci, groups] of plan.entries()) {
      const { path, state } = resume[ci]!;
      if (state.rows >= perComb) continue;
      const appender = new DurableAppender(path);
      try {
        if (state.repairedBytes === -1) appender.append(`${csvHeader(opts.modelNum, version).join(',')}\n`);
        for (const group of groups) {
          if (group.index < state.rows) continue;
          if (opts.shouldStop?.() || (opts.maxGroups !== undefined && groupsThisRun >= opts.maxGroups)) {
            stopped = true;
            break outer;
          }
          const r = await measureGroup(ex, group, opts.reps, opts.warmup, stability);
          timedMs += r.timedMs;
          prepareMs += r.prepareMs;
          appender.append(csvRow(group, r.stats, version));
          rowsDone[ci]!++;
          groupsDone++;
          groupsThisRun++;
          opts.onProgress?.(groupsDone, groupsTotal, combinationName(combModels[ci]!));
        }
      } finally {
        appender.close();
      }
    }
  } finally {
    await ex.shutdown();
    writeMeta();
  }
  const wallMs = performance.now() - started;
  const bookkeepingMs = Math.max(0, wallMs - timedMs - prepareMs);
  return {
    out: opts.out,
    groupsTotal,
    groupsDone,
    groupsThisRun,
    resumedFrom,
    repairedLines,
    wallMs,
    timedMs,
    prepareMs,
    bookkeepingMs,
    bookkeepingShare: wallMs > 0 ? bookkeepingMs / wallMs : 0,
    groupsPerMinute: groupsThisRun / (wallMs / 60_000),
    complete: !stopped && groupsDone >= groupsTotal,
  };
}

/** Whether the median of `latencies` is known within `pct` % (95 % CI half-width). */
export function medianIsStable(latencies: readonly number[], pct: number): boolean {
  const sorted = sortedCopy(latencies);
  const med = median(sorted);
  return med > 0 && medianCiHalfWidthSorted(sorted) <= (pct / 100) * med;
}

async function measureGroup(ex: Executor, group: ProfileGroup, reps: number, warmup: number, stability: { stablePct: number; maxReps: number } | null): Promise<{ stats: GroupStats; timedMs: number; prepareMs: number }> {
  const t0 = performance.now();
  const queryOf = (slot: number) => `g${group.index}-${slot}`;
  const members: SegmentRun[] = [];
  const prefixes: SegmentRun[] = [];
  group.slots.forEach((s, i) => {
    if (s.batch === 0) return;
    members.push({ service: s.model, queryId: queryOf(i), start: s.start, end: s.end, batch: s.batch, seq: s.seq, advance: false });
    if (s.start > 0) prefixes.push({ service: s.model, queryId: queryOf(i), start: 0, end: s.start, batch: s.batch, seq: s.seq });
  });
  if (prefixes.length > 0) await ex.runGroup(prefixes);
  for (let w = 0; w < warmup; w++) await ex.runGroup(members);
  const prepareMs = performance.now() - t0;
  const latencies: number[] = [];
  const skews: number[] = [];
  let timedMs = 0;
  const runs = async (count: number): Promise<void> => {
    for (let r = 0; r < count; r++) {
      const res = await ex.runGroup(members);
      latencies.push(res.groupMs * 1000);
      skews.push(res.startSkewMs * 1000);
      timedMs += res.groupMs;
    }
  };
  await runs(reps);
  // adaptive: rounds of half the minimum (at least one run) until the median is stable or the cap is reached
  while (stability && latencies.length < stability.maxReps && !medianIsStable(latencies, stability.stablePct)) {
    await runs(Math.min(Math.max(1, Math.ceil(reps / 2)), stability.maxReps - latencies.length));
  }
  for (const [i, s] of group.slots.entries()) if (s.batch > 0 && s.start > 0) await ex.release(s.model, queryOf(i));
  return { stats: toStats(latencies, skews), timedMs, prepareMs };
}

function toStats(latUs: number[], skewUs: number[]): GroupStats {
  const s = summarize(latUs);
  return { medianUs: s.median, meanUs: s.mean, stdUs: s.std, minUs: s.min, maxUs: s.max, p5Us: s.p5, p95Us: s.p95, skewUs: median(skewUs), reps: latUs.length, medianCiUs: medianCiHalfWidthSorted(sortedCopy(latUs)) };
}

function sumCounts(all: readonly GroupCounts[]): GroupCounts {
  const c: GroupCounts = { groups: 0, solo: 0, colocated: 0, withAbsent: 0, byPresent: {} };
  for (const x of all) {
    c.groups += x.groups;
    c.solo += x.solo;
    c.colocated += x.colocated;
    c.withAbsent += x.withAbsent;
    for (const [k, v] of Object.entries(x.byPresent)) c.byPresent[k] = (c.byPresent[k] ?? 0) + v;
  }
  return c;
}
