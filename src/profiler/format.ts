/**
 * The profile data set on disk (format `abacus.profile` v2, v1 still written when resuming a v1 profile;
 * docs/ARCHITECTURE.md): `profile.json` and one
 * CSV per combination. Rows are appended and flushed one group at a time; on resume a torn or corrupt
 * last line is cut off and redone, while a bad line elsewhere is an error (it is not ours to guess).
 */
import { closeSync, existsSync, ftruncateSync, openSync, readFileSync } from 'node:fs';
import { InputError } from '../common/errors.js';
import type { ProfileGroup } from './sampling.js';

export const PROFILE_FORMAT = 'abacus.profile';
export const PROFILE_VERSION = 2;
/** Versions this code reads and resumes (v1: without `median_ci_us`). */
export const PROFILE_VERSIONS: readonly number[] = [1, 2];

export const STAT_COLUMNS_V1 = ['median_us', 'mean_us', 'std_us', 'min_us', 'max_us', 'p5_us', 'p95_us', 'skew_us', 'reps'] as const;
/** v2 adds the half-width of the median's 95 % confidence interval (distribution-free), µs. */
export const STAT_COLUMNS = [...STAT_COLUMNS_V1, 'median_ci_us'] as const;

export function statColumns(version: number): readonly string[] {
  return version === 1 ? STAT_COLUMNS_V1 : STAT_COLUMNS;
}

export function csvHeader(n: number, version = PROFILE_VERSION): string[] {
  const cols = ['index'];
  for (let i = 0; i < n; i++) cols.push(`model_${i}`, `start_${i}`, `end_${i}`, `batch_${i}`, `seq_${i}`);
  return [...cols, ...statColumns(version)];
}

export interface GroupStats {
  medianUs: number;
  meanUs: number;
  stdUs: number;
  minUs: number;
  maxUs: number;
  p5Us: number;
  p95Us: number;
  skewUs: number;
  reps: number;
  /** Half-width of the median's 95 % confidence interval. */
  medianCiUs: number;
}

const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(2));

export function csvRow(group: ProfileGroup, stats: GroupStats, version = PROFILE_VERSION): string {
  const cells: string[] = [String(group.index)];
  for (const s of group.slots) cells.push(s.model, String(s.start), String(s.end), String(s.batch), String(s.seq));
  cells.push(fmt(stats.medianUs), fmt(stats.meanUs), fmt(stats.stdUs), fmt(stats.minUs), fmt(stats.maxUs), fmt(stats.p5Us), fmt(stats.p95Us), fmt(stats.skewUs), String(stats.reps));
  if (version !== 1) cells.push(fmt(stats.medianCiUs));
  return `${cells.join(',')}\n`;
}

export interface ResumeState {
  /** Complete, valid rows already in the file (indices 0 .. rows-1). */
  rows: number;
  /** Bytes cut off the end (a torn or corrupt last line). */
  repairedBytes: number;
}

/**
 * Check a combination's CSV before appending: a missing file is started with its header; an existing
 * one must have the right header and rows 0..k-1 in order. A last line that is torn (no newline) or
 * malformed is cut off so the group is measured again.
 */
export function prepareCsvForAppend(path: string, n: number, version = PROFILE_VERSION): ResumeState {
  const header = csvHeader(n, version).join(',');
  if (!existsSync(path)) return { rows: 0, repairedBytes: -1 };
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  // text ends with '\n' → the last element is '' (complete); otherwise it is a torn line
  let keepBytes = text.length;
  let torn = lines.pop() ?? '';
  if (lines.length === 0) {
    // not even a complete header: start over
    truncate(path, 0);
    return { rows: 0, repairedBytes: text.length };
  }
  if (lines[0] !== header) throw new InputError(`${path}: line 1 is not the header this profile writes (expected '${header}')`);
  let rows = 0;
  for (let i = 1; i < lines.length; i++) {
    const ok = rowIsValid(lines[i]!, n, rows, statColumns(version).length);
    if (ok) {
      rows++;
      continue;
    }
    if (i === lines.length - 1) {
      // the last complete line is corrupt: cut it off with the torn rest
      torn = `${lines[i]}\n${torn}`;
      break;
    }
    throw new InputError(`${path}: line ${i + 1} is not a valid row (expected index ${rows}); the data set is damaged`);
  }
  keepBytes = Buffer.byteLength(text) - Buffer.byteLength(torn);
  if (torn.length > 0) truncate(path, keepBytes);
  return { rows, repairedBytes: torn.length > 0 ? Buffer.byteLength(torn) : 0 };
}

function rowIsValid(line: string, n: number, expectedIndex: number, statCount: number): boolean {
  const cells = line.split(',');
  if (cells.length !== 1 + 5 * n + statCount) return false;
  if (cells[0] !== String(expectedIndex)) return false;
  for (let i = 0; i < n; i++) {
    const nums = cells.slice(2 + 5 * i, 6 + 5 * i).map(Number);
    if (nums.some((v) => !Number.isInteger(v) || v < 0)) return false;
  }
  return cells.slice(1 + 5 * n).every((c) => c !== '' && Number.isFinite(Number(c)) && Number(c) >= 0);
}

function truncate(path: string, bytes: number): void {
  const fd = openSync(path, 'r+');
  try {
    ftruncateSync(fd, bytes);
  } finally {
    closeSync(fd);
  }
}
