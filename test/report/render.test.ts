// Rendering: SVG carries the text, and the PNG really draws it (the shipped font is found and used).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rasterizeSvg, renderVegaLite, svgSize, vegaLiteToSvg } from '../../src/report/index.js';
import type { VegaLiteSpec } from '../../src/report/index.js';

const dir = mkdtempSync(join(tmpdir(), 'abacus-report-render-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function chart(titleColor: string, axisTitleColor = '#222222'): VegaLiteSpec {
  return {
    title: { text: 'Throughput of every policy', color: titleColor, fontSize: 20 },
    data: { values: [{ policy: 'Abacus', qps: 120 }, { policy: 'FCFS', qps: 80 }] },
    mark: 'bar',
    encoding: {
      x: { field: 'policy', type: 'nominal', title: 'scheduling policy', axis: { titleColor: axisTitleColor } },
      y: { field: 'qps', type: 'quantitative', title: 'throughput (queries/s)', axis: { titleColor: axisTitleColor } },
    },
    width: 200,
    height: 120,
  } as VegaLiteSpec;
}

/** Dark pixels (all channels < 100) in rows [y0, y1) of an RGBA image. */
function darkPixels(raster: { width: number; rgba: Uint8Array }, y0: number, y1: number): number {
  let n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = 0; x < raster.width; x++) {
      const i = 4 * (y * raster.width + x);
      if (raster.rgba[i] < 100 && raster.rgba[i + 1] < 100 && raster.rgba[i + 2] < 100) n++;
    }
  }
  return n;
}

test('the SVG contains the title and axis titles as text in the shipped font', async () => {
  const { svg, width, height } = await vegaLiteToSvg(chart('#000000'));
  assert.match(svg, /Throughput of every policy/);
  assert.match(svg, /throughput \(queries\/s\)/);
  assert.match(svg, /scheduling policy/);
  assert.match(svg, /font-family="DejaVu Sans/);
  assert.ok(width > 200 && height > 120, `size ${width}x${height}`);
  assert.deepEqual(svgSize(svg), { width, height });
});

test('the PNG draws the title: dark pixels appear where the title is, and vanish when it is white', async () => {
  const scale = 2;
  const visible = rasterizeSvg((await vegaLiteToSvg(chart('#000000'))).svg, { scale });
  const hidden = rasterizeSvg((await vegaLiteToSvg(chart('#ffffff'))).svg, { scale });
  assert.equal(visible.width, hidden.width, 'same layout either way');
  const band = 30 * scale;
  const shown = darkPixels(visible, 0, band);
  const blank = darkPixels(hidden, 0, band);
  assert.ok(shown > 400, `only ${shown} dark pixels in the title band: is the font missing?`);
  assert.ok(blank < 20, `${blank} dark pixels in the band with a white title`);
});

test('the PNG draws axis titles too', async () => {
  const withTitles = rasterizeSvg((await vegaLiteToSvg(chart('#ffffff', '#000000'))).svg, { scale: 1 });
  const without = rasterizeSvg((await vegaLiteToSvg(chart('#ffffff', '#ffffff'))).svg, { scale: 1 });
  const all = (r: typeof withTitles) => darkPixels(r, 0, r.height);
  assert.ok(all(withTitles) - all(without) > 150, `axis titles add only ${all(withTitles) - all(without)} dark pixels`);
});

test('a spec asking for another font is drawn in the shipped one', async () => {
  const spec = { ...chart('#000000'), config: { font: 'Some Font That Is Not Here' } } as VegaLiteSpec;
  const { svg } = await vegaLiteToSvg(spec);
  assert.doesNotMatch(svg, /Some Font That Is Not Here/);
  const raster = rasterizeSvg(svg, { scale: 1 });
  assert.ok(darkPixels(raster, 0, 30) > 100);
});

test('renderVegaLite writes SVG, PNG and spec files', async () => {
  const svgPath = join(dir, 'sub', 'chart.svg');
  const pngPath = join(dir, 'sub', 'chart.png');
  const specPath = join(dir, 'sub', 'chart.vl.json');
  const result = await renderVegaLite(chart('#000000'), { svgPath, pngPath, specPath, scale: 2 });
  assert.ok(existsSync(svgPath) && existsSync(pngPath) && existsSync(specPath));
  assert.equal(readFileSync(svgPath, 'utf8'), result.svg);
  const png = readFileSync(pngPath);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.equal(png.readUInt32BE(16), Math.round(result.width * 2), 'PNG width is the SVG width times the scale');
  assert.ok(statSync(pngPath).size > 5000);
  assert.equal((JSON.parse(readFileSync(specPath, 'utf8')) as { mark: string }).mark, 'bar');
});

test('renderVegaLite without paths or scale makes only the SVG', async () => {
  const result = await renderVegaLite(chart('#000000'));
  assert.equal(result.png, undefined);
  assert.ok(result.svg.startsWith('<svg'));
});

test('an invalid spec and a bad scale are input errors', async () => {
  await assert.rejects(vegaLiteToSvg({ mark: 'no-such-mark' } as unknown as VegaLiteSpec), { name: 'InputError' });
  assert.throws(() => rasterizeSvg('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', { scale: 0 }), { name: 'InputError' });
});
