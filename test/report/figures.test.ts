// Every figure builder: typed rows in, a spec that renders to non-trivial SVG and PNG with titled axes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  POLICY_COLORS,
  BALANCER_COLORS,
  clusterTimeSeriesSpec,
  combinationLabel,
  decisionTimeSpec,
  ecdfPoints,
  latencyCdfSpec,
  overloadCompletionsSpec,
  peakThroughputSpec,
  predictionErrorSpec,
  renderVegaLite,
  tailLatencySpec,
  violationRatioSpec,
  waysOutcomeSpec,
} from '../../src/report/index.js';
import type { VegaLiteSpec } from '../../src/report/index.js';
import * as fake from './fake-rows.js';

const dir = mkdtempSync(join(tmpdir(), 'abacus-report-figures-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const cluster = fake.clusterRows();
const figures: { name: string; spec: VegaLiteSpec; texts: string[] }[] = [
  { name: 'prediction', spec: predictionErrorSpec(fake.predictionRows()), texts: ['MAPE (%)', 'Res50+Incep', 'cross-validation', 'MLP', 'SVM'] },
  { name: 'tail', spec: tailLatencySpec(fake.tailRows()), texts: ['QoS target (×)', 'QoS target', 'VGG16+VGG19', 'Abacus', 'FCFS'] },
  { name: 'violations', spec: violationRatioSpec(fake.violationRows()), texts: ['QoS violations (% of queries)', 'EDF'] },
  { name: 'peak', spec: peakThroughputSpec(fake.peakRows()), texts: ['peak throughput (queries/s)', 'SJF'] },
  { name: 'completions', spec: overloadCompletionsSpec(fake.completionRows()), texts: ['completed queries (of 1,000 sent)', 'queries sent'] },
  { name: 'decision', spec: decisionTimeSpec(fake.decisionRows()), texts: ['decision time (µs)', 'search ways', '4 models'] },
  { name: 'ways', spec: waysOutcomeSpec(fake.waysRows()), texts: ['QoS violations (% of queries)', 'goodput (queries/s meeting QoS)'] },
  { name: 'cdf', spec: latencyCdfSpec('resnet152', fake.cdfSamples()), texts: ['Res152 query latency (ms)', 'fraction of queries (CDF)', 'alone (p99', 'with VGG16'] },
  {
    name: 'cluster',
    spec: clusterTimeSeriesSpec(cluster.rows, { offered: cluster.offered, qosMs: 100 }),
    texts: ['throughput (queries/s)', 'p99 latency (ms)', 'mean latency (ms)', 'time since start (min)', 'offered load', 'headroom-aware'],
  },
];

for (const fig of figures) {
  test(`${fig.name}: renders to SVG and PNG with its axis titles, units and legend`, async () => {
    const svgPath = join(dir, `${fig.name}.svg`);
    const pngPath = join(dir, `${fig.name}.png`);
    const result = await renderVegaLite(fig.spec, { svgPath, pngPath, scale: 1 });
    const svg = readFileSync(svgPath, 'utf8');
    for (const t of fig.texts) assert.ok(svg.includes(t), `SVG lacks "${t}"`);
    assert.ok(statSync(svgPath).size > 5000, 'SVG is non-trivial');
    assert.ok(statSync(pngPath).size > 10000, 'PNG is non-trivial');
    assert.ok(result.width >= 300 && result.height >= 250, `size ${result.width}x${result.height}`);
    assert.ok(!svg.includes('…'), 'no truncated label');
  });
}

test('bars and lines use the fixed policy and balancer colours', async () => {
  const { svg } = await renderVegaLite(tailLatencySpec(fake.tailRows()));
  for (const p of ['abacus', 'fcfs', 'sjf', 'edf'] as const) assert.ok(svg.includes(`fill="${POLICY_COLORS[p]}"`), `${p} colour`);
  assert.ok(!svg.includes(`fill="${POLICY_COLORS.clock}"`), 'absent policies take no colour');
  const c = await renderVegaLite(clusterTimeSeriesSpec(cluster.rows));
  for (const b of ['random', 'least-loaded', 'headroom'] as const) assert.ok(c.svg.includes(`stroke="${BALANCER_COLORS[b]}"`), `${b} colour`);
});

test('combinations keep their data order; pooled prediction bars come last', () => {
  const spec = predictionErrorSpec([
    { combination: 'all', predictor: 'mlp', mapePct: 6, scope: 'all' },
    { combination: 'vgg16_vgg19', predictor: 'mlp', mapePct: 12 },
    { combination: 'resnet50_bert', predictor: 'mlp', mapePct: 4 },
  ]) as unknown as { layer: Array<{ encoding: { x: { sort: string[] } } }> };
  assert.deepEqual(spec.layer[0]!.encoding.x.sort, ['VGG16+VGG19', 'Res50+BERT', 'all']);
});

test("the MLP's prediction-error bars carry their values (readable beside much taller LR and SVM bars)", async () => {
  const { svg } = await renderVegaLite(
    predictionErrorSpec([
      { combination: 'resnet50_bert', predictor: 'mlp', mapePct: 4.44 },
      { combination: 'resnet50_bert', predictor: 'lr', mapePct: 76.2 },
      { combination: 'resnet50_bert', predictor: 'svm', mapePct: 212.3 },
    ]),
  );
  assert.ok(svg.includes('>4.4<'), 'the MLP value is written on the figure');
  assert.ok(!svg.includes('>76.2<') && !svg.includes('>212.3<'), 'other bars are read off the axis');
});

test('short combination labels follow the paper', () => {
  assert.equal(combinationLabel('resnet50_inception_v3'), 'Res50+Incep');
  assert.equal(combinationLabel('inception_v3_bert'), 'Incep+BERT');
  assert.equal(combinationLabel('resnet101+resnet152+vgg19+bert'), 'Res101+Res152+VGG19+BERT');
  assert.equal(combinationLabel('vgg16'), 'VGG16');
  assert.equal(combinationLabel('my_model_bert'), 'my_model_bert', 'unknown names stay as they are');
  assert.equal(combinationLabel('resnet50_'), 'resnet50_');
});

test('ECDF points run from p=0 at the minimum to p=1 at the maximum, at most ~maxPoints', () => {
  const samples = Array.from({ length: 1000 }, (_v, i) => 1000 - i);
  const pts = ecdfPoints(samples, 100);
  assert.deepEqual(pts[0], { x: 1, p: 0 });
  assert.deepEqual(pts[pts.length - 1], { x: 1000, p: 1 });
  assert.ok(pts.length <= 102);
  for (let i = 1; i < pts.length; i++) assert.ok(pts[i].x >= pts[i - 1].x && pts[i].p >= pts[i - 1].p);
  assert.deepEqual(ecdfPoints([]), []);
  assert.deepEqual(ecdfPoints([5]), [{ x: 5, p: 0 }, { x: 5, p: 1 }]);
});

test('empty data and non-finite values are input errors that name the figure or value', () => {
  assert.throws(() => tailLatencySpec([]), { name: 'InputError', message: /tail latency figure: no data rows/ });
  assert.throws(() => violationRatioSpec([{ combination: 'vgg16_vgg19', policy: 'sjf', violationPct: Number.NaN }]), {
    name: 'InputError',
    message: /violation ratio of sjf on vgg16_vgg19/,
  });
  assert.throws(() => latencyCdfSpec('resnet152', [{ background: 'bert', latenciesMs: [] }]), { name: 'InputError', message: /bert/ });
  assert.throws(() => decisionTimeSpec([{ ways: 2, decisionUs: Infinity }]), { name: 'InputError' });
});

test('titles and subtitles can be set', () => {
  const spec = peakThroughputSpec(fake.peakRows(), { title: 'Fig. 17', subtitle: 'load sweep, 10 s per step' }) as unknown as {
    title: { text: string; subtitle: string };
  };
  assert.deepEqual(spec.title, { text: 'Fig. 17', subtitle: 'load sweep, 10 s per step' });
});

test('a short cluster run is labelled in seconds', async () => {
  const rows = [0, 10, 20].map((t) => ({ timeS: t, balancer: 'random' as const, throughputQps: 10, p99Ms: 50, meanMs: 20 }));
  const { svg } = await renderVegaLite(clusterTimeSeriesSpec(rows));
  assert.ok(svg.includes('time since start (s)'));
});

test('small percentages keep distinct axis labels (0.1 … 0.5, not 0 0 0 0 0 1)', async () => {
  const rows = ['resnet50_vgg16', 'resnet50_bert'].flatMap((c) =>
    (['abacus', 'sjf'] as const).map((p) => ({ combination: c, policy: p, violationPct: p === 'sjf' ? 0.5 : 0 })),
  );
  const { svg } = await renderVegaLite(violationRatioSpec(rows));
  const numeric = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!).filter((t) => /^\d+(\.\d+)?$/.test(t));
  assert.ok(numeric.includes('0.5'), `labels ${numeric.join(' ')}`);
  assert.equal(new Set(numeric).size, numeric.length, `duplicate labels: ${numeric.join(' ')}`);
});
