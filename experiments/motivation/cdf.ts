/**
 * The motivation experiment (paper §2, "unpredictable latency"): one foreground model runs query after
 * query, first alone, then while a background model runs its own queries back to back on the same device,
 * with nothing coordinating the two (what a plain multi-model server does, the `concurrent` policy's
 * overlap). Each foreground latency is its group's start signal to barrier, one whole query.
 *
 *   node --import tsx experiments/motivation/cdf.ts --models-dir <dir> --out <file> [options]
 *
 * Writes an `abacus.motivation` v1 JSON file (src/report/experiments.ts) with every latency and provenance.
 */
import { join } from 'node:path';
import { Command, InvalidArgumentError } from '@commander-js/extra-typings';
import { errorMessage, exitCodeOf, InputError } from '../../src/common/errors.js';
import { writeJsonAtomic } from '../../src/common/fsutil.js';
import { collectProvenance } from '../../src/common/provenance.js';
import { Rng } from '../../src/common/rng.js';
import { Executor, parseExecutionProvider } from '../../src/executor/index.js';
import { MOTIVATION_FORMAT, type MotivationFile, type MotivationSeries } from '../../src/report/experiments.js';
import { readManifest } from '../../src/zoo/manifest.js';

const ints = (name: string) => (v: string): number[] => {
  const list = v.split(/[\s,]+/).filter(Boolean).map(Number);
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n <= 0)) throw new InvalidArgumentError(`${name} must be positive integers (got '${v}')`);
  return list;
};
const int = (name: string, min: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min} (got '${v}')`);
  return n;
};

const program = new Command('cdf')
  .description('latency of a foreground model alone and beside each background model running continuously')
  .requiredOption('--models-dir <dir>', 'folder with the built models')
  .requiredOption('--out <file>', 'the JSON file to write')
  .option('--foreground <model>', 'foreground model', 'resnet152')
  .option('--backgrounds <list>', 'background models, comma-separated', 'resnet50,resnet101,resnet152,inception_v3,vgg16,vgg19,bert')
  .option('--batch <n>', 'foreground batch size', int('--batch', 1), 16)
  .option('--seq <n>', 'foreground sequence length (models that have one)', int('--seq', 1), 64)
  .option('--bg-batches <list>', 'background batch sizes, one drawn per query', ints('--bg-batches'), [4, 32])
  .option('--bg-seqs <list>', 'background sequence lengths, one drawn per query', ints('--bg-seqs'), [8, 64])
  .option('--queries <n>', 'foreground queries per series', int('--queries', 1), 1000)
  .option('--warmup <n>', 'untimed foreground queries before each series', int('--warmup', 0), 10)
  .option('--ep <ep>', 'execution provider', 'cpu')
  .option('--threads <n>', 'intra-op threads per service (CPU)', int('--threads', 1), 1)
  .option('--seed <n>', 'seed of the background draws', int('--seed', 0), 0)
  .action(async (opts) => {
    try {
      const ep = parseExecutionProvider(opts.ep);
      const fg = readManifest(join(opts.modelsDir, opts.foreground));
      const fgSeq = fg.inputs.some((i) => i.shape.includes('seq')) ? opts.seq : 0;
      const backgrounds = opts.backgrounds.split(',').filter(Boolean);
      if (backgrounds.length === 0) throw new InputError('--backgrounds is empty');
      const ex = new Executor();
      const rng = new Rng(opts.seed);
      const series: MotivationSeries[] = [];
      try {
        await ex.addService({ name: fg.name, modelDir: join(opts.modelsDir, fg.name), ep, intraOpThreads: opts.threads, seed: opts.seed });
        await ex.prepare(fg.name, opts.batch, fgSeq, [], true);
        let q = 0;
        const foreground = async (): Promise<number[]> => {
          const out: number[] = [];
          for (let i = -opts.warmup; i < opts.queries; i++) {
            const r = await ex.runGroup([{ service: fg.name, queryId: `fg-${q++}`, start: 0, end: fg.operators.length, batch: opts.batch, seq: fgSeq }]);
            if (i >= 0) out.push(r.groupMs);
          }
          return out;
        };
        process.stderr.write(`alone: ${fg.name} batch ${opts.batch}\n`);
        series.push({ background: null, latenciesMs: await foreground(), backgroundQueries: 0 });
        for (const bgName of backgrounds) {
          const bg = readManifest(join(opts.modelsDir, bgName));
          const service = `${bg.name}@background`;
          const hasSeq = bg.inputs.some((i) => i.shape.includes('seq'));
          await ex.addService({ name: service, modelDir: join(opts.modelsDir, bg.name), ep, intraOpThreads: opts.threads, seed: opts.seed });
          for (const b of opts.bgBatches) for (const s of hasSeq ? opts.bgSeqs : [0]) await ex.prepare(service, b, s, [], true);
          const draw = rng.fork();
          let stop = false;
          let done = 0;
          const loop = (async () => {
            while (!stop) {
              const batch = draw.pick(opts.bgBatches);
              const seq = hasSeq ? draw.pick(opts.bgSeqs) : 0;
              await ex.runGroup([{ service, queryId: `bg-${q++}`, start: 0, end: bg.operators.length, batch, seq }]);
              done += 1;
            }
          })();
          process.stderr.write(`beside ${bg.name}\n`);
          let latencies: number[];
          try {
            latencies = await foreground();
          } finally {
            stop = true;
            await loop;
          }
          series.push({ background: bg.name, latenciesMs: latencies, backgroundQueries: done });
        }
      } finally {
        await ex.shutdown();
      }
      const file: MotivationFile = {
        format: MOTIVATION_FORMAT,
        version: 1,
        foreground: fg.name,
        batch: opts.batch,
        seq: fgSeq,
        backgroundBatches: opts.bgBatches,
        backgroundSeqs: opts.bgSeqs,
        seed: opts.seed,
        series,
        provenance: collectProvenance({ executionProvider: ep, seed: opts.seed, command: ['cdf.ts', ...process.argv.slice(2)].join(' ') }),
      };
      writeJsonAtomic(opts.out, file);
      for (const s of series) {
        const sorted = [...s.latenciesMs].sort((a, b) => a - b);
        process.stdout.write(`${(s.background ?? 'alone').padEnd(14)} p50 ${sorted[Math.floor(sorted.length / 2)]?.toFixed(2)} ms  max ${sorted[sorted.length - 1]?.toFixed(2)} ms  (${s.backgroundQueries} background queries)\n`);
      }
    } catch (err) {
      process.stderr.write(`cdf: ${errorMessage(err)}\n`);
      process.exitCode = exitCodeOf(err);
    }
  });

await program.parseAsync(process.argv);
