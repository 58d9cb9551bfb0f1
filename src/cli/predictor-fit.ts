/**
 * Before a run uses a predictor: is the run inside what the predictor was trained on? Models of another
 * size than the profiled ones, batch sizes or sequence lengths far outside the trained ones are refused
 * (unless `--allow-extrapolation`), smaller gaps warned about loudly on stderr.
 */
import { InputError } from '../common/errors.js';
import { checkServingRanges, rangesFromDataSets, type Predictor, type RangeFinding, type ServedModel } from '../predictor/index.js';
import { hasSeqInput, operatorWork } from '../zoo/manifest.js';
import type { ResolvedModel } from './shared.js';

export interface ServedShapes {
  /** Batch sizes and sequence lengths the run serves, per model name. */
  batchSizes: (model: string) => readonly number[];
  seqLens: (model: string) => readonly number[];
}

/** The gaps between a run and the predictor's training ranges (none printed). */
export function predictorFindings(predictor: Predictor, models: readonly ResolvedModel[], shapes: ServedShapes): RangeFinding[] {
  return checkServingRanges(predictor.spec, predictor.ranges ?? rangesFromDataSets(predictor.spec, predictor.training), servedModels(models, shapes));
}

function servedModels(models: readonly ResolvedModel[], shapes: ServedShapes): ServedModel[] {
  return models.map((m) => {
    const work = operatorWork(m.manifest);
    return {
      modelId: m.manifest.id,
      name: m.manifest.name,
      batchSizes: shapes.batchSizes(m.manifest.name),
      seqLens: hasSeqInput(m.manifest) ? shapes.seqLens(m.manifest.name) : [],
      operatorGflops: work.operatorGflops,
      referenceSeq: work.referenceSeq,
    };
  });
}

/** Warn on stderr about every gap; throw an InputError for large gaps unless `allow`. Returns the warnings printed. */
export function checkPredictorFit(dir: string, predictor: Predictor, models: readonly ResolvedModel[], shapes: ServedShapes, allow: boolean, remedy: string): string[] {
  const served = servedModels(models, shapes);
  const ranges = predictor.ranges ?? rangesFromDataSets(predictor.spec, predictor.training);
  const findings = checkServingRanges(predictor.spec, ranges, served);
  const printed: string[] = [];
  const say = (line: string): void => {
    printed.push(line);
    process.stderr.write(`abacus: WARNING: ${line}\n`);
  };
  if (!ranges) say(`predictor ${dir} records no training ranges (a bundle from before version 3) and its data sets are not where it was trained: whether this run is inside them is not checked`);
  const refused = findings.filter((f) => f.severity === 'refuse');
  if (refused.length > 0 && !allow) {
    throw new InputError(`predictor ${dir} would be used far outside its training data: ${refused.map((f) => f.message).join('; ')}. Its latencies there can be off by orders of magnitude; ${remedy}, or pass --allow-extrapolation to run anyway`);
  }
  for (const f of findings) say(`predictor ${dir} is used outside its training data: ${f.message}${f.severity === 'refuse' ? ' (--allow-extrapolation)' : ''}`);
  return printed;
}
