import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { InputError } from '../../src/common/errors.js';
import { openRunLog, summarizeRun, type RunMeta } from '../../src/controller/runlog.js';
import { simulateServing } from '../../src/controller/simulate.js';
import type { QueryLogRow, QueryStatus } from '../../src/controller/types.js';
import { query } from './helpers.js';

function row(id: string, status: QueryStatus, arrivalMs: number, latencyMs: number | null, qosMs = 100, model = 'a'): QueryLogRow {
  const finishMs = latencyMs === null ? arrivalMs + 1 : arrivalMs + latencyMs;
  return { id, model, batch: 4, seq: 0, qosMs, arrivalMs, startMs: arrivalMs, finishMs, latencyMs, status, groups: 1, searchSteps: 0, policy: 'fcfs' };
}
const meta: RunMeta = { policy: 'fcfs', ways: 2, thldMs: 5, abandon: true, decisionsUs: [1, 2, 3, 100], plansReused: 1, groupSearchSteps: [0, 2, 1] };

test('summary metrics follow their definitions', () => {
  const rows = [
    row('1', 'ok', 0, 50),
    row('2', 'ok', 100, 80),
    row('3', 'late', 200, 150),
    row('4', 'dropped', 300, null),
    row('5', 'failed', 400, null, 100, 'b'),
    row('6', 'ok', 1000, 20, 10, 'b'),
  ];
  rows[5] = { ...rows[5] as QueryLogRow, status: 'late' }; // 20 ms against a 10-ms QoS
  const s = summarizeRun(rows, meta);
  assert.equal(s.issued, 6);
  assert.equal(s.completed, 4);
  assert.equal(s.late, 2);
  assert.equal(s.dropped, 1);
  assert.equal(s.failed, 1);
  assert.equal(s.violationRatio, 4 / 6);
  assert.equal(s.durationMs, 1020); // first arrival 0 .. last finish 1020
  assert.ok(Math.abs(s.goodputQps - 2 / 1.02) < 1e-9);
  assert.ok(Math.abs(s.throughputQps - 4 / 1.02) < 1e-9);
  assert.equal(s.p50Ms, 65); // latencies 20, 50, 80, 150
  assert.ok(Math.abs((s.p99Ms as number) - (80 + 70 * 0.97)) < 1e-9);
  // latency / QoS: 0.5, 0.8, 1.5, 2.0 -> p99 interpolates between 1.5 and 2.0.
  assert.ok(Math.abs((s.p99OverQos as number) - (1.5 + 0.5 * 0.97)) < 1e-9);
  assert.equal(s.decisionP50Us, 2.5);
  assert.equal(s.searchStepsMax, 2);
  assert.equal(s.groups, 3);
  assert.deepEqual(Object.keys(s.perModel), ['a', 'b']);
  assert.equal(s.perModel.b?.failed, 1);
  assert.equal(s.perModel.b?.violationRatio, 1);
  const empty = summarizeRun([], meta);
  assert.equal(empty.issued, 0);
  assert.equal(empty.p99Ms, null);
  assert.equal(empty.violationRatio, 0);
});

test('run logs on files: NDJSON and CSV rows read back, groups as NDJSON; an existing log is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'abacus-runlog-'));
  try {
    const trace = [query('x', 'a', 0, 0, 100), query('y', 'b', 1, 0, 5), query('z', 'a', 0, 3, 100)];
    for (const format of ['ndjson', 'csv'] as const) {
      const path = join(dir, `queries.${format}`);
      const groupsPath = join(dir, `groups-${format}.ndjson`);
      const log = openRunLog({ path, format, groupsPath });
      const { summary } = await simulateServing({ policy: 'fcfs', trace, operatorCounts: { a: 3, b: 3 }, latency: () => 4, log });
      // The end of the run forces a flush: every row is on disk before close().
      const text = readFileSync(path, 'utf8');
      log.close();
      const rows = format === 'ndjson'
        ? text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
        : (parse(text, { columns: true }) as Record<string, unknown>[]);
      assert.equal(rows.length, summary.issued);
      const y = rows.find((r) => r.id === 'y') as Record<string, unknown>;
      assert.equal(y.status, 'late');
      assert.equal(Number(format === 'csv' ? y.latency_ms : y.latencyMs), 8);
      const groups = readFileSync(groupsPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { members: unknown[] });
      assert.equal(groups.length, 3);
      if (format === 'csv') assert.match(text, /^id,model,batch,seq,qos_ms,arrival_ms,start_ms,finish_ms,latency_ms,status,groups,search_steps,policy\n/);
      assert.throws(() => openRunLog({ path, format }), InputError);
      const appended = openRunLog({ path, format, append: true });
      appended.close();
      assert.equal(readFileSync(path, 'utf8'), text, 'appending writes no second header');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
