// One colour per policy, balancer and predictor, the same in every figure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BALANCER_COLORS,
  BALANCER_NAMES,
  POLICY_COLORS,
  POLICY_NAMES,
  PREDICTOR_COLORS,
  PREDICTOR_NAMES,
  THEME_CONFIG,
  FONT_STACK,
  fixedColorScale,
  policyColorScale,
  predictorColorScale,
  seriesColorScale,
  POLICY_LABELS,
} from '../../src/report/index.js';

test('every policy and balancer has its own valid colour', () => {
  const keys = [...POLICY_NAMES, ...BALANCER_NAMES];
  const colors = [...POLICY_NAMES.map((p) => POLICY_COLORS[p]), ...BALANCER_NAMES.map((b) => BALANCER_COLORS[b])];
  assert.equal(colors.length, keys.length);
  for (const c of colors) assert.match(c, /^#[0-9A-F]{6}$/i);
  assert.equal(new Set(colors.map((c) => c.toUpperCase())).size, colors.length, 'all distinct');
  assert.deepEqual([...POLICY_NAMES], ['abacus', 'fcfs', 'sjf', 'edf', 'concurrent', 'clock']);
  assert.deepEqual([...BALANCER_NAMES], ['random', 'least-loaded', 'headroom']);
});

test('predictors have distinct colours', () => {
  const colors = PREDICTOR_NAMES.map((p) => PREDICTOR_COLORS[p]);
  assert.equal(new Set(colors).size, 3);
});

test('a policy keeps its colour whatever else the figure shows, and only present policies are listed', () => {
  const two = policyColorScale(['edf', 'abacus', 'edf']);
  assert.deepEqual(two.domain, ['Abacus', 'EDF']);
  assert.deepEqual(two.range, [POLICY_COLORS.abacus, POLICY_COLORS.edf]);
  const all = policyColorScale(POLICY_NAMES);
  assert.equal(all.range[all.domain.indexOf(POLICY_LABELS.edf)], POLICY_COLORS.edf);
  assert.deepEqual(predictorColorScale(['svm', 'mlp']).domain, ['MLP', 'SVM']);
  const custom = fixedColorScale(['a', 'b'] as const, ['b'], { a: '#111111', b: '#222222' }, { a: 'A', b: 'B' });
  assert.deepEqual(custom, { domain: ['B'], range: ['#222222'] });
});

test('free-form series get fixed colours where known and distinct fallbacks otherwise', () => {
  const s = seriesColorScale(['alone', 'bert', 'my_model', 'other', 'bert']);
  assert.deepEqual(s.domain, ['alone', 'bert', 'my_model', 'other']);
  assert.equal(s.range[0], '#000000');
  assert.equal(new Set(s.range).size, 4);
});

test('the theme sets the shipped font and readable sizes', () => {
  assert.equal(THEME_CONFIG.font, FONT_STACK);
  assert.ok(FONT_STACK.startsWith('DejaVu Sans'));
  assert.ok((THEME_CONFIG.axis?.labelFontSize as number) >= 11);
  assert.ok((THEME_CONFIG.axis?.titleFontSize as number) >= 12);
  assert.ok((THEME_CONFIG.legend?.labelFontSize as number) >= 11);
});
