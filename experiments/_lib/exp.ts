/**
 * The run scripts' helper (`node --import tsx experiments/_lib/exp.ts <command>`): what bash should not
 * compute itself. Every number it writes comes from src/report/experiments.ts, the module `abacus report`
 * reads results with.
 *
 *   init     write run.json (section, mode, execution provider, settings, command, provenance)
 *   qos      measured solo latencies (bench executor JSON) → qos.json with every combination's targets
 *   targets  print "<combination> <models,comma-separated> <qos ms> <load q/s> <batch sizes|-> <serial capacity q/s>" per line
 *   finish   summary.csv, summary.json and figures/ of a results folder
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from '@commander-js/extra-typings';
import { errorMessage, exitCodeOf, InputError } from '../../src/common/errors.js';
import { writeJsonAtomic } from '../../src/common/fsutil.js';
import { collectProvenance } from '../../src/common/provenance.js';
import type { ExecutorBenchResult } from '../../src/executor/index.js';
import {
  DEFAULT_QOS_RULE,
  QOS_FORMAT,
  deriveTargets,
  describeQosRule,
  isSection,
  newRunInfo,
  readQosFile,
  soloFromBench,
  studyTargets,
  type QosFile,
  type QosRule,
  type SettingValue,
} from '../../src/report/experiments.js';
import { finishRun } from '../../src/report/experiment-report.js';
import { readProfileMeta } from '../../src/predictor/index.js';

function run(fn: () => Promise<void> | void): () => Promise<void> {
  return async () => {
    try {
      await fn();
    } catch (err) {
      process.stderr.write(`exp: ${errorMessage(err)}\n`);
      process.exitCode = exitCodeOf(err);
    }
  };
}

const positive = (name: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number (got '${v}')`);
  return n;
};

const intList = (name: string) => (v: string): number[] => {
  const list = v.split(/[\s,]+/).filter(Boolean).map(Number);
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n <= 0)) throw new InvalidArgumentError(`${name} must be a list of positive integers (got '${v}')`);
  return list;
};

function settingValue(text: string): SettingValue {
  if (text === 'true' || text === 'false') return text === 'true';
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  return text;
}

/**
 * The profiling settings of the data sets a run trains on (`--data`), as run.json records them: samples,
 * reps and batch sizes (one value, or "mixed (a/b)" when the data sets differ) and every combination.
 */
function profiledSettings(dirs: readonly string[]): Record<string, SettingValue> {
  const seen = { samples: new Set<string>(), reps: new Set<string>(), combinations: new Set<string>(), batch_sizes: new Set<string>() };
  for (const dir of dirs) {
    const s = (readProfileMeta(dir).meta.settings ?? {}) as { samples?: unknown; reps?: unknown; combinations?: unknown; batchSizes?: unknown };
    seen.samples.add(String(s.samples ?? 'unknown'));
    seen.reps.add(String(s.reps ?? 'unknown'));
    for (const c of Array.isArray(s.combinations) ? s.combinations : []) seen.combinations.add((c as string[]).join(','));
    seen.batch_sizes.add(Array.isArray(s.batchSizes) ? s.batchSizes.join(',') : 'unknown');
  }
  const one = (values: Set<string>): SettingValue => (values.size === 1 ? settingValue([...values][0] as string) : `mixed (${[...values].join('/')})`);
  return { samples: one(seen.samples), reps: one(seen.reps), combinations: [...seen.combinations].join(' '), batch_sizes: one(seen.batch_sizes) };
}

const program = new Command('exp').description('helper of the experiment run scripts').showHelpAfterError();

program
  .command('init')
  .description('write <dir>/run.json')
  .requiredOption('--dir <dir>', 'results folder')
  .requiredOption('--section <id>', 'experiment section')
  .requiredOption('--mode <mode>', 'quick or full')
  .requiredOption('--ep <ep>', 'execution provider')
  .requiredOption('--command <text>', 'the run script command line')
  .option('--seed <n>', 'the run seed', (v) => Number(v), 0)
  .option('--set <key=value>', 'a setting (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
  .option('--data <dir>', "a profile the run trains on (repeatable): its samples, reps, combinations and batch sizes replace those --set", (v: string, acc: string[]) => [...acc, v], [] as string[])
  .option('--predictor-given', 'nothing is profiled in the run (a trained predictor was given): samples and reps say so')
  .action((opts) =>
    run(() => {
      if (!isSection(opts.section)) throw new InputError(`unknown section '${opts.section}'`);
      if (opts.mode !== 'quick' && opts.mode !== 'full') throw new InputError(`mode must be quick or full (got '${opts.mode}')`);
      const settings: Record<string, SettingValue> = {};
      for (const kv of opts.set) {
        const i = kv.indexOf('=');
        if (i <= 0) throw new InputError(`--set needs key=value (got '${kv}')`);
        settings[kv.slice(0, i)] = settingValue(kv.slice(i + 1));
      }
      const replaced: Record<string, SettingValue> =
        opts.data.length > 0 ? profiledSettings(opts.data) : opts.predictorGiven ? { samples: 'none (--predictor given)', reps: 'none (--predictor given)' } : {};
      for (const [key, value] of Object.entries(replaced)) if (key in settings) settings[key] = value;
      const info = newRunInfo({ dir: opts.dir, section: opts.section, mode: opts.mode, ep: opts.ep, command: opts.command, seed: opts.seed, settings });
      writeJsonAtomic(join(opts.dir, 'run.json'), info);
    })(),
  );

program
  .command('qos')
  .description('derive QoS targets and loads from measured solo latencies into <dir>/qos.json')
  .requiredOption('--dir <dir>', 'results folder')
  .requiredOption('--bench <files...>', "'abacus bench executor --out' JSON files, one per batch size")
  .requiredOption('--combs <list>', "combinations: 'a,b c,d' (models comma-separated, combinations space-separated)")
  .option('--factor <k>', 'QoS = k × largest solo latency at the largest batch', positive('--factor'), DEFAULT_QOS_RULE.factor)
  .option('--rho-qos <x>', 'QoS-study load as a share of serial capacity', positive('--rho-qos'), DEFAULT_QOS_RULE.rhoQos)
  .option('--rho-overload <x>', 'overload-study load as a share of serial capacity', positive('--rho-overload'), DEFAULT_QOS_RULE.rhoOverload)
  .option('--batch-sizes <list>', 'batch sizes the load draws from', intList('--batch-sizes'), DEFAULT_QOS_RULE.batchSizes)
  .option('--small-batch <b>', 'also derive small-DNN targets at this batch', (v) => intList('--small-batch')(v)[0] as number)
  .option('--shared-qos', 'one QoS for every combination (the largest solo latency over all their models)')
  .action((opts) =>
    run(() => {
      const benches = opts.bench.map((f) => JSON.parse(readFileSync(f, 'utf8')) as ExecutorBenchResult);
      const { solo, mean, seq, seqs } = soloFromBench(benches);
      const combos = opts.combs.split(/\s+/).filter(Boolean).map((c) => c.split(',').filter(Boolean));
      if (combos.length === 0) throw new InputError('--combs is empty');
      const rule: QosRule = {
        factor: opts.factor,
        rhoQos: opts.rhoQos,
        rhoOverload: opts.rhoOverload,
        batchSizes: opts.batchSizes,
        smallBatch: opts.smallBatch ?? null,
        sharedQos: opts.sharedQos === true,
      };
      const targets = deriveTargets(solo, combos, rule, mean);
      const file: QosFile = {
        format: QOS_FORMAT,
        version: 1,
        rule: { ...rule, text: describeQosRule(rule) },
        soloSeq: seq,
        soloSeqs: seqs,
        soloMean: mean,
        solo,
        combinations: Object.fromEntries(targets.map((t) => [t.combination, t])),
        sources: opts.bench,
        provenance: collectProvenance({ command: ['exp', ...process.argv.slice(2)].join(' ') }),
      };
      writeJsonAtomic(join(opts.dir, 'qos.json'), file);
      for (const t of targets) {
        process.stderr.write(`${t.combination}: QoS ${t.qosMs} ms, QoS-study load ${t.loadQosQps} q/s, overload ${t.loadOverloadQps} q/s${t.small ? `, small-DNN QoS ${t.small.qosMs} ms at ${t.small.loadQps} q/s` : ''}\n`);
      }
    })(),
  );

program
  .command('targets')
  .description("print each combination's serving targets for a study (qos, overload, small, ways-<n>)")
  .requiredOption('--dir <dir>', 'results folder')
  .requiredOption('--study <study>', 'serving study')
  .action((opts) =>
    run(() => {
      const qos = readQosFile(opts.dir);
      if (!qos) throw new InputError(`${opts.dir} has no qos.json (run 'exp qos' first)`);
      for (const t of Object.values(qos.combinations)) {
        const s = studyTargets(t, opts.study);
        process.stdout.write(`${t.combination} ${t.models.join(',')} ${s.qosMs} ${s.loadQps} ${s.batchSizes ? s.batchSizes.join(',') : '-'} ${t.capacityQps.toFixed(1)}\n`);
      }
    })(),
  );

program
  .command('finish')
  .description('write summary.csv, summary.json and figures/ of a results folder')
  .requiredOption('--dir <dir>', 'results folder')
  .action((opts) =>
    run(async () => {
      const { files } = await finishRun(opts.dir);
      for (const f of files) process.stdout.write(`${f}\n`);
    })(),
  );

program.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
await program.parseAsync(process.argv);
