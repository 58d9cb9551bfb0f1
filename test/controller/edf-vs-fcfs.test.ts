import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateTrace, zooOperatorCounts, zooServices } from '../../src/controller/load.js';
import { MemoryRunLog } from '../../src/controller/runlog.js';
import { simulateServing } from '../../src/controller/simulate.js';
import type { TraceQuery } from '../../src/controller/types.js';
import { query } from './helpers.js';

const ops = { a: 10, b: 10 };
const tenMs = (): number => 10;

test('with per-model QoS, EDF serves the urgent query first where FCFS makes it late', async () => {
  // a1 runs 0..10. a2 (QoS 200) arrives before b1 (QoS 20, deadline 22).
  const trace: TraceQuery[] = [query('a1', 'a', 0, 0, 200), query('a2', 'a', 0, 1, 200), query('b1', 'b', 1, 2, 20)];
  const run = async (policy: 'fcfs' | 'edf') => {
    const log = new MemoryRunLog();
    const { summary } = await simulateServing({ policy, trace, operatorCounts: ops, latency: tenMs, log });
    return { summary, byId: new Map(log.queries.map((r) => [r.id, r])) };
  };
  const fcfs = await run('fcfs');
  const edf = await run('edf');
  assert.equal(fcfs.byId.get('b1')?.status, 'late');
  assert.equal(fcfs.byId.get('b1')?.latencyMs, 28);
  assert.equal(edf.byId.get('b1')?.status, 'ok');
  assert.equal(edf.byId.get('b1')?.latencyMs, 18);
  assert.equal(fcfs.summary.late, 1);
  assert.equal(edf.summary.late, 0);
});

test('with one QoS for all, EDF and FCFS give the same run; with per-model QoS they differ', async () => {
  const services = zooServices(['resnet50', 'vgg16']);
  const latency = (): number => 9;
  const run = async (policy: 'fcfs' | 'edf', qos: number | Record<string, number>) => {
    const trace = generateTrace({ services, loadQps: 120, queries: 150, seed: 4, qos });
    const log = new MemoryRunLog();
    await simulateServing({ policy, trace, operatorCounts: zooOperatorCounts(), latency, log });
    return log.queries.map((r) => [r.id, r.finishMs]);
  };
  assert.deepEqual(await run('fcfs', 100), await run('edf', 100));
  assert.notDeepEqual(await run('fcfs', { resnet50: 300, vgg16: 40 }), await run('edf', { resnet50: 300, vgg16: 40 }));
});
