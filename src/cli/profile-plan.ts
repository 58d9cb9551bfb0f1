/**
 * What `abacus profile` is about to do, said before it starts: models (and whether they must be built),
 * combinations, groups, timed runs, and a rough duration. The duration comes from this project's own
 * profiles (time per timed run per unit of batch, and fixed costs per group), measured on the machines
 * named below; another machine may be several times faster or slower, and the progress line gives the
 * measured rate once groups finish.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionProviderName } from '../executor/index.js';
import { isZooName, zooEntry } from '../zoo/catalog.js';
import type { ZooScale } from '../zoo/definition.js';

interface RunCost {
  /** Seconds of one timed run of a pair group, per unit of mean batch size. */
  perRunPerBatchS: number;
  /** Seconds per group besides its timed and warm-up runs (segment sessions, bookkeeping). */
  perGroupS: number;
  /** Where the numbers come from. */
  source: string;
}

/**
 * Measured: data/profile/cpu-full-2in4.run.json (1,944 groups, 4 reps, batch 1/2/4: 0.156 s per timed run,
 * 0.38 s of warm-up and preparation per group), data/profile/cpu-tiny-2in4.run.json (960 groups, 30 reps,
 * batch 4-32: 5.1 ms per run, 18 ms + 37 ms bookkeeping per group), data/h200-webgpu/profile/2in4-seed1.last.json
 * (483 groups, 15 reps, batch 4-32: 44 ms per run, 0.12 s + 23 ms per group).
 */
const COSTS: Record<'cpu-full' | 'cpu-tiny' | 'gpu-full' | 'gpu-tiny', RunCost> = {
  'cpu-full': { perRunPerBatchS: 0.156 / (7 / 3), perGroupS: 0.378 - 2 * 0.156 + 0.005, source: 'full models on a 2-core Xeon (CPU)' },
  'cpu-tiny': { perRunPerBatchS: 0.00509 / 15, perGroupS: 0.0178 - 2 * 0.00509 + 0.0368, source: 'tiny models on a 2-core Xeon (CPU)' },
  'gpu-full': { perRunPerBatchS: 0.0441 / 15, perGroupS: 0.120 - 2 * 0.0441 + 0.0228, source: 'full models on one H200 (webgpu)' },
  'gpu-tiny': { perRunPerBatchS: 0.0441 / 15 / 10, perGroupS: 0.05, source: 'full models on one H200 (webgpu), scaled down for tiny models' },
};

export interface ProfilePlan {
  models: string[];
  scale: ZooScale;
  /** Zoo models not built yet in the models folder, and their approximate size on disk. */
  toBuild: string[];
  toBuildBytes: number;
  combinations: number;
  groups: number;
  timedRuns: number;
  estimateS: number;
  estimateSource: string;
}

export function planProfile(o: { refs: readonly string[]; modelsDir: string; scale: ZooScale; ep: ExecutionProviderName; modelNum: number; combinations: number; groupsPerCombination: number; batchSizes: readonly number[]; reps: number; warmup: number }): ProfilePlan {
  const models = o.refs.map((r) => (isZooName(r) || /^\d+$/.test(r) ? zooEntry(r).name : r) as string);
  const toBuild = models.filter((m) => isZooName(m) && !existsSync(join(o.modelsDir, m, 'manifest.json')));
  const bytesPerParam = o.scale === 'full' ? 4 : 4 / 40; // tiny models are narrow (1/30 to 1/130 of the weights)
  const toBuildBytes = toBuild.reduce((sum, m) => sum + zooEntry(m).params * bytesPerParam, 0);
  const cost = COSTS[`${o.ep === 'cpu' ? 'cpu' : 'gpu'}-${o.scale}`];
  const meanBatch = o.batchSizes.reduce((a, b) => a + b, 0) / o.batchSizes.length;
  const groups = o.combinations * o.groupsPerCombination;
  const perRunS = cost.perRunPerBatchS * meanBatch * (o.modelNum / 2);
  const estimateS = groups * ((o.reps + o.warmup) * perRunS + cost.perGroupS);
  return { models, scale: o.scale, toBuild, toBuildBytes, combinations: o.combinations, groups, timedRuns: groups * o.reps, estimateS, estimateSource: cost.source };
}

export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 2 * 86400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} days`;
}

export function describePlan(p: ProfilePlan, o: { modelNum: number; reps: number; warmup: number; samples: number; batchSizes: readonly number[]; out: string }): string {
  const gb = (b: number) => (b >= 1e9 ? `${(b / 1e9).toFixed(1)} GB` : `${Math.max(1, Math.round(b / 1e6))} MB`);
  const lines = [
    `abacus profile: ${p.combinations} combination(s) of ${o.modelNum} out of ${p.models.join(', ')} (${p.scale})`,
    `  ${p.groups.toLocaleString('en-US')} groups (${o.batchSizes.length}^${o.modelNum} batch tuples × ${o.samples} samples per combination), ${o.reps} timed + ${o.warmup} warm-up runs each = ${p.timedRuns.toLocaleString('en-US')} timed runs`,
    `  estimated ${formatDuration(p.estimateS)} (rough: scaled from ${p.estimateSource}); into ${o.out}`,
  ];
  if (p.toBuild.length > 0) lines.push(`  builds ${p.toBuild.join(', ')} first (${p.scale}, about ${gb(p.toBuildBytes)})`);
  return lines.join('\n');
}
