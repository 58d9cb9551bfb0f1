import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

// The build typechecks src/ only; benchmarks, experiment helpers and tests run through tsx, which strips
// types without checking them. This keeps them compiling against the library as it changes.
test('scripts, experiment helpers and tests typecheck against the library (tsconfig.scripts.json)', () => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.scripts.json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `tsc found errors:\n${r.stdout}${r.stderr}`);
});
