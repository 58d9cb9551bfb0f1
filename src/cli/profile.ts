/** `abacus profile`. */
import { Command, Option } from '@commander-js/extra-typings';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { InputError } from '../common/errors.js';
import { startProgress } from '../common/progress.js';
import { ZOO, DEFAULT_BATCH_SIZES, DEFAULT_SEQ_LENS } from '../zoo/catalog.js';
import { parseExecutionProvider } from '../executor/index.js';
import { runProfile, combinations } from '../profiler/index.js';
import { hasSeqInput } from '../zoo/manifest.js';
import { action, parseIntList, parseIntOption, parseNumberOption, parseScale, printJson, resolveModels } from './shared.js';

export function profileCommand(): Command {
  return new Command('profile')
    .description('measure the latency of random co-located operator groups of 2, 3 or 4 models into a data set')
    .requiredOption('--model-num <n>', 'models per group: 2, 3 or 4', parseIntOption('--model-num', 1))
    .option('--comb <models...>', 'one combination of --model-num models (ids or names)')
    .option('--models <models...>', 'every combination of --model-num models out of these (default: the zoo\'s seven)')
    .option('--batch-sizes <list>', 'batch sizes', parseIntList('--batch-sizes'), [...DEFAULT_BATCH_SIZES])
    .option('--seq-lens <list>', 'BERT sequence lengths', parseIntList('--seq-lens'), [...DEFAULT_SEQ_LENS])
    .option('--samples <n>', 'distinct groups per batch-size tuple', parseIntOption('--samples', 1), 200)
    .option('--reps <n>', 'timed runs per group', parseIntOption('--reps', 1), 100)
    .option('--stable-pct <x>', 'adaptive repetitions: after --reps runs, more until the median\'s 95 % CI half-width is within x % of it (or --max-reps)', parseNumberOption('--stable-pct', 0))
    .option('--max-reps <n>', 'with --stable-pct: at most this many timed runs per group (default 4 x --reps)', parseIntOption('--max-reps', 1))
    .option('--warmup <n>', 'untimed runs per group first', parseIntOption('--warmup', 0), 2)
    .option('--absent-ratio <x>', 'share of groups with a model left out (solo and subset groups)', parseNumberOption('--absent-ratio', 0), 0.25)
    .option('--ep <ep>', 'execution provider: cpu, webgpu or cuda', 'cpu')
    .addOption(new Option('--scale <scale>', 'scale of zoo models built on demand').default('full').argParser(parseScale))
    .option('--seed <n>', 'seed of the sampling', parseIntOption('--seed'), 0)
    .option('--threads <n>', 'intra-op threads per service (CPU); default cores / model-num', parseIntOption('--threads', 1))
    .option('--max-groups <n>', 'stop after this many new groups (resume later with the same arguments)', parseIntOption('--max-groups', 1))
    .option('--models-dir <dir>', 'models folder', 'models')
    .option('--out <dir>', 'data set folder (default data/profile/<ep>-<scale>-<n>in<models>)')
    .option('--json', 'print one JSON object on stdout')
    .action(
      action(async (opts) => {
        const n = opts.modelNum;
        if (n < 2 || n > 4) throw new InputError(`--model-num must be 2, 3 or 4 (got ${n})`);
        const ep = parseExecutionProvider(opts.ep);
        if (opts.comb && opts.models) throw new InputError('give --comb (one combination) or --models (a set to combine), not both');
        const refs = opts.comb ?? opts.models ?? ZOO.map((z) => z.name);
        const models = await resolveModels(refs, opts.modelsDir, opts.scale);
        if (opts.comb && models.length !== n) throw new InputError(`--comb names ${models.length} models but --model-num is ${n}`);
        if (!opts.comb && models.length < n) throw new InputError(`--model-num ${n} needs at least ${n} models (got ${models.length})`);
        const profileModels = models.map((m) => ({ id: m.manifest.id, name: m.manifest.name, operators: m.manifest.operators.length, hasSeq: hasSeqInput(m.manifest) }));
        const combs = combinations(profileModels, n).map((c) => c.map((m) => m.name));
        const out = opts.out ?? join('data', 'profile', `${ep}-${opts.scale}-${n}in${models.length}`);
        const threads = opts.threads ?? Math.max(1, Math.floor(availableParallelism() / n));
        let stopRequested = false;
        const onSigint = () => {
          if (stopRequested) process.exit(130);
          stopRequested = true;
          process.stderr.write('\nabacus profile: stopping after the current group (Ctrl-C again to abort)\n');
        };
        process.on('SIGINT', onSigint);
        const bar = startProgress('profile', 1);
        try {
          const result = await runProfile({
            out,
            models,
            combinations: combs,
            modelNum: n,
            batchSizes: opts.batchSizes,
            seqLens: opts.seqLens,
            samples: opts.samples,
            reps: opts.reps,
            stablePct: opts.stablePct,
            maxReps: opts.maxReps,
            warmup: opts.warmup,
            absentRatio: opts.absentRatio,
            seed: opts.seed,
            ep,
            scale: opts.scale,
            intraOpThreads: threads,
            maxGroups: opts.maxGroups,
            shouldStop: () => stopRequested,
            onProgress: (done, total, info) => {
              bar.setTotal(total);
              bar.update(done, { info });
            },
          });
          bar.stop();
          if (opts.json) printJson(result);
          else {
            console.log(`${result.groupsDone}/${result.groupsTotal} groups in ${out} (${result.groupsThisRun} this run, resumed from ${result.resumedFrom}${result.repairedLines ? `, ${result.repairedLines} torn line(s) repaired` : ''})`);
            console.log(`${result.groupsPerMinute.toFixed(1)} groups/min; wall ${(result.wallMs / 1000).toFixed(1)} s = timed ${(result.timedMs / 1000).toFixed(1)} s + prepare ${(result.prepareMs / 1000).toFixed(1)} s + bookkeeping ${(result.bookkeepingMs / 1000).toFixed(1)} s (${(result.bookkeepingShare * 100).toFixed(1)}%)`);
          }
          if (stopRequested) process.exitCode = 130;
        } finally {
          bar.stop();
          process.off('SIGINT', onSigint);
        }
      }),
    );
}
