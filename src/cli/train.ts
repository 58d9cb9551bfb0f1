/** `abacus train`. */
import { Command, Option } from '@commander-js/extra-typings';
import { basename, join } from 'node:path';
import { trainPredictor, saveTrainResult, describeTrainSummary, MODELINGS, type Modeling, type TrainMode, type SvmKernel, type MlpOptimizer } from '../predictor/index.js';
import { startProgress } from '../common/progress.js';
import { action, parseIntOption, parseNumberOption, printJson } from './shared.js';

export function trainCommand(): Command {
  return new Command('train')
    .description('train an overlap-aware latency predictor (MLP, LR or SVM) on profile data, with k-fold and held-out error reports')
    .requiredOption('--data <dirs...>', 'profile data set folder(s) (abacus profile --out)')
    .addOption(new Option('--modeling <m>', 'predictor').choices(MODELINGS as readonly Modeling[]).default('mlp' as Modeling))
    .addOption(new Option('--mode <mode>', "'all': one model for every combination; 'onebyone': one per combination").choices(['all', 'onebyone'] as const).default('all' as TrainMode))
    .option('--folds <k>', 'k of the k-fold cross-validation (0: none)', parseIntOption('--folds', 0), 5)
    .option('--test-fraction <x>', 'share of each combination held out for the final test', parseNumberOption('--test-fraction', 0), 0.2)
    .option('--seed <n>', 'seed of splits and initialisation', parseIntOption('--seed'), 0)
    .option('--epochs <n>', 'MLP epochs', parseIntOption('--epochs', 1))
    .option('--batch-size <n>', 'MLP mini-batch', parseIntOption('--batch-size', 1))
    .option('--lr <x>', 'MLP initial learning rate', parseNumberOption('--lr', 0))
    .addOption(new Option('--optimizer <o>', 'MLP optimiser (sgd with a per-iteration cosine schedule, as the original)').choices(['sgd', 'adam'] as const))
    .addOption(new Option('--kernel <k>', 'SVM kernel: linear (the original LinearSVR) or rbf (libsvm)').choices(['linear', 'rbf'] as const).default('linear' as SvmKernel))
    .option('--out <dir>', 'bundle folder (default data/predictor/<data>-<modeling>-<mode>)')
    .option('--json', 'print one JSON object on stdout')
    .action(
      action(async (opts) => {
        const out = opts.out ?? join('data', 'predictor', `${basename(opts.data[0]!)}-${opts.modeling}${opts.modeling === 'svm' && opts.kernel === 'rbf' ? '-rbf' : ''}-${opts.mode}`);
        const bar = startProgress('train', 1);
        const result = await trainPredictor({
          dataDirs: opts.data,
          modeling: opts.modeling,
          mode: opts.mode,
          folds: opts.folds,
          testFraction: opts.testFraction,
          seed: opts.seed,
          ...(opts.epochs !== undefined ? { epochs: opts.epochs } : {}),
          ...(opts.batchSize !== undefined ? { batchSize: opts.batchSize } : {}),
          ...(opts.lr !== undefined ? { lr: opts.lr } : {}),
          ...(opts.optimizer !== undefined ? { optimizer: opts.optimizer as MlpOptimizer } : {}),
          kernel: opts.kernel,
          onProgress: (e) => {
            bar.setTotal(e.total);
            bar.update(e.done, { info: `${e.phase}${e.fold !== null ? ` fold ${e.fold + 1}/${e.folds}` : ''}${e.combination ? ` ${e.combination}` : ''}` });
          },
        });
        bar.stop();
        const dirs = saveTrainResult(result, out);
        const s = result.evaluation;
        const headline = s.test ?? s.crossValidation;
        if (opts.json) {
          printJson({
            modeling: s.modeling,
            kernel: s.kernel,
            mode: s.mode,
            mape: headline?.mapePct ?? null,
            mae: headline?.maeMs ?? null,
            test: s.test,
            crossValidation: s.crossValidation,
            folds: s.folds,
            perCombination: Object.entries(s.perCombination).map(([combination, c]) => ({ combination, rows: c.rows, test: c.test, crossValidation: c.crossValidation, mape: (c.test ?? c.crossValidation)?.mapePct ?? null })),
            bundles: dirs,
          });
        } else {
          console.log(describeTrainSummary(s));
          console.log('combination'.padEnd(34) + 'rows    test MAPE   CV MAPE');
          for (const [c, v] of Object.entries(s.perCombination)) {
            console.log(`${c.padEnd(34)}${String(v.rows).padEnd(8)}${(v.test ? `${v.test.mapePct.toFixed(2)} %` : '-').padEnd(12)}${v.crossValidation ? `${v.crossValidation.mapePct.toFixed(2)} %` : '-'}`);
          }
          console.log(`bundle(s): ${dirs.join(', ')}`);
        }
      }),
    );
}
