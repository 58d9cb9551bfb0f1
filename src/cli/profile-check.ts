/**
 * Before `abacus train` learns from a profile: is it finished? profile.json lists every combination's CSV
 * and the groups planned for it (`files[].groups`); a CSV with fewer rows is a profile that was stopped
 * (resumable) or a file that was cut, and a predictor trained on it silently covers less than it claims.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../common/errors.js';
import { readProfileMeta } from '../predictor/index.js';

export interface ProfileShortfall {
  dir: string;
  csv: string;
  planned: number;
  present: number;
}

/** Data rows of a CSV (non-empty lines after the header); 0 for a missing file. */
function csvRows(path: string): number {
  if (!existsSync(path)) return 0;
  const lines = readFileSync(path, 'utf8').split(/\r?\n/).filter((l) => l.trim().length > 0);
  return Math.max(0, lines.length - 1);
}

/** Every planned CSV of the profiles that holds fewer rows than profile.json plans. */
export function profileShortfalls(dirs: readonly string[]): ProfileShortfall[] {
  const out: ProfileShortfall[] = [];
  for (const dir of dirs) {
    const { meta } = readProfileMeta(dir);
    const files = Array.isArray(meta.files) ? (meta.files as Array<{ csv?: unknown; groups?: unknown }>) : [];
    for (const f of files) {
      if (typeof f.csv !== 'string' || typeof f.groups !== 'number') continue;
      const present = csvRows(join(dir, f.csv));
      if (present < f.groups) out.push({ dir, csv: f.csv, planned: f.groups, present });
    }
  }
  return out;
}

/** Refuse an unfinished profile (or only warn with `allowPartial`). */
export function checkProfilesComplete(dirs: readonly string[], allowPartial: boolean): void {
  const short = profileShortfalls(dirs);
  if (short.length === 0) return;
  const what = short.map((s) => `${join(s.dir, s.csv)} holds ${s.present} of the ${s.planned} groups profile.json plans`).join('; ');
  if (!allowPartial) {
    throw new InputError(`${what}: the profile is unfinished (stopped, or a file was cut); finish it by running the same 'abacus profile' command again (it resumes), or pass --allow-partial to train on what is there`);
  }
  process.stderr.write(`abacus: WARNING: training on an unfinished profile: ${what}\n`);
}
