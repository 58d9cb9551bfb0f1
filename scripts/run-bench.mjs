// `npm run bench`: the microbenchmarks that need no model files (the MLP predictor's forward pass and the
// abacus controller's decision time), each run --runs times (default 3) in a fresh process, written as JSON
// with provenance into --out (default data/bench/cpu/). A target is judged on the median over the runs of
// its measured value (a p99); pass/fail per target goes into the JSON and to stderr. The exit code is 0
// unless a benchmark crashed: a missed target is a result, not an error.
//
// Usage: npm run bench -- [--out DIR] [--runs N] [--only predictor|controller] [--executor] [--quick]
//   --executor  also run `abacus bench executor` on tiny models (resnet50 and bert, built on demand into
//               models-tiny/; needs `npm run build` first)
//   --quick     fewer iterations and queries (a smoke run; its numbers are not for comparison)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';

function flag(name) {
  return process.argv.includes(`--${name}`);
}
function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = process.argv[i + 1];
  if (value === undefined || value.startsWith('--')) {
    console.error(`run-bench: --${name} needs a value`);
    process.exit(2);
  }
  return value;
}

const outDir = option('out', 'data/bench/cpu');
const runs = Number(option('runs', '3'));
const only = option('only', null);
const quick = flag('quick');
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`run-bench: --runs must be a positive integer, got ${option('runs', '')}`);
  process.exit(2);
}
if (only !== null && only !== 'predictor' && only !== 'controller') {
  console.error(`run-bench: --only must be predictor or controller, got ${only}`);
  process.exit(2);
}

const BENCHES = [
  { name: 'predictor', file: 'predictor-mlp.json', script: 'scripts/bench/predictor.ts', args: quick ? ['--iterations', '20000', '--warmup', '5000'] : [] },
  { name: 'controller', file: 'controller-decision.json', script: 'scripts/bench/controller.ts', args: quick ? ['--queries', '600'] : [] },
].filter((b) => only === null || b.name === only);

const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? null : n % 2 === 1 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const round3 = (v) => (v === null ? null : Math.round(v * 1000) / 1000);

function writeJson(file, value) {
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, file);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
  return path;
}

/** Run one benchmark process; returns its parsed JSON, or an error message. */
function runOnce(command, args) {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) return { error: r.error.message };
  if (r.status !== 0) return { error: `exit ${r.status ?? r.signal}: ${(r.stderr ?? '').trim().split('\n').slice(-5).join(' | ')}` };
  try {
    return { result: JSON.parse(r.stdout) };
  } catch (err) {
    return { error: `output is not JSON (${err.message})` };
  }
}

/** Medians over runs of every point's p50/p99, keyed the way each benchmark lays its results out. */
function pointMedians(name, results) {
  if (name === 'predictor') {
    return results[0].results.map((path, p) => ({
      path: path.path,
      byRows: path.byRows.map((point, i) => ({
        rows: point.rows,
        p50Us: round3(median(results.map((r) => r.results[p].byRows[i].p50Us))),
        p99Us: round3(median(results.map((r) => r.results[p].byRows[i].p99Us))),
        p99UsPerRun: results.map((r) => r.results[p].byRows[i].p99Us),
      })),
    }));
  }
  return results[0].scenarios.map((scenario, s) => ({
    scenario: scenario.name,
    byWays: scenario.results.map((point, i) => ({
      ways: point.ways,
      decisionP50Us: round3(median(results.map((r) => r.scenarios[s].results[i].decisionP50Us))),
      decisionP99Us: round3(median(results.map((r) => r.scenarios[s].results[i].decisionP99Us))),
      decisionP99UsPerRun: results.map((r) => r.scenarios[s].results[i].decisionP99Us),
    })),
  }));
}

const command = ['npm run bench --', ...process.argv.slice(2)].join(' ');
let crashed = false;
const tsx = ['--import', 'tsx'];

for (const bench of BENCHES) {
  const results = [];
  for (let run = 1; run <= runs; run++) {
    console.error(`bench ${bench.name}: run ${run}/${runs} (load average ${loadavg()[0].toFixed(2)})`);
    const r = runOnce(process.execPath, [...tsx, bench.script, ...bench.args]);
    if (r.error) {
      console.error(`bench ${bench.name}: CRASHED: ${r.error}`);
      crashed = true;
      break;
    }
    results.push(r.result);
  }
  if (results.length < runs) continue;
  const targets = results[0].targets.map((t, i) => {
    const valuesUs = results.map((r) => r.targets[i].valueUs);
    const medianUs = round3(median(valuesUs));
    return { name: t.name, thresholdUs: t.thresholdUs, valuesUs, medianUs, pass: medianUs <= t.thresholdUs };
  });
  const provenance = { ...results[0].provenance, command };
  const path = writeJson(bench.file, {
    benchmark: results[0].benchmark,
    description: results[0].description,
    runs,
    quick,
    judged: 'each target on the median over the runs of its value',
    targets,
    pass: targets.every((t) => t.pass),
    medians: pointMedians(bench.name, results),
    loadAverage1m: results.map((r) => r.loadAverage1m),
    runResults: results.map(({ provenance: _p, ...rest }) => rest),
    provenance,
  });
  for (const t of targets) {
    console.error(`  ${t.pass ? 'PASS' : 'FAIL'}  ${t.name}: ${t.medianUs} µs (median of ${t.valuesUs.join(', ')}; target <= ${t.thresholdUs} µs)`);
  }
  console.error(`bench ${bench.name}: wrote ${path}`);
}

if (flag('executor')) {
  if (!existsSync('dist/cli.js')) {
    console.error('bench executor: CRASHED: dist/cli.js is missing (run npm run build first)');
    crashed = true;
  } else {
    const args = ['dist/cli.js', 'bench', 'executor', '--models', 'resnet50', 'bert', '--ep', 'cpu', '--batch', '4', '--seq', '16', '--scale', 'tiny', '--models-dir', 'models-tiny', '--reps', quick ? '5' : '15', '--warmup', '2', '--json'];
    console.error(`bench executor: node ${args.join(' ')}`);
    const r = runOnce(process.execPath, args);
    if (r.error) {
      console.error(`bench executor: CRASHED: ${r.error}`);
      crashed = true;
    } else {
      const provenance = { ...r.result.provenance, command: `${command} (node ${args.join(' ')})` };
      const path = writeJson('executor-tiny.json', { ...r.result, targets: [], provenance });
      console.error(`bench executor: no targets; wrote ${path}`);
    }
  }
}

process.exit(crashed ? 1 : 0);
