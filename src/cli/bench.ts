/** `abacus bench executor`. */
import { Command, Option } from '@commander-js/extra-typings';
import { availableParallelism } from 'node:os';
import { benchExecutor, parseExecutionProvider } from '../executor/index.js';
import { collectProvenance } from '../common/provenance.js';
import { writeJsonAtomic } from '../common/fsutil.js';
import { startProgress } from '../common/progress.js';
import { action, CUDA_OPTION_HELP, executionProviderFromFlags, parseIntOption, parseIntList, parseScale, printJson, resolveModels } from './shared.js';

export function benchCommand(): Command {
  const bench = new Command('bench').description('benchmarks');
  bench
    .command('executor')
    .description('segment cost (1, 4 and all-operator segments against one plain session) and solo vs co-located latency')
    .requiredOption('--models <models...>', 'zoo ids or names (or split models in --models-dir)')
    .option('--ep <ep>', 'execution provider: cpu, webgpu or cuda', 'cpu')
    .option('--cuda-option <key=value...>', CUDA_OPTION_HELP)
    .option('--batch <list>', 'batch size(s), comma-separated: measured one after another in the same services', parseIntList('--batch', 1), [4])
    .option('--seq <n>', 'sequence length for models that have one', parseIntOption('--seq', 1), 64)
    .option('--reps <n>', 'timed repetitions (interleaved)', parseIntOption('--reps', 1), 20)
    .option('--warmup <n>', 'untimed repetitions first', parseIntOption('--warmup', 0), 3)
    .option('--threads <n>', 'intra-op threads per session (CPU)', parseIntOption('--threads', 1), availableParallelism())
    .addOption(new Option('--plan <plan>', 'segment plan (default: tiered: the whole model, 4 FLOPs-balanced blocks and single operators)').choices(['exact', 'partition', 'tiered'] as const))
    .addOption(new Option('--segment-graph <graph>', "graph segments are cut from: auto (onnxruntime's optimised graph where it applies) or original").choices(['auto', 'original'] as const).default('auto' as const))
    .option('--segments <list>', 'segment counts to measure besides 1 and all-operator', parseIntList('--segments', 2), [4])
    .option('--no-pairs', 'skip the solo vs co-located pairs')
    .option('--models-dir <dir>', 'models folder', 'models')
    .addOption(new Option('--scale <scale>', 'scale of zoo models built on demand').default('full').argParser(parseScale))
    .option('--out <file>', 'also write the JSON result (with provenance) to this file')
    .option('--json', 'print one JSON object on stdout')
    .action(
      action(async (opts) => {
        const ep = executionProviderFromFlags(opts.ep, opts.cudaOption);
        const models = await resolveModels(opts.models, opts.modelsDir, opts.scale);
        const bar = startProgress('bench executor', models.length * opts.batch.length);
        const result = await benchExecutor({
          modelDirs: models.map((m) => m.dir),
          ep,
          batches: opts.batch,
          seq: opts.seq,
          reps: opts.reps,
          warmup: opts.warmup,
          intraOpThreads: opts.threads,
          plan: opts.plan,
          segmentGraph: opts.segmentGraph,
          segmentCounts: opts.segments,
          pairs: opts.pairs,
          onProgress: (done, total, what) => {
            bar.setTotal(total);
            bar.update(done, { info: what });
          },
        });
        bar.stop();
        const full = { ...result, provenance: collectProvenance({ executionProvider: ep }) };
        if (opts.out) writeJsonAtomic(opts.out, full);
        if (opts.json) printJson(full);
        else {
          for (const r of result.results) {
            console.log(`${r.model} batch ${r.batch}: one session ${r.wholeMs.toFixed(2)} ms; segments cut from the ${r.graph.source} graph${r.graph.reason ? ` (${r.graph.reason})` : ''}`);
            for (const s of r.segmented) console.log(`  ${String(s.segments).padStart(3)} segments: ${s.ms.toFixed(2)} ms  ratio ${s.ratio.toFixed(3)}  per boundary ${s.perBoundaryUs === null ? '-' : `${s.perBoundaryUs.toFixed(0)} µs`}  (wall ${s.wallMs.toFixed(2)} ms)`);
          }
          for (const p of result.pairs) console.log(`${p.models.join(' + ')} batch ${p.batch}: solo ${p.soloMs.map((v) => v.toFixed(2)).join(' / ')} ms, co-located ${p.colocatedMs.map((v) => v.toFixed(2)).join(' / ')} ms, group ${p.groupMs.toFixed(2)} ms (${p.groupOverSumOfSolo.toFixed(2)} of the sum of solo; start skew p50 ${p.startSkewUs.p50.toFixed(0)} µs, p99 ${p.startSkewUs.p99.toFixed(0)} µs)`);
        }
      }),
    );
  return bench;
}
