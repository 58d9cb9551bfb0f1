// Runs every test/**/*.test.ts with Node's test runner through tsx (Node 20 does not expand globs itself).
// Usage: npm test [-- name-filter ...]   (a filter keeps the files whose path contains any of the words)
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'fixtures' || name === 'node_modules') return [];
    return statSync(path).isDirectory() ? walk(path) : path.endsWith('.test.ts') ? [path] : [];
  });
}
const filters = process.argv.slice(2);
const files = walk('test').filter((f) => filters.length === 0 || filters.some((w) => f.includes(w))).sort();
if (files.length === 0) {
  console.error('run-tests: no test file matched');
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '1';
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
