// End to end, as a user runs them: `experiments/7.7_multiway/run.sh --quick` (tiny models, CPU, few ways and
// queries), `abacus report` on its results, `abacus quickstart`, and 7.5_mig without MIG instances.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { ROOT, runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'abacus-exp-quick-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, args: string[], env: NodeJS.ProcessEnv = process.env): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', [join(ROOT, 'experiments', name, 'run.sh'), ...args], { cwd: ROOT, encoding: 'utf8', env, timeout: 170_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function nonEmpty(path: string): void {
  assert.ok(existsSync(path), `${path} exists`);
  assert.ok(statSync(path).size > 0, `${path} is not empty`);
}

interface SummaryRow {
  study: string;
  policy: string;
  qosMs: number;
  issued: number;
  completed: number;
  ok: number;
  late: number;
  dropped: number;
  failed: number;
  violationPct: number;
  p99OverQos: number | null;
  goodputQps: number;
  decisionP50Us: number | null;
  ways: number;
}

test('7.7_multiway --quick runs end to end: raw logs, qos.json, summary, figures, report', { timeout: 180_000 }, () => {
  const run = join(dir, 'r77');
  const r = script('7.7_multiway', ['--quick', '--ways-list', '1,4', '--queries', '60', '--samples', '6', '--out', run]);
  assert.equal(r.code, 0, r.stderr);
  for (const f of ['run.json', 'qos.json', 'summary.csv', 'summary.json', 'logs/steps.tsv']) nonEmpty(join(run, f));
  for (const f of ['decision_time', 'ways_outcome']) for (const ext of ['svg', 'png', 'vl.json']) nonEmpty(join(run, 'figures', `${f}.${ext}`));

  const run_ = JSON.parse(readFileSync(join(run, 'run.json'), 'utf8')) as { section: string; mode: string; provenance: { gitCommit: string | null; seed: number } };
  assert.equal(run_.section, '7.7_multiway');
  assert.equal(run_.mode, 'quick');
  assert.equal(run_.provenance.seed, 0);
  const qos = JSON.parse(readFileSync(join(run, 'qos.json'), 'utf8')) as { combinations: Record<string, { qosMs: number; loadQosQps: number }> };
  const target = qos.combinations.resnet152_vgg19!;
  assert.ok(target.qosMs > 0 && target.loadQosQps > 0);

  const summary = JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8')) as { serving: SummaryRow[]; provenance: unknown };
  assert.ok(summary.provenance);
  assert.deepEqual(summary.serving.map((s) => s.ways).sort(), [1, 4]);
  for (const s of summary.serving) {
    assert.equal(s.policy, 'abacus');
    assert.equal(s.issued, 60);
    assert.equal(s.issued, s.completed + s.dropped + s.failed, 'issued = completed + dropped + failed');
    assert.equal(s.completed, s.ok + s.late);
    assert.equal(s.violationPct, ((s.late + s.dropped + s.failed) / s.issued) * 100);
    assert.equal(s.qosMs, target.qosMs, 'served and normalised with the QoS of qos.json');
    for (const v of [s.violationPct, s.goodputQps, s.decisionP50Us, s.p99OverQos]) assert.ok(v !== null && Number.isFinite(v), `finite: ${String(v)}`);
    const queries = parse(readFileSync(join(run, 'raw', 'serve', s.study, 'resnet152_vgg19', 'abacus.queries.csv'), 'utf8'), { columns: true }) as Array<{ qos_ms: string; status: string }>;
    assert.equal(queries.length, s.issued);
    assert.ok(queries.every((q) => Number(q.qos_ms) === target.qosMs));
    assert.equal(queries.filter((q) => q.status === 'dropped').length, s.dropped);
  }
  const csv = parse(readFileSync(join(run, 'summary.csv'), 'utf8'), { columns: true }) as Array<Record<string, string>>;
  assert.equal(csv.length, 2);
  for (const row of csv) for (const col of ['issued', 'violation_pct', 'goodput_qps', 'p99_over_qos']) assert.ok(Number.isFinite(Number(row[col])), `${col} = ${row[col]}`);
  const steps = readFileSync(join(run, 'logs', 'steps.tsv'), 'utf8').trim().split('\n');
  assert.ok(steps.every((l) => l.split('\t')[2] === '0'));

  const report = join(dir, 'report77');
  const rep = runCli(['report', run, '--out', report]);
  assert.equal(rep.code, 0, rep.stderr);
  const html = readFileSync(join(report, 'report.html'), 'utf8');
  assert.equal((html.match(/<svg role="img"/g) ?? []).length, 2);
  for (const text of ['Decision time versus search ways', 'Runs by search ways', 'decision time at 1 way', 'Run provenance']) assert.ok(html.includes(text), text);
  assert.ok(existsSync(join(report, 'report.md')));

  const again = script('7.7_multiway', ['--quick', '--out', run]);
  assert.notEqual(again.code, 0, 'a used results folder is refused');
  assert.match(again.stderr, /not empty/);
});

test('abacus quickstart: every policy on one trace, a table on stdout, a report; a used folder is refused', { timeout: 150_000 }, () => {
  const out = join(dir, 'qs');
  const r = runCli(['quickstart', '--out', out, '--queries', '80', '--samples', '6', '--reps', '3'], { timeoutMs: 150_000 });
  assert.equal(r.code, 0, r.stderr);
  for (const p of ['fcfs', 'sjf', 'edf', 'abacus', 'concurrent']) assert.match(r.stdout, new RegExp(`^${p} +80 `, 'm'));
  assert.match(r.stderr, /quickstart \[7\/7\]/);
  for (const f of ['report/report.html', 'report/report.md', 'figures/policies.png', 'figures/policies.svg', 'summary.csv', 'qos.json', 'run.json']) nonEmpty(join(out, f));
  const again = runCli(['quickstart', '--out', out]);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /not empty/);
});

test('7.5_mig without MIG instances says so, exits 3 and writes nothing', () => {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const fake = join(bin, 'nvidia-smi');
  writeFileSync(fake, '#!/bin/sh\necho "GPU 0: NVIDIA H200 (UUID: GPU-0000)"\n');
  chmodSync(fake, 0o755);
  const out = join(dir, 'mig');
  const r = script('7.5_mig', ['--out', out], { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` });
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /no MIG instances/);
  assert.ok(!existsSync(out) || readdirSync(out).length === 0);
});
