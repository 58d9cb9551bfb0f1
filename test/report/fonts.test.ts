// Text metrics from the shipped font: vega lays labels out for the glyphs resvg draws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FONT_FAMILY, FontMetrics, fontFiles, fontMetrics, fontsDir, vegaLiteToSvg } from '../../src/report/index.js';
import type { VegaLiteSpec } from '../../src/report/index.js';

test('the shipped fonts and their licence are in assets/fonts', () => {
  const files = fontFiles();
  assert.ok(existsSync(files.regular) && existsSync(files.bold));
  assert.ok(existsSync(join(fontsDir(), 'LICENSE')));
  assert.equal(FONT_FAMILY, 'DejaVu Sans');
});

test('advance widths match DejaVu Sans (unitsPerEm 2048; "0" advances 1303 units)', () => {
  const regular = new FontMetrics(readFileSync(fontFiles().regular));
  assert.equal(regular.unitsPerEm, 2048);
  assert.ok(Math.abs(regular.width('0', 2048) - 1303) < 1e-9);
  assert.ok(Math.abs(regular.width('00000', 12) - 5 * regular.width('0', 12)) < 1e-9, 'widths add up');
  assert.ok(regular.width('WWWW', 12) > regular.width('iiii', 12) * 2, 'proportional font');
  assert.equal(regular.width('', 12), 0);
});

test('the bold face is wider than the regular one', () => {
  const { regular, bold } = fontMetrics();
  const text = 'QoS-violation ratio';
  assert.ok(bold.width(text, 12) > regular.width(text, 12));
});

test('vega uses the measured widths: a long label under its limit is not truncated', async () => {
  // 32 characters at 12 px: vega's 0.8-em guess (307 px) exceeds the 280 px limit; the true width (~200 px) does not.
  const label = 'resnet152_inception_v3 on a GPU.';
  const spec = {
    data: { values: [{ x: label, y: 1 }] },
    mark: 'bar',
    encoding: { x: { field: 'x', type: 'nominal', axis: { labelLimit: 280, labelAngle: 0 } }, y: { field: 'y', type: 'quantitative' } },
  } as VegaLiteSpec;
  const { svg } = await vegaLiteToSvg(spec);
  assert.ok(svg.includes(label), 'label kept whole');
  assert.ok(!svg.includes('…'), 'no ellipsis');
});

test('a label over its limit is truncated with an ellipsis that fits', async () => {
  const label = 'a very long label that cannot possibly fit in sixty pixels';
  const spec = {
    data: { values: [{ x: label, y: 1 }] },
    mark: 'bar',
    encoding: { x: { field: 'x', type: 'nominal', axis: { labelLimit: 60, labelAngle: 0 } }, y: { field: 'y', type: 'quantitative' } },
  } as VegaLiteSpec;
  const { svg } = await vegaLiteToSvg(spec);
  const match = /<text[^>]*font-size="([0-9.]+)px"[^>]*>([^<]*…)<\/text>/.exec(svg);
  assert.ok(match, 'an ellipsis label');
  const shown = match[2];
  assert.ok(fontMetrics().regular.width(shown, Number(match[1])) <= 60, `"${shown}" fits 60 px`);
  assert.ok(shown.length > 3);
});
