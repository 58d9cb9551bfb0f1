/**
 * Figures use their canvas: the plot is about as wide as the image (a long subtitle wraps instead of
 * widening it), axis numbers read as people write them (no 2e+2), and unrelated categories get dots, not a
 * line joining them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PLOT_WIDTH, decisionTimeSpec, overloadCompletionsSpec, peakThroughputSpec, predictionErrorSpec, tailLatencySpec, violationRatioSpec, waysOutcomeSpec, wrapText } from '../../src/report/figures.js';
import { vegaLiteToSvg } from '../../src/report/render.js';
import * as fake from './fake-rows.js';

const LONG = 'full models on cpu; 200 queries per run; load 0.7 × serial capacity; QoS = 5 × larger solo latency at batch 4; the subtitle goes on well past the plot';

test('every figure is its plot plus an axis wide, whatever the length of its subtitle', async () => {
  const text = { title: 'A figure', subtitle: LONG };
  const specs = {
    prediction: predictionErrorSpec(fake.predictionRows(), text),
    tail: tailLatencySpec(fake.tailRows(), text),
    violations: violationRatioSpec(fake.violationRows(), text),
    peak: peakThroughputSpec(fake.peakRows(), text),
    completions: overloadCompletionsSpec(fake.completionRows(), text),
    decision: decisionTimeSpec(fake.decisionRows(), text),
    ways: waysOutcomeSpec(fake.waysRows(), text),
  };
  for (const [name, spec] of Object.entries(specs)) {
    const { svg, width } = await vegaLiteToSvg(spec);
    assert.ok(width >= PLOT_WIDTH && width <= PLOT_WIDTH + 190, `${name}: canvas ${width} px for a ${PLOT_WIDTH} px plot`);
    assert.doesNotMatch(svg, />[-\d.]+e[+-]\d+</, `${name}: a tick in exponent notation`);
  }
  const sub = (specs.tail as unknown as { title: { subtitle: string | string[] } }).title.subtitle;
  assert.ok(Array.isArray(sub) && sub.length === 2 && sub.join(' ') === LONG, 'the long subtitle wraps into two lines, at a clause');
  assert.deepEqual(wrapText('short', 600), ['short']);
});

test('axis numbers are written plainly: 200 and 0.5, not 2e+2', async () => {
  const rows = fake.predictionRows().map((r, i) => ({ ...r, mapePct: i === 0 ? 234 : r.mapePct }));
  const { svg } = await vegaLiteToSvg(predictionErrorSpec(rows));
  assert.match(svg, />200</);
  const small = await vegaLiteToSvg(violationRatioSpec(fake.violationRows().map((r, i) => ({ ...r, violationPct: i % 3 === 0 ? 0.5 : 0 }))));
  assert.match(small.svg, />0\.5</);
  assert.match(small.svg, />0\.1</);
});

test('QoS violations are dots side by side per combination, not a line across combinations', () => {
  const spec = violationRatioSpec(fake.violationRows()) as unknown as { mark?: unknown; layer: { mark: { type: string }; encoding: Record<string, unknown> }[] };
  assert.equal(spec.mark, undefined);
  assert.deepEqual(spec.layer.map((l) => l.mark.type), ['rule', 'point']);
  for (const l of spec.layer) assert.equal((l.encoding.xOffset as { field: string }).field, 'policy');
});
