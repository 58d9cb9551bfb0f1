/**
 * Reports: `report.html` (self-contained, SVG figures inlined) and `report.md` (PNG links, Markdown
 * tables), with the run's provenance and, where given, the paper's numbers beside ours.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { InputError } from '../common/errors.js';
import { ensureDir, writeFileAtomic } from '../common/fsutil.js';
import type { Provenance } from '../common/provenance.js';
import type { PaperComparison } from './paper.js';
import { rendererVersions } from './render.js';

export interface ReportFigure {
  title: string;
  svgPath: string;
  pngPath: string;
  caption?: string;
}

export type TableCell = string | number | boolean | null | undefined;

export interface ReportTable {
  title?: string;
  columns: readonly string[];
  rows: readonly (readonly TableCell[])[];
  /** Decimals shown for non-integer numbers (default 3; trailing zeros dropped). */
  digits?: number;
}

export interface ReportSection {
  heading: string;
  /** Prose; blank lines separate paragraphs. */
  text?: string;
  figures?: readonly ReportFigure[];
  tables?: readonly ReportTable[];
  /** Our numbers beside the paper's, for this section. */
  paperNumbers?: readonly PaperComparison[];
}

export interface ReportInput {
  title: string;
  sections: readonly ReportSection[];
  provenance: Provenance;
  /** Our headline numbers beside the paper's, shown after the title. */
  paperNumbers?: readonly PaperComparison[];
}

export interface WrittenReport {
  htmlPath: string;
  mdPath: string;
}

// ---------------------------------------------------------------------------------------------------
// Formatting

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** A table cell as text: integers as they are, other numbers to `digits` decimals without trailing zeros. */
export function formatCell(value: TableCell, digits = 3): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'string') return value;
  if (Number.isNaN(value)) return 'n/a';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
  if (Number.isInteger(value)) return String(value);
  const fixed = value.toFixed(digits);
  const trimmed = fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
  return trimmed === '-0' ? '0' : trimmed;
}

function escapeMarkdownCell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function paragraphs(text: string | undefined): string[] {
  if (!text) return [];
  return text
    .split(/\r?\n\s*\r?\n/)
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}

/** A path relative to the report folder, with forward slashes, usable as a link. */
function linkFrom(outDir: string, path: string): string {
  const rel = relative(resolve(outDir), resolve(path)).split(sep).join('/');
  return encodeURI(rel);
}

function comparisonTable(rows: readonly PaperComparison[]): ReportTable {
  return {
    title: 'Ours beside the paper',
    columns: ['metric', 'ours', 'paper', 'unit', 'note'],
    rows: rows.map((r) => [r.metric, r.ours, r.paper, r.unit ?? '', r.note ?? '']),
  };
}

function provenanceRows(p: Provenance): [string, string][] {
  const rows: [string, string][] = [
    ['command', p.command],
    ['created', p.createdAt],
    ['git commit', p.gitCommit === null ? 'unknown' : `${p.gitCommit}${p.gitDirty ? ' (uncommitted changes)' : ''}`],
  ];
  if (p.executionProvider) rows.push(['execution provider', p.executionProvider]);
  if (p.seed !== undefined) rows.push(['seed', String(p.seed)]);
  const h = p.hardware;
  rows.push(['CPU', `${h.cpuModel} × ${h.cpuCount}`]);
  rows.push(['memory', `${(h.memoryBytes / 2 ** 30).toFixed(1)} GiB`]);
  if (h.gpu) rows.push(['GPU', h.gpu]);
  rows.push(['host', `${h.hostname} (${h.platform} ${h.arch}, kernel ${h.kernel})`]);
  rows.push(['versions', Object.entries(p.versions).map(([k, v]) => `${k} ${v}`).join(', ')]);
  rows.push(['figures drawn with', Object.entries(rendererVersions()).map(([k, v]) => `${k} ${v}`).join(', ')]);
  return rows;
}

// ---------------------------------------------------------------------------------------------------
// SVG inlining

/**
 * An SVG file's markup ready to inline: anything before `<svg` dropped, scripts removed, and every id
 * (and reference to it) prefixed, so clip paths of different figures cannot collide in one page.
 */
export function inlineSvg(svg: string, idPrefix: string): string {
  const start = svg.search(/<svg[\s>]/);
  if (start < 0) throw new InputError('not an SVG document (no <svg> element)');
  let body = svg.slice(start).replace(/<script[\s\S]*?<\/script>/gi, '');
  body = body
    .replace(/(\s)id="([^"]+)"/g, (_m, space: string, id: string) => `${space}id="${idPrefix}${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_m, id: string) => `url(#${idPrefix}${id})`)
    .replace(/(\b(?:xlink:)?href)="#([^"]+)"/g, (_m, attr: string, id: string) => `${attr}="#${idPrefix}${id}"`);
  return body.replace(/<svg\b/, `<svg role="img"`);
}

function readFigureSvg(figure: ReportFigure): string {
  if (!existsSync(figure.svgPath)) throw new InputError(`figure '${figure.title}': SVG file ${figure.svgPath} does not exist`);
  return readFileSync(figure.svgPath, 'utf8');
}

// ---------------------------------------------------------------------------------------------------
// HTML

const CSS = `
body { font-family: "DejaVu Sans", Verdana, Arial, sans-serif; color: #222; max-width: 1200px; margin: 2rem auto; padding: 0 1.5rem; line-height: 1.5; }
h1 { font-size: 1.7rem; margin-bottom: 0.3rem; }
h2 { font-size: 1.3rem; margin-top: 2.5rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 0.4rem; }
nav ol { padding-left: 1.4rem; }
figure { margin: 1.5rem 0; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 0.9rem; color: #444; margin-top: 0.3rem; }
table { border-collapse: collapse; margin: 0.6rem 0 1.2rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.provenance td:first-child { white-space: nowrap; font-weight: bold; }
`;

function htmlTable(table: ReportTable, className?: string): string {
  const digits = table.digits ?? 3;
  const head = table.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = table.rows
    .map((row) => {
      const cells = table.columns.map((_c, i) => {
        const v = row[i];
        const cls = typeof v === 'number' ? ' class="num"' : '';
        return `<td${cls}>${escapeHtml(formatCell(v, digits))}</td>`;
      });
      return `<tr>${cells.join('')}</tr>`;
    })
    .join('\n');
  const title = table.title ? `<h3>${escapeHtml(table.title)}</h3>\n` : '';
  const cls = className ? ` class="${className}"` : '';
  return `${title}<table${cls}>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

function renderHtml(input: ReportInput, outDir: string): string {
  let figureCount = 0;
  const parts: string[] = [];
  parts.push(`<h1>${escapeHtml(input.title)}</h1>`);
  if (input.sections.length > 1) {
    const items = input.sections.map((s, i) => `<li><a href="#section-${i + 1}">${escapeHtml(s.heading)}</a></li>`).join('');
    parts.push(`<nav><ol>${items}</ol></nav>`);
  }
  if (input.paperNumbers && input.paperNumbers.length > 0) parts.push(htmlTable(comparisonTable(input.paperNumbers)));
  input.sections.forEach((section, i) => {
    parts.push(`<section id="section-${i + 1}">`);
    parts.push(`<h2>${escapeHtml(section.heading)}</h2>`);
    for (const p of paragraphs(section.text)) parts.push(`<p>${escapeHtml(p)}</p>`);
    for (const figure of section.figures ?? []) {
      figureCount += 1;
      const svg = inlineSvg(readFigureSvg(figure), `fig${figureCount}-`);
      const caption = figure.caption ? ` ${escapeHtml(figure.caption)}` : '';
      const png = escapeHtml(linkFrom(outDir, figure.pngPath));
      parts.push(
        `<figure>\n${svg}\n<figcaption><strong>Figure ${figureCount}.</strong> ${escapeHtml(figure.title)}.${caption} <a href="${png}">PNG</a></figcaption>\n</figure>`,
      );
    }
    for (const table of section.tables ?? []) parts.push(htmlTable(table));
    if (section.paperNumbers && section.paperNumbers.length > 0) parts.push(htmlTable(comparisonTable(section.paperNumbers)));
    parts.push('</section>');
  });
  parts.push('<section id="provenance">\n<h2>Provenance</h2>');
  parts.push(htmlTable({ columns: ['field', 'value'], rows: provenanceRows(input.provenance) }, 'provenance'));
  parts.push('</section>');
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(input.title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    ...parts,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------
// Markdown

function markdownTable(table: ReportTable): string {
  const digits = table.digits ?? 3;
  const lines: string[] = [];
  if (table.title) lines.push(`**${escapeMarkdownCell(table.title)}**`, '');
  lines.push(`| ${table.columns.map(escapeMarkdownCell).join(' | ')} |`);
  lines.push(`|${table.columns.map((_c, i) => (table.rows.some((r) => typeof r[i] === 'number') ? '---:' : '---')).join('|')}|`);
  for (const row of table.rows) {
    lines.push(`| ${table.columns.map((_c, i) => escapeMarkdownCell(formatCell(row[i], digits))).join(' | ')} |`);
  }
  return lines.join('\n');
}

function renderMarkdown(input: ReportInput, outDir: string): string {
  const out: string[] = [`# ${input.title}`, ''];
  if (input.paperNumbers && input.paperNumbers.length > 0) out.push(markdownTable(comparisonTable(input.paperNumbers)), '');
  let figureCount = 0;
  for (const section of input.sections) {
    out.push(`## ${section.heading}`, '');
    for (const p of paragraphs(section.text)) out.push(p, '');
    for (const figure of section.figures ?? []) {
      figureCount += 1;
      const alt = figure.title.replace(/[[\]]/g, '');
      out.push(`![${alt}](${linkFrom(outDir, figure.pngPath)})`, '');
      out.push(`*Figure ${figureCount}. ${figure.title}.${figure.caption ? ` ${figure.caption}` : ''}* ([SVG](${linkFrom(outDir, figure.svgPath)}))`, '');
    }
    for (const table of section.tables ?? []) out.push(markdownTable(table), '');
    if (section.paperNumbers && section.paperNumbers.length > 0) out.push(markdownTable(comparisonTable(section.paperNumbers)), '');
  }
  out.push('## Provenance', '');
  out.push(markdownTable({ columns: ['field', 'value'], rows: provenanceRows(input.provenance) }), '');
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------------

function validate(input: ReportInput): void {
  if (input.title.trim().length === 0) throw new InputError('report title is empty');
  for (const section of input.sections) {
    for (const figure of section.figures ?? []) {
      for (const path of [figure.svgPath, figure.pngPath]) {
        if (!existsSync(path)) throw new InputError(`section '${section.heading}', figure '${figure.title}': ${path} does not exist`);
      }
    }
    for (const table of section.tables ?? []) {
      for (const [i, row] of table.rows.entries()) {
        if (row.length !== table.columns.length) {
          throw new InputError(
            `section '${section.heading}', table '${table.title ?? '(untitled)'}': row ${i + 1} has ${row.length} cells for ${table.columns.length} columns`,
          );
        }
      }
    }
  }
}

/**
 * Write `report.html` and `report.md` into `outDir` (created if needed). Figure paths may be absolute or
 * relative to the working directory; the reports link them relative to `outDir`.
 */
export function writeReport(input: ReportInput, outDir: string): WrittenReport {
  validate(input);
  ensureDir(outDir);
  const htmlPath = join(outDir, 'report.html');
  const mdPath = join(outDir, 'report.md');
  const html = renderHtml(input, outDir);
  const md = renderMarkdown(input, outDir);
  writeFileAtomic(htmlPath, html);
  writeFileAtomic(mdPath, md);
  return { htmlPath, mdPath };
}
