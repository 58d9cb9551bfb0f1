/**
 * `abacus quickstart`: the whole pipeline on a laptop in a few minutes. Tiny zoo models of a pair, their
 * solo latencies (for the QoS rule), a short CPU profile, an MLP predictor, every policy serving one
 * seeded trace, then a comparison table on stdout and a report with figures. Everything goes into one
 * fresh folder, laid out as an experiment results folder (section `quickstart`), so `abacus report`
 * reads it like any other run.
 */
import { Command } from '@commander-js/extra-typings';
import { existsSync, readdirSync, appendFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { InputError } from '../common/errors.js';
import { ensureDir, writeJsonAtomic } from '../common/fsutil.js';
import { collectProvenance } from '../common/provenance.js';
import { POLICY_NAMES, generateTrace, type ServiceSpec } from '../controller/index.js';
import { benchExecutor, type ExecutorBenchResult } from '../executor/index.js';
import { saveTrainResult, trainPredictor } from '../predictor/index.js';
import { runProfile } from '../profiler/index.js';
import { finishRun, sectionOf } from '../report/experiment-report.js';
import { DEFAULT_QOS_RULE, QOS_FORMAT, deriveTargets, describeQosRule, newRunInfo, soloFromBench, type QosFile, type QosRule } from '../report/experiments.js';
import { writeReport } from '../report/report.js';
import { findPredictor, predictorLatencyModel, serveRun } from '../serve/index.js';
import { DEFAULT_BATCH_SIZES, DEFAULT_SEQ_LENS } from '../zoo/catalog.js';
import { summaryTable } from './serve.js';
import { hasSeqInput } from '../zoo/manifest.js';
import { action, parseIntOption, parseNumberOption, printJson, resolveModels } from './shared.js';

export function quickstartCommand(): Command {
  return new Command('quickstart')
    .description('tiny zoo → short CPU profile of a pair → MLP predictor → every policy on one trace → comparison table and report (minutes on 2 cores)')
    .option('--out <dir>', 'a new or empty folder for everything the run makes', 'abacus-quickstart')
    .option('--comb <models...>', 'the pair of zoo models', ['resnet50', 'vgg16'])
    .option('--queries <n>', 'queries in the trace', parseIntOption('--queries', 1), 300)
    .option('--samples <n>', 'profiled groups per batch-size tuple', parseIntOption('--samples', 1), 12)
    .option('--reps <n>', 'timed runs per profiled group', parseIntOption('--reps', 1), 5)
    .option('--qos-factor <k>', 'QoS = k × the larger solo latency at the largest batch', parseNumberOption('--qos-factor', 0), DEFAULT_QOS_RULE.factor)
    .option('--rho <x>', 'load as a share of what one-query-at-a-time serving sustains', parseNumberOption('--rho', 0), DEFAULT_QOS_RULE.rhoQos)
    .option('--seed <n>', 'seed of the weights, profile, training and trace', parseIntOption('--seed'), 0)
    .option('--models-dir <dir>', 'where the tiny zoo models are built (or found, when already built tiny); default <out>/models')
    .option('--json', 'print one JSON object on stdout')
    .action(
      action(async (opts) => {
        const out = resolve(opts.out);
        if (existsSync(out) && readdirSync(out).length > 0) throw new InputError(`${out} is not empty: give quickstart a new or empty folder (--out)`);
        ensureDir(join(out, 'logs'));
        const started = performance.now();
        const stepsFile = join(out, 'logs', 'steps.tsv');
        const total = 7;
        let index = 0;
        const step = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
          index += 1;
          process.stderr.write(`quickstart [${index}/${total}] ${what}\n`);
          const t0 = performance.now();
          const result = await fn();
          const s = (performance.now() - t0) / 1000;
          appendFileSync(stepsFile, `${what}\t${s.toFixed(1)}\t0\n`);
          process.stderr.write(`quickstart [${index}/${total}] done in ${s.toFixed(1)} s\n`);
          return result;
        };
        if (opts.comb.length !== 2) throw new InputError(`--comb takes two models (got ${opts.comb.length})`);
        const ep = 'cpu';
        const modelsDir = opts.modelsDir ?? join(out, 'models');
        const command = ['abacus', ...process.argv.slice(2)].join(' ');
        const batchSizes = [...DEFAULT_BATCH_SIZES];
        const threads = Math.max(1, Math.floor(availableParallelism() / 2));
        const info = newRunInfo({
          dir: out,
          section: 'quickstart',
          mode: 'quick',
          ep,
          command,
          seed: opts.seed,
          settings: { combinations: opts.comb.join(','), queries: opts.queries, samples: opts.samples, reps: opts.reps, batch_sizes: batchSizes.join(','), qos_factor: opts.qosFactor, rho_qos: opts.rho, scale: 'tiny', threads, policies: POLICY_NAMES.join(','), abandon: true, ways: 2, thld_ms: 5, barrier: 'member' },
        });
        writeJsonAtomic(join(out, 'run.json'), info);

        const models = await step('building the tiny zoo models', () => resolveModels(opts.comb, modelsDir, 'tiny'));
        const names = models.map((m) => m.manifest.name);

        const benches = await step(`measuring solo latencies at batch ${batchSizes.join(', ')}`, async () => {
          const results: ExecutorBenchResult[] = [];
          const longest = Math.max(...DEFAULT_SEQ_LENS);
          const withSeq = models.filter((m) => hasSeqInput(m.manifest));
          const bench = async (dirs: string[], batch: number, seq: number, file: string): Promise<void> => {
            const r = await benchExecutor({ modelDirs: dirs, ep, batches: [batch], seq, reps: 10, warmup: 2, intraOpThreads: threads, segmentCounts: [2], pairs: false });
            writeJsonAtomic(join(out, 'raw', 'solo', file), { ...r, provenance: collectProvenance({ executionProvider: ep, command }) });
            results.push(r);
          };
          for (const batch of batchSizes) {
            await bench(models.map((m) => m.dir), batch, longest, `b${batch}.json`);
            for (const seq of DEFAULT_SEQ_LENS.filter((s) => s !== longest)) {
              if (withSeq.length) await bench(withSeq.map((m) => m.dir), batch, seq, `b${batch}-s${seq}.json`);
            }
          }
          return results;
        });

        const rule: QosRule = { ...DEFAULT_QOS_RULE, factor: opts.qosFactor, rhoQos: opts.rho, batchSizes };
        const { solo, mean, seq, seqs } = soloFromBench(benches);
        const [targets] = deriveTargets(solo, [names], rule, mean);
        if (!targets) throw new Error('no targets derived');
        const qosFile: QosFile = {
          format: QOS_FORMAT,
          version: 1,
          rule: { ...rule, text: describeQosRule(rule) },
          soloSeq: seq,
          soloSeqs: seqs,
          soloMean: mean,
          solo,
          combinations: { [targets.combination]: targets },
          sources: batchSizes.map((b) => join(out, 'raw', 'solo', `b${b}.json`)),
          provenance: collectProvenance({ command }),
        };
        writeJsonAtomic(join(out, 'qos.json'), qosFile);
        process.stderr.write(`quickstart: QoS ${targets.qosMs} ms (${rule.factor} × ${targets.maxSoloMs.toFixed(2)} ms), load ${targets.loadQosQps} queries/s (${rule.rhoQos} × ${targets.capacityQps.toFixed(1)})\n`);

        const profileDir = join(out, 'raw', 'profile', targets.combination);
        await step(`profiling ${names.join(' + ')} on the CPU`, () =>
          runProfile({
            out: profileDir,
            models,
            combinations: [targets.models],
            modelNum: 2,
            batchSizes,
            seqLens: [...DEFAULT_SEQ_LENS],
            samples: opts.samples,
            reps: opts.reps,
            warmup: 1,
            absentRatio: 0.25,
            seed: opts.seed,
            ep,
            scale: 'tiny',
            intraOpThreads: threads,
          }),
        );

        const predictorDir = join(out, 'raw', 'predictor', targets.combination);
        const trained = await step('training the MLP latency predictor', async () => {
          const result = await trainPredictor({ dataDirs: [profileDir], modeling: 'mlp', mode: 'all', seed: opts.seed, command });
          saveTrainResult(result, predictorDir);
          return result.evaluation;
        });
        process.stderr.write(`quickstart: predictor MAPE ${trained.test ? `${trained.test.mapePct.toFixed(1)} % on held-out groups` : 'n/a'}\n`);

        const services: ServiceSpec[] = models.map((m) => ({ name: m.manifest.name, modelId: m.manifest.id, hasSeq: hasSeqInput(m.manifest) }));
        const trace = generateTrace({ services, loadQps: targets.loadQosQps, queries: opts.queries, seed: opts.seed, qos: targets.qosMs, batchSizes, seqLens: [...DEFAULT_SEQ_LENS] });
        const found = await findPredictor(join(out, 'raw', 'predictor'), services.map((s) => s.modelId), names, predictorDir);
        const served = await step(`serving ${opts.queries} queries with ${POLICY_NAMES.join(', ')}`, () =>
          serveRun({
            models,
            policies: [...POLICY_NAMES],
            trace,
            latencyModel: predictorLatencyModel(found.predictor),
            ways: 2,
            thldMs: 5,
            abandon: true,
            barrier: 'member',
            ep,
            intraOpThreads: threads,
            seed: opts.seed,
            out: join(out, 'raw', 'serve', 'qos', targets.combination),
            simulate: false,
            onPolicy: (p, s) => process.stderr.write(`  ${p}: ${s.completed}/${s.issued} completed, violations ${(s.violationRatio * 100).toFixed(1)} %\n`),
          }),
        );

        const finished = await step('summary and figures', () => finishRun(out));
        const report = await step('report', async () =>
          writeReport({ title: `abacus quickstart: ${names.join(' + ')}`, sections: [sectionOf(finished.summary, finished.figures)], provenance: collectProvenance({ command }) }, join(out, 'report')),
        );
        const seconds = (performance.now() - started) / 1000;
        if (opts.json) {
          printJson({ out, seconds, qosMs: targets.qosMs, loadQps: targets.loadQosQps, summaries: served.summaries, report });
        } else {
          console.log(`${names.join(' + ')} (tiny, CPU): QoS ${targets.qosMs} ms, ${targets.loadQosQps} queries/s, ${opts.queries} queries per policy on the same trace`);
          console.log(summaryTable(served.summaries));
          console.log(`report: ${report.htmlPath}`);
          console.log(`        ${report.mdPath}`);
          console.log(`figures and summary: ${join(out, 'figures')}, ${join(out, 'summary.csv')}`);
        }
        process.stderr.write(`quickstart: finished in ${seconds.toFixed(0)} s\n`);
      }),
    );
}
