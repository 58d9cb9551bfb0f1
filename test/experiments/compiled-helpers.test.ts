// The experiment scripts' TypeScript helpers compiled by `npm run build` into dist/experiments/*.mjs (what
// runs where tsx is absent, as on the GPU machine) must work from there: their imports of src/ point at
// dist/, and the files they read beside themselves are still found.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tiny-model.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DIST = join(ROOT, 'dist', 'experiments');

function node(script: string, args: string[]): ReturnType<typeof spawnSync> {
  return spawnSync(process.execPath, [join(DIST, script), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
}

test('npm run build compiled the three helpers', () => {
  for (const name of ['exp.mjs', 'cdf.mjs', 'cluster.mjs']) assert.ok(existsSync(join(DIST, name)), `${name} missing: run npm run build`);
  const exp = readFileSync(join(DIST, 'exp.mjs'), 'utf8');
  assert.match(exp, /from "\.\.\/common\/errors\.js"/, 'src imports point at dist/');
});

test('the compiled cluster helper finds its load shape and writes a trace', () => {
  const out = tempDir();
  const r = node('cluster.mjs', ['trace', '--steps', '4', '--step-s', '1', '--capacity', '20', '--load-factor', '0.5',
    '--models', 'resnet50,bert', '--qos', '100', '--batch-sizes', '1', '--out', out]);
  assert.equal(r.status, 0, String(r.stderr));
  assert.match(String(r.stdout), /requests over 4 steps/);
  assert.ok(readFileSync(join(out, 'trace.csv'), 'utf8').split('\n').length > 2);
});

test('the compiled experiment helper writes run.json and rejects a bad call', () => {
  const out = tempDir();
  const ok = node('exp.mjs', ['init', '--dir', out, '--section', '7.2_qos', '--mode', 'quick', '--ep', 'cpu', '--seed', '0', '--command', 'test']);
  assert.equal(ok.status, 0, String(ok.stderr));
  const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { format: string; section: string };
  assert.equal(run.format, 'abacus.experiment');
  assert.equal(run.section, '7.2_qos');
  const bad = node('exp.mjs', ['finish', '--dir', join(out, 'missing')]);
  assert.notEqual(bad.status, 0);
});
