// writeReport: a self-contained HTML page and a Markdown file with figures, tables, provenance and the paper's numbers.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectProvenance } from '../../src/common/provenance.js';
import {
  escapeHtml,
  formatCell,
  inlineSvg,
  renderVegaLite,
  servingComparison,
  tailLatencySpec,
  violationRatioSpec,
  writeReport,
} from '../../src/report/index.js';
import type { ReportInput } from '../../src/report/index.js';
import * as fake from './fake-rows.js';

const dir = mkdtempSync(join(tmpdir(), 'abacus-report-report-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const provenance = collectProvenance({ command: 'abacus report --run <demo>', seed: 7, executionProvider: 'cpu' });

before(async () => {
  await renderVegaLite(tailLatencySpec(fake.tailRows()), { svgPath: join(dir, 'figures', 'tail.svg'), pngPath: join(dir, 'figures', 'tail.png') });
  await renderVegaLite(violationRatioSpec(fake.violationRows()), { svgPath: join(dir, 'figures', 'viol.svg'), pngPath: join(dir, 'figures', 'viol.png') });
});

function input(): ReportInput {
  return {
    title: 'Serving <2in7> & friends',
    provenance,
    paperNumbers: [{ metric: 'QoS violations, Abacus vs baselines', ours: -48.25, paper: -51.3, unit: '%' }],
    sections: [
      {
        heading: 'QoS study',
        text: 'First paragraph with <script>alert(1)</script>.\n\nSecond | paragraph.',
        figures: [
          { title: 'Tail latency', svgPath: join(dir, 'figures', 'tail.svg'), pngPath: join(dir, 'figures', 'tail.png'), caption: 'Dashed: QoS.' },
          { title: 'Violations', svgPath: join(dir, 'figures', 'viol.svg'), pngPath: join(dir, 'figures', 'viol.png') },
        ],
        tables: [{ title: 'Averages', columns: ['policy', 'p99/QoS', 'completed'], rows: [['Abacus', 0.80712, 991], ['FCFS | x', 1.05, null]] }],
        paperNumbers: servingComparison('a100-2in7-qos', { abacus: { tail: 0.79, violationPct: 1.3 } }),
      },
      { heading: 'Notes', text: 'Nothing else.' },
    ],
  };
}

test('writes report.html and report.md into the folder', () => {
  const out = join(dir, 'out1');
  const written = writeReport(input(), out);
  assert.equal(written.htmlPath, join(out, 'report.html'));
  assert.equal(written.mdPath, join(out, 'report.md'));
  assert.ok(readFileSync(written.htmlPath, 'utf8').length > 10000);
});

test('the HTML inlines every SVG, escapes text and shows provenance and the paper numbers', () => {
  const html = readFileSync(writeReport(input(), join(dir, 'out2')).htmlPath, 'utf8');
  assert.ok(html.startsWith('<!DOCTYPE html>'));
  assert.equal((html.match(/<svg\b/g) ?? []).length, 2, 'two inline SVGs');
  assert.ok(!html.includes('<img'), 'no external images');
  assert.ok(html.includes('<title>Serving &lt;2in7&gt; &amp; friends</title>'));
  assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.ok(!html.includes('<script>'));
  assert.equal((html.match(/<p>/g) ?? []).length, 3, 'two paragraphs plus one');
  assert.ok(html.includes('99th-percentile latency / QoS target (×)'), 'figure text inline');
  assert.ok(html.includes('Provenance') && html.includes('abacus report --run &lt;demo&gt;') && html.includes('seed'));
  assert.ok(html.includes(provenance.hardware.cpuModel.replace(/&/g, '&amp;')));
  assert.ok(html.includes('Ours beside the paper'));
  assert.ok(html.includes('<td class="num">-51.3</td>'));
  assert.ok(html.includes('<td class="num">0.807</td>'), 'numbers to 3 decimals');
  assert.ok(html.includes('<td>—</td>'), 'null cell');
  assert.ok(html.includes('Abacus p99 / QoS') && html.includes('<td class="num">0.807</td>'));
  assert.ok(html.includes('href="../figures/tail.png"'), 'PNG linked relative to the report');
  assert.ok(html.includes('href="#section-2"'), 'table of contents');
});

test('ids of inlined SVGs are unique across figures', () => {
  const html = readFileSync(writeReport(input(), join(dir, 'out3')).htmlPath, 'utf8');
  const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(new Set(ids).size, ids.length, 'no duplicate ids');
  for (const m of html.matchAll(/url\(#([^)]+)\)/g)) assert.ok(ids.includes(m[1]), `reference to ${m[1]} resolves`);
});

test('the Markdown links PNGs and writes tables with escaped pipes', () => {
  const md = readFileSync(writeReport(input(), join(dir, 'out4')).mdPath, 'utf8');
  assert.ok(md.startsWith('# Serving <2in7> & friends\n'));
  assert.ok(md.includes('![Tail latency](../figures/tail.png)'));
  assert.ok(md.includes('*Figure 1. Tail latency. Dashed: QoS.* ([SVG](../figures/tail.svg))'));
  assert.ok(md.includes('*Figure 2. Violations.*'));
  assert.ok(md.includes('| policy | p99/QoS | completed |'));
  assert.ok(md.includes('|---|---:|---:|'));
  assert.ok(md.includes('| FCFS \\| x | 1.05 | — |'));
  assert.ok(md.includes('## Provenance'));
  assert.match(md, /\| figures drawn with \| vega 6\.\d+\.\d+, vega-lite 6\.\d+\.\d+, @resvg\/resvg-js \d/);
  assert.ok(md.includes('| QoS violations, Abacus vs baselines | -48.25 | -51.3 | % |  |'));
  assert.ok(md.includes('| Abacus QoS violations | 1.3 | 1.1 | % |  |'));
});

test('bad input is an input error: ragged table rows, missing figure files, empty title', () => {
  const ragged = input();
  ragged.sections = [{ heading: 'x', tables: [{ columns: ['a', 'b'], rows: [['only one']] }] }];
  assert.throws(() => writeReport(ragged, join(dir, 'bad1')), { name: 'InputError', message: /row 1 has 1 cells for 2 columns/ });
  const missing = input();
  missing.sections = [{ heading: 'x', figures: [{ title: 'gone', svgPath: join(dir, 'nope.svg'), pngPath: join(dir, 'nope.png') }] }];
  assert.throws(() => writeReport(missing, join(dir, 'bad2')), { name: 'InputError', message: /nope\.svg does not exist/ });
  assert.throws(() => writeReport({ ...input(), title: ' ' }, join(dir, 'bad3')), { name: 'InputError' });
});

test('helpers: HTML escaping, number formatting, SVG inlining', () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  assert.equal(formatCell(1.5), '1.5');
  assert.equal(formatCell(2), '2');
  assert.equal(formatCell(0.12345), '0.123');
  assert.equal(formatCell(0.12345, 1), '0.1');
  assert.equal(formatCell(-0.0001), '0');
  assert.equal(formatCell(Number.NaN), 'n/a');
  assert.equal(formatCell(null), '—');
  assert.equal(formatCell(true), 'yes');
  const svg = inlineSvg('<?xml version="1.0"?>\n<svg width="1"><defs><clipPath id="clip1"/></defs><g clip-path="url(#clip1)"/><script>x()</script></svg>', 'f1-');
  assert.equal(svg, '<svg role="img" width="1"><defs><clipPath id="f1-clip1"/></defs><g clip-path="url(#f1-clip1)"/></svg>');
  assert.throws(() => inlineSvg('<html></html>', 'x'), { name: 'InputError' });
});
