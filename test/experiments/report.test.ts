// `abacus report` on small hand-made results folders: figures, tables, provenance and the paper's numbers in
// one page; QoS and accounting checked when the logs are read.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectProvenance } from '../../src/common/provenance.js';
import { formatQueryCsv, summarizeRun } from '../../src/controller/runlog.js';
import type { PolicyName, QueryLogRow, QueryStatus } from '../../src/controller/types.js';
import { DEFAULT_QOS_RULE, deriveTargets, findRunDirs, newRunInfo, readServingRows, readQosFile, type QosFile } from '../../src/report/experiments.js';
import { summarizeExperiment } from '../../src/report/experiment-report.js';
import { runCli } from '../helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'abacus-exp-report-'));
after(() => rmSync(root, { recursive: true, force: true }));

const COMB = 'resnet50_vgg16';
const solo = { resnet50: { '4': 1, '8': 1.5, '16': 2, '32': 3 }, vgg16: { '4': 1.2, '8': 2, '16': 3.5, '32': 4 } };

function rows(policy: PolicyName, qosMs: number, statuses: QueryStatus[]): QueryLogRow[] {
  return statuses.map((status, i) => {
    const arrivalMs = i * 10;
    const latencyMs = status === 'ok' ? 5 + i : status === 'late' ? qosMs + 3 : null;
    return {
      id: `q${i}`, model: i % 2 ? 'vgg16' : 'resnet50', batch: 4, seq: 0, qosMs, arrivalMs, startMs: latencyMs === null ? null : arrivalMs,
      finishMs: latencyMs === null ? arrivalMs + 1 : arrivalMs + latencyMs, latencyMs, status, groups: 1, searchSteps: 0, policy,
    };
  });
}

/** A 7.2 results folder with two policies served at `servedQos` (qos.json says what the rule gives). */
function makeRun(dir: string, servedQos?: number): QosFile {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'run.json'), JSON.stringify(newRunInfo({ dir, section: '7.2_qos', mode: 'quick', ep: 'cpu', command: 'test', seed: 0, settings: { queries: 8 } })));
  const rule = { ...DEFAULT_QOS_RULE };
  const [t] = deriveTargets(solo, [['vgg16', 'resnet50']], rule);
  const qos: QosFile = {
    format: 'abacus.qos', version: 1, rule: { ...rule, text: 'test rule' }, soloSeq: 0, soloSeqs: [], solo, soloMean: solo,
    combinations: { [t!.combination]: t! }, sources: [], provenance: collectProvenance({ command: 'test' }),
  };
  writeFileSync(join(dir, 'qos.json'), JSON.stringify(qos));
  const served = servedQos ?? t!.qosMs;
  const out = join(dir, 'raw', 'serve', 'qos', COMB);
  mkdirSync(out, { recursive: true });
  const runs: Array<[PolicyName, QueryStatus[]]> = [
    ['fcfs', ['ok', 'ok', 'late', 'dropped', 'ok', 'ok', 'late', 'ok']],
    ['abacus', ['ok', 'ok', 'ok', 'ok', 'ok', 'dropped', 'ok', 'ok']],
  ];
  const summaries = runs.map(([policy, st]) => {
    const r = rows(policy, served, st);
    writeFileSync(join(out, `${policy}.queries.csv`), formatQueryCsv(r, true));
    return summarizeRun(r, { policy, ways: 2, thldMs: 5, abandon: true, decisionsUs: [10, 20], plansReused: 0, groupSearchSteps: [0] });
  });
  writeFileSync(join(out, 'summary.json'), JSON.stringify({ summaries, provenance: collectProvenance({ command: 'test' }), trace: { queries: 8 } }));
  return qos;
}

test('the QoS rule: k × the larger solo latency at the largest batch, loads from the mean solo latency', () => {
  const [t] = deriveTargets(solo, [['vgg16', 'resnet50']], { ...DEFAULT_QOS_RULE, smallBatch: 4 });
  assert.equal(t!.combination, COMB);
  assert.deepEqual(t!.models, ['resnet50', 'vgg16']);
  assert.equal(t!.qosMs, 20); // 5 × 4 ms
  const mean = (1 + 1.5 + 2 + 3 + 1.2 + 2 + 3.5 + 4) / 8;
  assert.equal(t!.loadQosQps, Math.round(((0.7 * 1000) / mean) * 10) / 10);
  assert.equal(t!.loadOverloadQps, Math.round(((1.4 * 1000) / mean) * 10) / 10);
  assert.equal(t!.small?.qosMs, 6); // 5 × 1.2 ms
});

test('serving rows: accounting holds, violations count drops, and the served QoS is the one of qos.json', () => {
  const dir = join(root, 'ok', '7.2_qos', 'results', 'run-a');
  makeRun(dir);
  const r = readServingRows(dir, readQosFile(dir));
  assert.equal(r.length, 2);
  const fcfs = r.find((x) => x.policy === 'fcfs')!;
  assert.equal(fcfs.issued, fcfs.completed + fcfs.dropped + fcfs.failed);
  assert.equal(fcfs.violationPct, (3 / 8) * 100); // 2 late + 1 dropped
  assert.equal(fcfs.qosMs, 20);
  const abacus = r.find((x) => x.policy === 'abacus')!;
  assert.equal(abacus.violationPct, (1 / 8) * 100);
  for (const x of r) for (const v of [x.p99OverQos, x.goodputQps, x.p99Ms]) assert.ok(Number.isFinite(v));
  assert.deepEqual(findRunDirs([join(root, 'ok')]), [dir]);
});

test('a run served with another QoS than qos.json gives is refused', () => {
  const dir = join(root, 'bad');
  makeRun(dir, 25);
  assert.throws(() => summarizeExperiment(dir), /served with QoS 25 ms but qos.json gives 20 ms/);
  const r = runCli(['report', dir, '--out', join(root, 'bad-report')]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /qos.json gives 20 ms/);
});

test('abacus report: one HTML and one Markdown page with figures, tables, provenance and the paper', () => {
  const dirA = join(root, 'two', 'a');
  const dirB = join(root, 'two', 'b');
  makeRun(dirA);
  makeRun(dirB);
  // a folder another script wrote in its own format: its figures and run.json are shown as they are
  const foreign = join(root, 'two', 'c');
  mkdirSync(join(foreign, 'figures'), { recursive: true });
  writeFileSync(join(foreign, 'run.json'), JSON.stringify({ section: '7.6_cluster', nodes: 4 }));
  writeFileSync(join(foreign, 'figures', 'cluster.svg'), '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect id="r" width="5" height="5"/></svg>');
  writeFileSync(join(foreign, 'figures', 'cluster.png'), 'png');
  const out = join(root, 'report');
  const r = runCli(['report', join(root, 'two'), '--out', out, '--title', 'Test report']);
  assert.equal(r.code, 0, r.stderr);
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  const md = readFileSync(join(out, 'report.md'), 'utf8');
  assert.match(html, /<h1>Test report<\/h1>/);
  assert.equal((html.match(/<svg role="img"/g) ?? []).length, 5, 'two runs, two figures each (tail and violations), and the foreign one');
  assert.ok(html.includes('7.6_cluster (results folder c)'));
  for (const text of ['99th-percentile latency / QoS per pair', 'QoS violations per pair', 'Run provenance', 'Ours beside the paper', 'a100-2in7-qos', 'QoS targets and loads', 'Res50+VGG16']) {
    assert.ok(html.includes(text), `HTML has '${text}'`);
  }
  const pngs = [...md.matchAll(/!\[[^\]]*\]\(([^)]+\.png)\)/g)].map((m) => m[1]!);
  assert.equal(pngs.length, 5);
  for (const p of pngs) assert.ok(existsSync(join(out, decodeURI(p))), `${p} exists`);
  assert.equal(runCli(['report', join(root, 'nothing-here'), '--out', join(root, 'r3')]).code, 2);
});
