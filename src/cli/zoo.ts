/** `abacus zoo build|list`. */
import { Command, Option } from '@commander-js/extra-typings';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ZOO, ZOO_NAMES, zooEntry } from '../zoo/catalog.js';
import { buildZooModel, type ZooBuildResult } from '../zoo/build.js';
import { readManifest } from '../zoo/manifest.js';
import { InputError } from '../common/errors.js';
import { startProgress } from '../common/progress.js';
import { action, parseIntOption, parseScale, printJson } from './shared.js';

export function zooCommand(): Command {
  const zoo = new Command('zoo').description("the paper's seven models as ONNX graphs cut into operators");
  zoo
    .command('build')
    .description('build zoo models into <models-dir>/<name>/ (model.onnx, model.onnx.data, manifest.json)')
    .argument('<models...>', `zoo ids or names (${ZOO_NAMES.join(', ')}), or 'all'`)
    .option('--out <dir>', 'models folder', 'models')
    .addOption(new Option('--models-dir <dir>', 'same as --out').hideHelp())
    .addOption(new Option('--scale <scale>', "'full' (the paper's models) or 'tiny' (narrow, for tests and demos)").default('full').argParser(parseScale))
    .addOption(new Option('--dtype <dtype>', 'weight and activation type').choices(['fp32', 'fp16'] as const).default('fp32' as const))
    .option('--seed <n>', 'seed of the random weights', parseIntOption('--seed'), 0)
    .option('--verify', 'run the whole model and the chain of its operators on the CPU and compare')
    .option('--json', 'print one JSON object on stdout')
    .action(
      action(async (models, opts) => {
        const names = models.includes('all') ? [...ZOO_NAMES] : models.flatMap((m) => m.split(/[\s,]+/)).filter(Boolean).map((m) => zooEntry(m).name);
        if (names.length === 0) throw new InputError('no model to build');
        const outDir = opts.modelsDir ?? opts.out;
        const bar = startProgress('zoo build', names.length);
        const results: ZooBuildResult[] = [];
        for (const name of names) {
          const r = await buildZooModel(name, { modelsDir: outDir, scale: opts.scale, dtype: opts.dtype, seed: opts.seed, verify: opts.verify === true });
          results.push(r);
          bar.increment(1, { info: name });
          if (!opts.json) process.stderr.write(`${describe(r)}\n`);
        }
        bar.stop();
        const rssPeakBytes = process.resourceUsage().maxRSS * 1024;
        const bad = results.filter((r) => (r.expectedParams !== null && r.params !== r.expectedParams) || (r.verify && (!r.verify.outputFinite || !r.verify.outputNonZero || r.verify.maxAbsDiff > 1e-4)));
        if (opts.json) printJson({ models: results, peakRssBytes: rssPeakBytes });
        else {
          console.log(table(results));
          console.log(`peak memory ${(rssPeakBytes / 2 ** 20).toFixed(0)} MiB`);
        }
        if (bad.length > 0) {
          process.stderr.write(`abacus: check failed for ${bad.map((b) => b.name).join(', ')} (parameter count or verification)\n`);
          process.exitCode = 1;
        }
      }),
    );
  zoo
    .command('list')
    .description('the zoo, and which models are built in the models folder')
    .option('--models-dir <dir>', 'models folder', 'models')
    .option('--json', 'print one JSON object on stdout')
    .action(
      action((opts) => {
        const built = existsSync(opts.modelsDir) ? readdirSync(opts.modelsDir).filter((n) => existsSync(join(opts.modelsDir, n, 'manifest.json'))) : [];
        const rows = built.map((n) => readManifest(join(opts.modelsDir, n))).map((m) => ({ id: m.id, name: m.name, source: m.source, scale: m.scale, operators: m.operators.length, params: m.params }));
        const zoo = ZOO.map((e) => ({ id: e.id, name: e.name, operators: e.operatorCount, params: e.params, built: rows.find((r) => r.name === e.name)?.scale ?? null }));
        if (opts.json) printJson({ zoo, models: rows });
        else {
          console.log('id  name          operators  params        built');
          for (const z of zoo) console.log(`${String(z.id).padEnd(4)}${z.name.padEnd(14)}${String(z.operators).padEnd(11)}${z.params.toLocaleString('en-US').padEnd(14)}${z.built ?? '-'}`);
          for (const r of rows.filter((r) => r.source === 'split')) console.log(`${String(r.id).padEnd(4)}${r.name.padEnd(14)}${String(r.operators).padEnd(11)}${r.params.toLocaleString('en-US').padEnd(14)}split`);
        }
      }),
    );
  return zoo;
}

function describe(r: ZooBuildResult): string {
  const v = r.verify ? ` maxAbsDiff ${r.verify.maxAbsDiff.toExponential(2)} finite ${r.verify.outputFinite} nonzero ${r.verify.outputNonZero}` : '';
  return `built ${r.name}: ${r.operators} operators, ${r.params.toLocaleString('en-US')} params in ${(r.buildMs / 1000).toFixed(1)} s${v}`;
}

function table(results: ZooBuildResult[]): string {
  const lines = ['model         operators  params        expected      build_s  max_abs_diff'];
  for (const r of results) {
    lines.push(
      `${r.name.padEnd(14)}${String(r.operators).padEnd(11)}${r.params.toLocaleString('en-US').padEnd(14)}${(r.expectedParams?.toLocaleString('en-US') ?? '-').padEnd(14)}${(r.buildMs / 1000).toFixed(1).padEnd(9)}${r.verify ? r.verify.maxAbsDiff.toExponential(2) : '-'}`,
    );
  }
  return lines.join('\n');
}
