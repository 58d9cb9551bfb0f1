/**
 * Small synthetic profile data sets for the predictor tests, written in the `abacus.profile` v1 layout
 * (profile.json + one CSV per combination). Latencies follow a known, mildly nonlinear law so that the
 * models have something to learn: each present member costs ops × batch (× seq for BERT), the group takes
 * the larger member plus 30 % of the smaller (overlap), plus a fixed launch cost.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/common/rng.js';
import { ZOO, type ZooEntry } from '../../src/zoo/catalog.js';

export const HEADER_2 =
  'index,model_0,start_0,end_0,batch_0,seq_0,model_1,start_1,end_1,batch_1,seq_1,median_us,mean_us,std_us,min_us,max_us,p5_us,p95_us,skew_us,reps';

export function tempDir(prefix = 'abacus-pred-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface Member {
  model: ZooEntry;
  start: number;
  end: number;
  batch: number;
  seq: number;
}

/**
 * A work table for a zoo entry as profile.json records it (feature encodings 2 and 3): every operator of model
 * `id` costs the same synthetic GFLOPs, proportional to the per-operator cost of the law below.
 */
export function syntheticWork(model: ZooEntry): { operatorGflops: number[]; referenceSeq: number } {
  return { operatorGflops: Array.from({ length: model.operatorCount }, () => (40 + 25 * model.id) / 1000), referenceSeq: model.hasSeq ? 16 : 0 };
}

/** Zoo entries with their synthetic work tables, for makeFeatureSpec (encoding 2). */
export function withWork(models: readonly ZooEntry[]): Array<ZooEntry & { work: { operatorGflops: number[]; referenceSeq: number } }> {
  return models.map((m) => ({ ...m, work: syntheticWork(m) }));
}

/** Cost in µs of a member's segment (0 when absent). */
export function memberCostUs(m: Member | null): number {
  if (!m || m.batch === 0) return 0;
  const ops = m.end - m.start;
  const perOp = 40 + 25 * m.model.id;
  const seqFactor = m.model.hasSeq ? m.seq / 16 : 1;
  return ops * perOp * (0.5 + m.batch / 8) * seqFactor;
}

/** The synthetic law: max + 0.3·min + 200 µs. */
export function groupLatencyUs(a: Member | null, b: Member | null): number {
  const ca = memberCostUs(a);
  const cb = memberCostUs(b);
  return Math.max(ca, cb) + 0.3 * Math.min(ca, cb) + 200;
}

function drawMember(rng: Rng, model: ZooEntry, absentProb: number): Member {
  if (rng.next() < absentProb) return { model, start: 0, end: 0, batch: 0, seq: 0 };
  const start = rng.int(0, model.operatorCount - 1);
  const end = rng.int(start + 1, model.operatorCount);
  return { model, start, end, batch: rng.pick([4, 8, 16, 32]), seq: model.hasSeq ? rng.pick([8, 16, 32, 64]) : 0 };
}

export function csvRow(index: number, a: Member, b: Member, medianUs: number): string {
  const block = (m: Member): string => [m.model.id, m.start, m.end, m.batch, m.seq].join(',');
  const s = (v: number): string => v.toFixed(3);
  return [index, block(a), block(b), s(medianUs), s(medianUs * 1.01), s(medianUs * 0.02), s(medianUs * 0.97), s(medianUs * 1.05), s(medianUs * 0.98), s(medianUs * 1.03), '4.000', 100].join(',');
}

export interface FixtureOptions {
  /** Zoo ids of the models; every pair (a < b) becomes one CSV. */
  modelIds?: number[];
  rowsPerPair?: number;
  seed?: number;
  /** Probability that one member of a row is absent. */
  absentProb?: number;
  /** Relative noise of the median (uniform ±). */
  noise?: number;
  /** Leave the per-operator FLOPs out of profile.json (a profile from before feature encoding 2). */
  withoutWork?: boolean;
}

/** Write a pair data set into `dir` (created). Returns the file names written. */
export function writePairDataset(dir: string, options: FixtureOptions = {}): string[] {
  const ids = options.modelIds ?? [0, 6];
  const rows = options.rowsPerPair ?? 200;
  const rng = new Rng(options.seed ?? 1);
  const absent = options.absentProb ?? 0.1;
  const noise = options.noise ?? 0.01;
  const models = ids.map((id) => ZOO[id] as ZooEntry).sort((a, b) => a.id - b.id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'profile.json'),
    JSON.stringify(
      {
        format: 'abacus.profile',
        version: 1,
        seed: options.seed ?? 1,
        models: models.map((m) => ({ id: m.id, name: m.name, operatorCount: m.operatorCount, ...(options.withoutWork ? {} : syntheticWork(m)) })),
      },
      null,
      2,
    ),
  );
  const files: string[] = [];
  for (let i = 0; i < models.length; i++) {
    for (let j = i + 1; j < models.length; j++) {
      const ma = models[i] as ZooEntry;
      const mb = models[j] as ZooEntry;
      const lines = [HEADER_2];
      for (let r = 0; r < rows; r++) {
        let a = drawMember(rng, ma, absent / 2);
        let b = drawMember(rng, mb, a.batch === 0 ? 0 : absent / 2);
        if (a.batch === 0 && b.batch === 0) b = drawMember(rng, mb, 0);
        if (rng.next() < 0.05 && a.batch > 0) a = { ...a, end: a.start }; // empty segment that joins the barrier
        const median = groupLatencyUs(a, b) * (1 + noise * (2 * rng.next() - 1));
        lines.push(csvRow(r, a, b, median));
      }
      const name = `${ma.name}_${mb.name}.csv`;
      writeFileSync(join(dir, name), `${lines.join('\n')}\n`);
      files.push(name);
    }
  }
  return files;
}
