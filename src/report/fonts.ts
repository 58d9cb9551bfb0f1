/**
 * The one font every figure uses (DejaVu Sans, shipped under `assets/fonts/`), and text widths measured
 * from its glyph advances. Without a canvas, vega estimates every character as 0.8 em wide, which leaves
 * gaps in legends and truncates labels that fit; the metrics here make vega lay text out for the font
 * that resvg actually draws.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UnavailableError } from '../common/errors.js';

/** The family name written into every SVG and given to resvg as its default. */
export const FONT_FAMILY = 'DejaVu Sans';
/** What the SVG's font-family says: DejaVu first, then fallbacks for a browser without it. */
export const FONT_STACK = 'DejaVu Sans, Verdana, Arial, sans-serif';

const FONT_FILE_NAMES = { regular: 'DejaVuSans.ttf', bold: 'DejaVuSans-Bold.ttf' } as const;

export interface FontFiles {
  regular: string;
  bold: string;
}

/** The shipped fonts folder: `assets/fonts` at the package root (the same depth from `src/` and `dist/`). */
export function fontsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return resolve(here, '..', '..', 'assets', 'fonts');
}

/** Paths of the shipped TTFs; throws an UnavailableError naming the folder when they are missing. */
export function fontFiles(): FontFiles {
  const dir = fontsDir();
  const files: FontFiles = { regular: join(dir, FONT_FILE_NAMES.regular), bold: join(dir, FONT_FILE_NAMES.bold) };
  for (const path of [files.regular, files.bold]) {
    if (!existsSync(path)) {
      throw new UnavailableError(
        `font file ${path} is missing: figures need DejaVu Sans under ${dir} (without it every label silently disappears)`,
      );
    }
  }
  return files;
}

/** Advance widths of one TrueType font, read from its `cmap` (format 4 or 12) and `hmtx` tables. */
export class FontMetrics {
  private readonly advances: Uint16Array;
  private readonly glyphOf = new Map<number, number>();
  readonly unitsPerEm: number;

  constructor(data: Uint8Array) {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const tables = new Map<string, number>();
    const numTables = view.getUint16(4);
    for (let i = 0; i < numTables; i++) {
      const rec = 12 + 16 * i;
      const tag = String.fromCharCode(data[rec], data[rec + 1], data[rec + 2], data[rec + 3]);
      tables.set(tag, view.getUint32(rec + 8));
    }
    const table = (tag: string): number => {
      const off = tables.get(tag);
      if (off === undefined) throw new Error(`font has no '${tag}' table`);
      return off;
    };
    this.unitsPerEm = view.getUint16(table('head') + 18);
    const numberOfHMetrics = view.getUint16(table('hhea') + 34);
    const numGlyphs = view.getUint16(table('maxp') + 4);
    const hmtx = table('hmtx');
    this.advances = new Uint16Array(numGlyphs);
    for (let g = 0; g < numGlyphs; g++) {
      this.advances[g] = view.getUint16(hmtx + 4 * Math.min(g, numberOfHMetrics - 1));
    }
    this.readCmap(view, table('cmap'));
  }

  private readCmap(view: DataView, cmap: number): void {
    const count = view.getUint16(cmap + 2);
    let format4 = -1;
    let format12 = -1;
    for (let i = 0; i < count; i++) {
      const rec = cmap + 4 + 8 * i;
      const platform = view.getUint16(rec);
      const encoding = view.getUint16(rec + 2);
      const sub = cmap + view.getUint32(rec + 4);
      const format = view.getUint16(sub);
      if (platform === 3 && encoding === 10 && format === 12) format12 = sub;
      if ((platform === 3 && encoding === 1) || platform === 0) {
        if (format === 4 && format4 < 0) format4 = sub;
      }
    }
    if (format12 >= 0) {
      const groups = view.getUint32(format12 + 12);
      for (let i = 0; i < groups; i++) {
        const rec = format12 + 16 + 12 * i;
        const first = view.getUint32(rec);
        const last = view.getUint32(rec + 4);
        const glyph = view.getUint32(rec + 8);
        for (let c = first; c <= last && c <= 0x2ffff; c++) this.glyphOf.set(c, glyph + (c - first));
      }
      return;
    }
    if (format4 < 0) throw new Error('font has no Unicode cmap subtable');
    const segX2 = view.getUint16(format4 + 6);
    const ends = format4 + 14;
    const starts = ends + segX2 + 2;
    const deltas = starts + segX2;
    const rangeOffsets = deltas + segX2;
    for (let s = 0; s < segX2 / 2; s++) {
      const end = view.getUint16(ends + 2 * s);
      const start = view.getUint16(starts + 2 * s);
      const delta = view.getInt16(deltas + 2 * s);
      const rangeOffset = view.getUint16(rangeOffsets + 2 * s);
      for (let c = start; c <= end && c !== 0xffff; c++) {
        let glyph: number;
        if (rangeOffset === 0) {
          glyph = (c + delta) & 0xffff;
        } else {
          const addr = rangeOffsets + 2 * s + rangeOffset + 2 * (c - start);
          const raw = view.getUint16(addr);
          glyph = raw === 0 ? 0 : (raw + delta) & 0xffff;
        }
        if (glyph !== 0) this.glyphOf.set(c, glyph);
      }
    }
  }

  /** Width of `text` in pixels at `fontSize` px (no kerning: a fraction of a pixel per pair at most). */
  width(text: string, fontSize: number): number {
    let units = 0;
    for (const ch of text) {
      const glyph = this.glyphOf.get(ch.codePointAt(0) ?? 0) ?? 0;
      units += this.advances[glyph] ?? 0;
    }
    return (units * fontSize) / this.unitsPerEm;
  }
}

let cached: { regular: FontMetrics; bold: FontMetrics } | null = null;

/** Metrics of the shipped regular and bold faces, read once. */
export function fontMetrics(): { regular: FontMetrics; bold: FontMetrics } {
  if (cached) return cached;
  const files = fontFiles();
  cached = { regular: new FontMetrics(readFileSync(files.regular)), bold: new FontMetrics(readFileSync(files.bold)) };
  return cached;
}

/** True for CSS font weights that select the bold face. */
export function isBoldWeight(weight: string | number | undefined | null): boolean {
  if (weight === undefined || weight === null) return false;
  if (typeof weight === 'number') return weight >= 600;
  const w = weight.trim().toLowerCase();
  if (w === 'bold' || w === 'bolder') return true;
  const n = Number(w);
  return Number.isFinite(n) && n >= 600;
}
