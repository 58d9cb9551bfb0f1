import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/common/errors.js';
import { DEFAULT_BATCH_SIZES, DEFAULT_SEQ_LENS } from '../../src/zoo/catalog.js';
import { formatTraceCsv, generateTrace, parseQosSpec, parseTraceCsv, readTraceCsv, writeTraceCsv, zooServices } from '../../src/controller/load.js';

const services = zooServices(['resnet50', 'bert']);

test('the same seed gives the same trace; another seed a different one', () => {
  const a = generateTrace({ services, loadQps: 80, queries: 300, seed: 5, qos: 100 });
  const b = generateTrace({ services, loadQps: 80, queries: 300, seed: 5, qos: 100 });
  const c = generateTrace({ services, loadQps: 80, queries: 300, seed: 6, qos: 100 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.map((q) => q.arrivalMs), c.map((q) => q.arrivalMs));
});

test('poisson arrivals: aggregate rate near the load, first at 0, increasing; draws from the configured sets', () => {
  const trace = generateTrace({ services, loadQps: 200, queries: 4000, seed: 1, qos: { resnet50: 50, bert: 30 } });
  assert.equal(trace[0]?.arrivalMs, 0);
  for (let i = 1; i < trace.length; i++) assert.ok((trace[i]?.arrivalMs as number) >= (trace[i - 1]?.arrivalMs as number));
  const spanS = (trace[trace.length - 1]?.arrivalMs as number) / 1000;
  const rate = (trace.length - 1) / spanS;
  assert.ok(Math.abs(rate - 200) < 200 * 0.06, `rate ${rate}`);
  const gaps = trace.slice(1).map((q, i) => q.arrivalMs - (trace[i]?.arrivalMs as number));
  const cv = Math.sqrt(gaps.reduce((s, g) => s + (g - 5) ** 2, 0) / gaps.length) / 5;
  assert.ok(cv > 0.9 && cv < 1.1, `exponential gaps have CV ~1, got ${cv}`);
  const perModel = new Map<string, number>();
  for (const q of trace) {
    perModel.set(q.model, (perModel.get(q.model) ?? 0) + 1);
    assert.ok(DEFAULT_BATCH_SIZES.includes(q.batch));
    if (q.model === 'bert') {
      assert.ok(DEFAULT_SEQ_LENS.includes(q.seq));
      assert.equal(q.qosMs, 30);
      assert.equal(q.modelId, 6);
    } else {
      assert.equal(q.seq, 0);
      assert.equal(q.qosMs, 50);
    }
  }
  assert.ok(Math.abs((perModel.get('bert') as number) / trace.length - 0.5) < 0.04);
  assert.equal(new Set(trace.map((q) => q.id)).size, trace.length);
});

test('traces of one seed at two loads hold the same queries, times scaled', () => {
  const slow = generateTrace({ services, loadQps: 50, queries: 100, seed: 3, qos: 100 });
  const fast = generateTrace({ services, loadQps: 100, queries: 100, seed: 3, qos: 100 });
  assert.deepEqual(slow.map((q) => [q.model, q.batch, q.seq]), fast.map((q) => [q.model, q.batch, q.seq]));
  slow.forEach((q, i) => assert.ok(Math.abs(q.arrivalMs - 2 * (fast[i]?.arrivalMs as number)) < 1e-9));
});

test('constant arrivals are evenly spaced', () => {
  const trace = generateTrace({ services, loadQps: 40, queries: 5, seed: 0, qos: 100, arrivals: 'constant', batchSizes: [2] });
  assert.deepEqual(trace.map((q) => q.arrivalMs), [0, 25, 50, 75, 100]);
  assert.ok(trace.every((q) => q.batch === 2));
});

test('QoS specs: one number or per model; a model without a target is an input error', () => {
  assert.equal(parseQosSpec('100'), 100);
  assert.deepEqual(parseQosSpec('resnet50=50,bert=30'), { resnet50: 50, bert: 30 });
  assert.throws(() => parseQosSpec('resnet50=x'), InputError);
  assert.throws(() => generateTrace({ services, loadQps: 10, queries: 3, seed: 0, qos: { resnet50: 50 } }), InputError);
  assert.throws(() => generateTrace({ services, loadQps: 0, queries: 3, seed: 0, qos: 10 }), InputError);
});

test('trace CSV: round trip, sorting, default QoS, model by id, and errors with line numbers', () => {
  const trace = generateTrace({ services, loadQps: 100, queries: 20, seed: 9, qos: { resnet50: 50, bert: 30 } });
  const dir = mkdtempSync(join(tmpdir(), 'abacus-trace-'));
  try {
    const path = join(dir, 'trace.csv');
    writeTraceCsv(path, trace);
    assert.deepEqual(readTraceCsv(path, services), trace);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.match(formatTraceCsv(trace), /^id,arrival_ms,model,batch,seq,qos_ms\n/);
  const text = 'arrival_ms,model,batch,seq,qos_ms\n20,6,8,16,\n5,resnet50,4,0,70\n';
  const parsed = parseTraceCsv(text, services, { qos: 99, rebase: true });
  assert.deepEqual(parsed.map((q) => [q.arrivalMs, q.model, q.qosMs]), [[0, 'resnet50', 70], [15, 'bert', 99]]);
  assert.throws(() => parseTraceCsv('arrival_ms,model,batch,seq,qos_ms\n1,vgg16,4,0,10\n', services), /trace:2: model 'vgg16'/);
  assert.throws(() => parseTraceCsv('arrival_ms,model,batch,seq,qos_ms\n1,resnet50,4,0,10\n-1,resnet50,4,0,10\n', services), /trace:3: bad arrival_ms/);
  assert.throws(() => parseTraceCsv('arrival_ms,model,batch,seq\n1,resnet50,4,0\n', services), /missing column/);
  assert.throws(() => parseTraceCsv('arrival_ms,model,batch,seq,qos_ms\n1,bert,4,0,10\n', services), /needs a sequence length/);
  assert.throws(() => parseTraceCsv('arrival_ms,model,batch,seq,qos_ms\n1,resnet50,4,0,\n', services), /no default QoS/);
});
