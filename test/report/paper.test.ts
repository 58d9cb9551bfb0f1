// The paper's anchor numbers are consistent with the summaries the reference gives, and comparisons pair them with ours.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PAPER_HEADLINE,
  PAPER_MLP_MAPE_PCT,
  PAPER_PAIRS,
  PAPER_PAIR_QOS_MS,
  PAPER_PREDICTORS,
  PAPER_SERVING,
  headlineComparison,
  predictorComparison,
  servingComparison,
} from '../../src/report/index.js';
import { ZOO_NAMES, isZooName } from '../../src/zoo/catalog.js';
import type { ZooModelName } from '../../src/zoo/catalog.js';

/** A pair name as two zoo names, or null. */
function split(pair: string): [ZooModelName, ZooModelName] | null {
  for (const a of ZOO_NAMES) {
    const b = pair.slice(a.length + 1);
    if (pair.startsWith(`${a}_`) && isZooName(b)) return [a, b];
  }
  return null;
}

test('21 distinct pairs of zoo models in ascending id order, each with an MLP MAPE and a QoS target', () => {
  assert.equal(PAPER_PAIRS.length, 21);
  const expected: string[] = [];
  for (let i = 0; i < ZOO_NAMES.length; i++) for (let j = i + 1; j < ZOO_NAMES.length; j++) expected.push(`${ZOO_NAMES[i]}_${ZOO_NAMES[j]}`);
  assert.deepEqual([...PAPER_PAIRS], expected);
  for (const pair of PAPER_PAIRS) {
    assert.ok(split(pair), `${pair} is two zoo names`);
    assert.ok(PAPER_MLP_MAPE_PCT[pair] > 0);
    assert.ok(PAPER_PAIR_QOS_MS[pair] > 0);
  }
  assert.equal(PAPER_PAIR_QOS_MS.vgg16_vgg19, 30);
  assert.equal(PAPER_PAIR_QOS_MS.resnet101_resnet152, 160);
});

test('the per-pair MLP MAPE averages to the reported 5.53 % with the reported extremes', () => {
  const values = PAPER_PAIRS.map((p) => PAPER_MLP_MAPE_PCT[p]);
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  assert.ok(Math.abs(mean - PAPER_PREDICTORS.mlp.meanMapePct) < 0.01, `mean ${mean}`);
  assert.equal(Math.min(...values), PAPER_PREDICTORS.mlp.minMapePct);
  assert.equal(Math.max(...values), PAPER_PREDICTORS.mlp.maxMapePct);
  assert.equal(PAPER_MLP_MAPE_PCT[PAPER_PREDICTORS.mlp.maxPair], 11.97);
});

test('serving anchors: Abacus violates least in every QoS study', () => {
  for (const [id, exp] of Object.entries(PAPER_SERVING)) {
    const r = exp.results;
    if (id.endsWith('-qos')) {
      assert.ok(r.abacus.violationPct <= Math.min(r.fcfs.violationPct, r.sjf.violationPct, r.edf.violationPct), id);
    } else {
      assert.ok(r.abacus.completions > Math.max(r.fcfs.completions, r.sjf.completions, r.edf.completions), id);
    }
    for (const p of Object.values(r)) assert.ok(p.completions <= exp.queries && p.violationPct >= 0 && p.violationPct <= 100);
  }
  assert.deepEqual(PAPER_SERVING['a100-2in7-qos'].results.abacus, { tail: 0.807, completions: 991.6, violationPct: 1.1 });
  assert.deepEqual(PAPER_HEADLINE, { violationChangePct: -51.3, throughputChangePct: 29.8 });
});

test('comparison rows pair our numbers with the paper\'s', () => {
  const serving = servingComparison('a100-2in7-throughput', { abacus: { completions: 850, violationPct: 20 }, sjf: { tail: 1.4 } });
  assert.deepEqual(serving, [
    { metric: 'SJF p99 / QoS', ours: 1.4, paper: 1.357, unit: '×' },
    { metric: 'Abacus completed queries', ours: 850, paper: 842.7, unit: 'of 1000' },
    { metric: 'Abacus QoS violations', ours: 20, paper: 21.8, unit: '%' },
  ]);
  const pred = predictorComparison({ mlp: { meanMapePct: 6, crossValidationMapePct: 6.2 }, lr: { allMapePct: 25 } });
  assert.deepEqual(pred.map((r) => [r.metric, r.paper]), [
    ['MLP MAPE, mean over pairs', 5.53],
    ['MLP MAPE, cross-validation', 5.72],
    ['LR MAPE, one model for all pairs', 30.6],
  ]);
  assert.deepEqual(headlineComparison({ throughputChangePct: 31 }), [{ metric: 'throughput, Abacus vs baselines', ours: 31, paper: 29.8, unit: '%' }]);
});
