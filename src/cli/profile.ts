/** `abacus profile`. */
import { Command, Option } from '@commander-js/extra-typings';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { InputError } from '../common/errors.js';
import { startProgress } from '../common/progress.js';
import { ZOO, DEFAULT_BATCH_SIZES, DEFAULT_SEQ_LENS } from '../zoo/catalog.js';
import { parseExecutionProvider } from '../executor/index.js';
import { runProfile, combinations, groupsPerCombination } from '../profiler/index.js';
import { describePlan, formatDuration, planProfile } from './profile-plan.js';
import { hasSeqInput } from '../zoo/manifest.js';
import { action, CUDA_OPTION_HELP, executionProviderFromFlags, modelRefs, parseIntList, parseIntOption, parseNumberOption, parseScale, printJson, resolveModels } from './shared.js';

/** Plans estimated longer than this many hours need --yes. */
const LONG_PLAN_H = 2;

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 0; i < k; i++) r = (r * (n - i)) / (i + 1);
  return Math.round(r);
}

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
    .option('--cuda-option <key=value...>', CUDA_OPTION_HELP)
    .addOption(new Option('--scale <scale>', 'scale of zoo models built on demand').default('full').argParser(parseScale))
    .option('--seed <n>', 'seed of the sampling', parseIntOption('--seed'), 0)
    .option('--threads <n>', 'intra-op threads per service (CPU); default cores / model-num', parseIntOption('--threads', 1))
    .option('--max-groups <n>', 'stop after this many new groups (resume later with the same arguments)', parseIntOption('--max-groups', 1))
    .option('--models-dir <dir>', 'models folder', 'models')
    .option('--out <dir>', 'data set folder (default runs/profile/<ep>-<scale>-<n>in<models>, git-ignored)')
    .option('--yes', `run a plan estimated at more than ${LONG_PLAN_H} h (without it such a plan is refused)`)
    .option('--json', 'print one JSON object on stdout')
    .action(
      action(async (opts) => {
        const n = opts.modelNum;
        if (n < 2 || n > 4) throw new InputError(`--model-num must be 2, 3 or 4 (got ${n})`);
        const ep = executionProviderFromFlags(opts.ep, opts.cudaOption);
        if (opts.comb && opts.models) throw new InputError('give --comb (one combination) or --models (a set to combine), not both');
        const refs = modelRefs(opts.comb ?? opts.models ?? ZOO.map((z) => z.name));
        if (opts.comb && refs.length !== n) throw new InputError(`--comb names ${refs.length} models but --model-num is ${n}`);
        if (!opts.comb && refs.length < n) throw new InputError(`--model-num ${n} needs at least ${n} models (got ${refs.length})`);
        const out = opts.out ?? join('runs', 'profile', `${ep}-${opts.scale}-${n}in${refs.length}`);
        // the plan, said before anything is built or run
        const plan = planProfile({ refs, modelsDir: opts.modelsDir, scale: opts.scale, ep, modelNum: n, combinations: opts.comb ? 1 : binomial(refs.length, n), groupsPerCombination: groupsPerCombination(n, { batchSizes: opts.batchSizes, samples: opts.samples }), batchSizes: opts.batchSizes, reps: opts.reps, warmup: opts.warmup });
        process.stderr.write(`${describePlan(plan, { modelNum: n, reps: opts.reps, warmup: opts.warmup, samples: opts.samples, batchSizes: opts.batchSizes, out })}\n`);
        if (plan.estimateS > LONG_PLAN_H * 3600 && !opts.yes) {
          throw new InputError(
            `this plan would take about ${formatDuration(plan.estimateS)}: pass --yes to run it, or profile less, e.g. ` +
              `'abacus profile --model-num ${n} --comb ${plan.models.slice(0, n).join(' ')} --scale tiny --samples 10 --reps 10' (minutes on a laptop CPU); ` +
              `a profile stopped early resumes with the same arguments`,
          );
        }
        const models = await resolveModels(refs, opts.modelsDir, opts.scale);
        const profileModels = models.map((m) => ({ id: m.manifest.id, name: m.manifest.name, operators: m.manifest.operators.length, hasSeq: hasSeqInput(m.manifest) }));
        const combs = combinations(profileModels, n).map((c) => c.map((m) => m.name));
        const threads = opts.threads ?? Math.max(1, Math.floor(availableParallelism() / n));
        let stopRequested = false;
        const onSigint = () => {
          if (stopRequested) process.exit(130);
          stopRequested = true;
          process.stderr.write('\nabacus profile: stopping after the current group (Ctrl-C again to abort)\n');
        };
        process.on('SIGINT', onSigint);
        const bar = startProgress('profile', plan.groups);
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
