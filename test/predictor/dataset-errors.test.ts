import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../src/common/errors.js';
import { loadDataset } from '../../src/predictor/dataset.js';
import { HEADER_2, removeDir, tempDir } from './fixtures.js';

const root = tempDir();
after(() => removeDir(root));

const PROFILE = {
  format: 'abacus.profile',
  version: 1,
  models: [
    { id: 0, name: 'resnet50', operatorCount: 18, operatorGflops: Array(18).fill(0.2), referenceSeq: 0 },
    { id: 6, name: 'bert', operatorCount: 12, operatorGflops: Array(12).fill(0.9), referenceSeq: 64 },
  ],
};
const GOOD = '0,0,0,18,4,0,6,0,12,8,16,1000,1001,5,990,1010,991,1009,3,100';

let n = 0;
/** A data folder with one CSV `text`; returns the CSV's path. */
function folder(text: string, profile: unknown = PROFILE): { dir: string; csv: string } {
  const dir = join(root, `case${n++}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'profile.json'), typeof profile === 'string' ? profile : JSON.stringify(profile));
  const csv = join(dir, 'resnet50_bert.csv');
  writeFileSync(csv, text);
  return { dir, csv };
}

/** Loading fails with an InputError whose message names `where` and matches `pattern`. */
function rejects(text: string, where: (csv: string) => string, pattern: RegExp, profile?: unknown): void {
  const { dir, csv } = folder(text, profile);
  assert.throws(
    () => loadDataset([dir]),
    (e: unknown) => {
      assert.ok(e instanceof InputError, `expected an InputError, got ${String(e)}`);
      assert.ok(e.message.startsWith(`${where(csv)}:`) || e.message.startsWith(`${where(csv)} `), `"${e.message}" should start with ${where(csv)}`);
      assert.match(e.message, pattern);
      return true;
    },
  );
}

/** A CSV of the header and `rows`, their index column renumbered 0, 1, 2, … */
const lines = (...rows: string[]): string => `${[HEADER_2, ...rows.map((r, i) => r.replace(/^[^,]*/, String(i)))].join('\n')}\n`;

test('a good file loads (the cases below differ from it in one place)', () => {
  assert.equal(loadDataset([folder(lines(GOOD, GOOD)).dir]).rows, 2);
});

test('empty and header-only files', () => {
  rejects('', (f) => f, /empty file/);
  rejects('\n\n', (f) => f, /empty file/);
  rejects(`${HEADER_2}\n`, (f) => f, /no data rows/);
});

test('a truncated row names its line', () => {
  rejects(lines(GOOD, GOOD, '2,0,0,18,4,0,6,0,12'), (f) => `${f}:4`, /malformed CSV .*truncated/);
  rejects(`${HEADER_2}\n${GOOD}\n2,0,0,1`, (f) => `${f}:3`, /malformed CSV/);
});

test('unknown, missing and repeated columns name the header line', () => {
  rejects(`${HEADER_2},extra\n${GOOD},1\n`, (f) => `${f}:1`, /unknown column "extra"/);
  rejects(`${HEADER_2.replace(',p95_us', '')}\n${GOOD.replace(',1009,', ',')}\n`, (f) => `${f}:1`, /missing column "p95_us"/);
  rejects(`${HEADER_2.replace('seq_1', 'seq_0')}\n${GOOD}\n`, (f) => `${f}:1`, /column "seq_0" appears twice/);
  rejects(`${HEADER_2.replace('batch_1', 'batch_2')}\n${GOOD}\n`, (f) => `${f}:1`, /missing column "batch_1"/);
});

test('NaN, empty and negative latencies name the line and column', () => {
  rejects(lines(GOOD, GOOD.replace('1000,1001', 'NaN,1001')), (f) => `${f}:3`, /median_us = "NaN" is not a finite number/);
  rejects(lines(GOOD.replace('1000,1001', ',1001')), (f) => `${f}:2`, /median_us = "" is not a finite number/);
  rejects(lines(GOOD.replace(',5,990,', ',-5,990,')), (f) => `${f}:2`, /std_us = -5 must be >= 0/);
  rejects(lines(GOOD.replace('1000,1001', '0,1001')), (f) => `${f}:2`, /median_us = 0 must be > 0/);
  rejects(lines(GOOD.replace(/,100$/, ',0')), (f) => `${f}:2`, /reps = "0" must be an integer >= 1/);
});

test('non-integer or inverted segments, bad absent members and unknown models name the line', () => {
  rejects(lines(GOOD, GOOD, GOOD.replace('0,0,0,18', '2,0,1.5,18')), (f) => `${f}:4`, /start_0 = "1.5" must be an integer/);
  rejects(lines(GOOD.replace('6,0,12,8', '6,7,3,8')), (f) => `${f}:2`, /start_1 = 7 is after end_1 = 3/);
  rejects(lines(GOOD.replace('6,0,12,8', '6,0,13,8')), (f) => `${f}:2`, /end_1 = 13 exceeds the 12 operators of bert/);
  rejects(lines(GOOD.replace('6,0,12,8,16', '6,0,12,0,16')), (f) => `${f}:2`, /absent member 1 .* must have start = end = seq = 0/);
  rejects(lines(GOOD.replace('0,0,0,18,4,0,6,0,12,8,16', '0,0,0,0,0,0,6,0,0,0,0')), (f) => `${f}:2`, /no member is present/);
  rejects(lines(GOOD.replace('0,0,0,18', '0,3,0,18')), (f) => `${f}:2`, /model_0 = "3" is not a model of this data set/);
  rejects(`${HEADER_2}\n${GOOD}\n${GOOD}\n`, (f) => `${f}:3`, /index 0 repeats line 2/);
});

test('profile.json of another format or version, or broken, names profile.json', () => {
  const meta = (csv: string): string => join(csv, '..', 'profile.json');
  rejects(lines(GOOD), meta, /format is "abacus.other"/, { ...PROFILE, format: 'abacus.other' });
  rejects(lines(GOOD), meta, /version 3 is not supported \(this abacus reads version 1 and 2\)/, { ...PROFILE, version: 3 });
  rejects(lines(GOOD), meta, /not valid JSON/, '{"format": "abacus.profile", ');
  rejects(lines(GOOD), meta, /models\[1\] needs an integer "id"/, { ...PROFILE, models: [PROFILE.models[0], { name: 'x' }] });
  const dir = join(root, 'no-profile');
  mkdirSync(dir);
  assert.throws(() => loadDataset([dir]), /no profile.json/);
  assert.throws(() => loadDataset([join(root, 'missing')]), /data folder not found/);
});
