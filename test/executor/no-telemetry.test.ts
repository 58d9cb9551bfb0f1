import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tiny-model.js';

/** Every file under a folder (relative paths). */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
}

test("onnxruntime's telemetry is off: a CLI run that creates sessions leaves nothing under ~/.cache and no /tmp/mat-debug-<pid>.log", () => {
  const home = tempDir('abacus-home-');
  const models = tempDir('abacus-telemetry-models-');
  // building a tiny model runs onnxruntime sessions (type discovery, verification)
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
  delete env.ORT_DISABLE_TELEMETRY;
  // mat-debug logs of earlier processes may be there already, one of them under the pid the child gets: what
  // counts is that no such log is written (new or changed) while the child runs
  const matDebug = (): Map<string, number> =>
    new Map(readdirSync('/tmp').filter((n) => /^mat-debug-\d+\.log$/.test(n)).map((n) => [n, statSync(join('/tmp', n)).mtimeMs]));
  const before = matDebug();
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, 'zoo', 'build', 'resnet50', '--scale', 'tiny', '--models-dir', models], { cwd: ROOT, env, encoding: 'utf8', timeout: 240_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(join(models, 'resnet50', 'manifest.json')));
  assert.deepEqual(filesUnder(join(home, '.cache')), [], 'nothing written under ~/.cache');
  const written = [...matDebug()].filter(([n, mtimeMs]) => before.get(n) !== mtimeMs).map(([n]) => n);
  assert.deepEqual(written, [], 'no /tmp/mat-debug-<pid>.log written');
});
