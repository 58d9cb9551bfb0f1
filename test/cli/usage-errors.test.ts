/** Bad flags and bad traces: one line on stderr with the `abacus:` prefix, naming the flag and the problem, exit code 2. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

function oneLineError(args: string[], ...words: string[]): void {
  const r = runCli(args, { timeoutMs: 60_000 });
  assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^abacus: /);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  for (const w of words) assert.ok(lines[0]!.includes(w), `'${w}' in: ${lines[0]}`);
}

test('an unknown policy is one line and exit 2, not a stack trace', () => {
  oneLineError(['serve', '--comb', '0', '1', '--policy', 'nope'], '--policy', "'nope'", 'fcfs');
});

test('--qos -5 says the target must be positive, naming the flag', () => {
  oneLineError(['serve', '--comb', '0', '1', '--qos', '-5'], '--qos', 'positive');
});

test('--peak-range with one number names the flag and what it takes', () => {
  oneLineError(['serve', '--comb', '0', '1', '--find-peak', '--peak-range', '5'], '--peak-range', 'lo,hi');
  oneLineError(['serve', '--comb', '0', '1', '--find-peak', '--peak-range', '9,3'], '--peak-range', 'lo < hi');
});

test("commander's own usage errors carry the same prefix as every other error", () => {
  oneLineError(['balance', '--listen', '127.0.0.1:0'], '--nodes');
  oneLineError(['serve', '--comb', '0', '--no-such-flag'], '--no-such-flag');
});

test('a --trace with a bad header and no rows is an error, not a clean run of nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'abacus-trace-'));
  const trace = join(dir, 'trace.csv');
  writeFileSync(trace, 'when,what\n');
  oneLineError(['serve', '--comb', 'resnet50', 'vgg16', '--scale', 'tiny', '--models-dir', join(dir, 'models'), '--policy', 'fcfs', '--trace', trace], trace, 'no queries', 'when,what');
});
