// `abacus load` as a perf_analyzer-class client: gRPC as well as HTTP, closed-loop concurrency measured in
// windows until stable, an open-loop request-rate level, real input data (perf_analyzer's JSON layout),
// and the MLPerf-style verdict. Against a real server on the tiny models.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadTritonService, type OnlineServer, type RemoteModel } from '../../src/serve/index.js';
import { PayloadSource, type LoadRecord } from '../../src/serve/load.js';
import { parseInputData } from '../../src/serve/inputdata.js';
import { isStable, measureLevel, parseRange, verdictOf, type WindowMeasure } from '../../src/serve/perf.js';
import { grpcModelMetadata, grpcTransport, httpTransport } from '../../src/serve/transport.js';
import { runCli, startCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tiny-model.js';
import { baseUrl, seededInputs, startTestServer, tinyZoo } from './helpers.js';

let server: OnlineServer;
let target: string;

before(async () => {
  server = await startTestServer({ grpc: { host: '127.0.0.1', port: 0 }, qos: 5000 });
  target = `127.0.0.1:${server.grpcAddress!.port}`;
});

after(async () => {
  await server?.drain();
});

const window = (throughputQps: number, avgMs: number): WindowMeasure => ({
  trial: 1, startMs: 0, endMs: 1000, ok: 1, late: 0, rejected: 0, failed: 0, throughputQps, avgMs, p50Ms: avgMs, p90Ms: avgMs, p95Ms: avgMs, p99Ms: avgMs, serverQueueAvgMs: null, serverTotalAvgMs: null,
});
const record = (latencyMs: number | null, outcome: LoadRecord['outcome']): LoadRecord => ({
  id: 'q', model: 'm', batch: 1, seq: 0, qosMs: 10, sentMs: 0, finishMs: 1, latencyMs, outcome, httpStatus: 200, grpcCode: null, serverTotalMs: null, serverQueueMs: null, error: null,
});

test('stability: the last 3 windows within the percentage, for throughput and latency', () => {
  assert.equal(isStable([window(100, 10), window(104, 10.5)], 10), false, 'fewer than 3 windows');
  assert.equal(isStable([window(50, 30), window(100, 10), window(104, 10.5), window(98, 10.2)], 10), true, 'only the last 3 count');
  assert.equal(isStable([window(100, 10), window(104, 10.5), window(125, 10.2)], 10), false, 'throughput moved 25 %');
  assert.equal(isStable([window(100, 10), window(101, 13), window(100, 10)], 10), false, 'latency moved 30 %');
  assert.equal(isStable([window(100, 10), window(101, 13), window(100, 10)], 40), true);
  assert.equal(isStable([window(0, 10), window(0, 10), window(0, 10)], 10), false, 'nothing answered is not stable');
});

test('verdict: VALID only with duration, query count and the tail bound met; a failed request is an infinite latency', () => {
  const ok = Array.from({ length: 100 }, (_, i) => record(1 + i / 100, 'ok'));
  const valid = verdictOf(ok, 20, { minDurationS: 10, minQueries: 100, latencyBoundMs: 5, boundPercentile: 99 }, true);
  assert.equal(valid.result, 'VALID');
  assert.ok(valid.latencyBound.measuredMs! < 2);
  const short = verdictOf(ok, 5, { minDurationS: 10, minQueries: 100, latencyBoundMs: 5, boundPercentile: 99 }, true);
  assert.equal(short.result, 'INVALID');
  assert.match(short.reasons.join(), /min duration not satisfied/);
  assert.match(verdictOf(ok, 20, { minDurationS: 10, minQueries: 101, latencyBoundMs: 5, boundPercentile: 99 }, true).reasons.join(), /min queries not satisfied/);
  const withFailures = [...ok.slice(0, 98), record(null, 'failed'), record(null, 'rejected')];
  const bad = verdictOf(withFailures, 20, { minDurationS: 10, minQueries: 100, latencyBoundMs: 5, boundPercentile: 99 }, true);
  assert.equal(bad.result, 'INVALID');
  assert.equal(bad.latencyBound.measuredMs, null);
  assert.match(bad.reasons.join(), /infinite/);
  assert.match(verdictOf(ok, 20, { minDurationS: 10, minQueries: 100, latencyBoundMs: 5, boundPercentile: 99 }, false).reasons.join(), /stable/);
  assert.deepEqual(parseRange('1:4:2', 'x', true), [1, 3]);
  assert.deepEqual(parseRange('3', 'x', true), [3]);
  assert.throws(() => parseRange('4:1', 'x', true), /start\[:end\[:step\]\]/);
  assert.throws(() => parseRange('1.5:2', 'x', true), /integers/);
});

test('input data in perf_analyzer JSON: flat, content+shape, b64; clear errors', async () => {
  const zoo = await tinyZoo();
  const m = zoo.models[0]!.manifest;
  const model: RemoteModel = { name: m.name, modelId: m.id, qosMs: 100, inputs: [{ name: m.inputs[0]!.name, datatype: 'FP32', shape: [-1, 3, 32, 32], dims: ['batch', null, null, null] }], outputs: [], hasSeq: false };
  const n = 3 * 32 * 32;
  const values = Array.from({ length: 2 * n }, (_, i) => (i % 7) / 7);
  const [flat, shaped, b64] = parseInputData({ data: [
    { input: values },
    { input: { content: values, shape: [2, 3, 32, 32] } },
    { input: { b64: Buffer.from(Float32Array.from(values.slice(0, n)).buffer).toString('base64') } },
  ] }, model);
  assert.equal(flat!.batch, 2, 'the batch dim solved from the number of values');
  assert.deepEqual(shaped!.tensors[0]!.shape, [2, 3, 32, 32]);
  assert.equal(b64!.batch, 1);
  assert.deepEqual(new Float32Array(b64!.tensors[0]!.bytes.buffer.slice(b64!.tensors[0]!.bytes.byteOffset)), Float32Array.from(values.slice(0, n)));
  assert.throws(() => parseInputData({ data: [{ nope: [1] }] }, model), /has no input 'nope'/);
  assert.throws(() => parseInputData({ data: [{}] }, model), /no data for input 'input'/);
  assert.throws(() => parseInputData({ data: [{ input: [1, 2, 3] }] }, model), /do not fill/);
  assert.throws(() => parseInputData({ data: [{ input: { content: values, shape: [2, 4, 32, 32] } }] }, model), /dim 1 is 4/);
  assert.throws(() => parseInputData({ inputs: [] }, model), /expected \{"data"/);
});

test('closed loop over gRPC: concurrency 2 measured in windows, every request accounted, the input data sent (server statistics see its batch of 3)', async () => {
  const zoo = await tinyZoo();
  const transport = grpcTransport(target);
  try {
    const model = await grpcModelMetadata(transport.client, 'resnet50', 0);
    assert.equal(model.qosMs, 5000, 'the QoS from the metadata properties');
    assert.equal(model.modelId, zoo.models[0]!.manifest.id);
    const input = seededInputs(zoo.models[0]!.manifest, 3, 0)[0]!;
    const data = parseInputData({ data: [{ [input.name]: { content: Array.from(input.data), shape: input.shape } }] }, model);
    const models = new Map([[model.name, model]]);
    const result = await measureLevel({ mode: 'concurrency', concurrency: 2 }, {
      transport, models, payloads: new PayloadSource(models, 0, new Map([[model.name, data]])), pick: () => ({ model: 'resnet50', batch: 1, seq: 0, qosMs: 5000 }),
      windowMs: 300, stabilityPct: 60, maxTrials: 5, timeoutMs: 10_000, seed: 0, verdict: { minDurationS: 0.5, minQueries: 5, latencyBoundMs: 5000, boundPercentile: 99 },
    });
    assert.ok(result.windows.length >= 3 && result.windows.length <= 5);
    const r = result.records;
    assert.ok(r.length > 5);
    assert.equal(r.filter((x) => x.outcome === 'ok' || x.outcome === 'late').length + r.filter((x) => x.outcome === 'rejected' || x.outcome === 'failed').length, r.length);
    assert.equal(r.filter((x) => x.outcome === 'failed').length, 0, JSON.stringify(r.find((x) => x.error)));
    assert.ok(r.every((x) => x.batch === 3 && x.grpcCode === grpc.status.OK));
    assert.ok(result.measured.throughputQps > 0 && result.measured.avgMs! > 0);
    assert.equal(result.verdict.result, result.stable ? 'VALID' : 'INVALID');
    const triton = new (loadTritonService())(target, grpc.credentials.createInsecure());
    try {
      const stats = await new Promise<{ model_stats: { batch_stats: { batch_size: number; compute_infer: { count: number } }[] }[] }>((resolve, reject) =>
        (triton as unknown as { ModelStatistics: (req: unknown, cb: (e: Error | null, v: never) => void) => void }).ModelStatistics({ name: 'resnet50' }, (e, v) => (e ? reject(e) : resolve(v))));
      assert.equal(stats.model_stats[0]!.batch_stats.find((b) => b.batch_size === 3)?.compute_infer.count, r.length, 'the server ran every request on the batch-3 input');
    } finally {
      triton.close();
    }
  } finally {
    transport.close();
  }
});

test('open-loop request rate over HTTP: a level measured until stable or out of trials, verdict against a tight bound is INVALID', async () => {
  const zoo = await tinyZoo();
  const url = new URL(baseUrl(server));
  const transport = httpTransport(url);
  try {
    const m = zoo.models[0]!.manifest;
    const model: RemoteModel = { name: m.name, modelId: m.id, qosMs: 5000, inputs: [{ name: m.inputs[0]!.name, datatype: 'FP32', shape: [-1, 3, 32, 32], dims: ['batch', null, null, null] }], outputs: [{ name: m.outputs[0]!.name, datatype: 'FP32', shape: [-1, 10] }], hasSeq: false };
    const models = new Map([[model.name, model]]);
    const result = await measureLevel({ mode: 'rate', rateQps: 40, arrivals: 'constant' }, {
      transport, models, payloads: new PayloadSource(models, 0), pick: () => ({ model: 'resnet50', batch: 1, seq: 0, qosMs: 5000 }),
      windowMs: 300, stabilityPct: 50, maxTrials: 4, timeoutMs: 10_000, seed: 1, verdict: { minDurationS: 0, minQueries: 1, latencyBoundMs: 0.001, boundPercentile: 99 },
    });
    assert.ok(result.records.length >= 20, `${result.records.length} requests at 40/s for >= 0.9 s`);
    assert.ok(result.records.every((r) => r.httpStatus === 200 && r.outcome !== 'failed'));
    assert.equal(result.verdict.result, 'INVALID');
    assert.match(result.verdict.reasons.join(), /latency bound not met/);
  } finally {
    transport.close();
  }
});

test('the CLI: --protocol grpc --concurrency-range with progress on stderr, perf.csv; bad ranges exit 2', async () => {
  const dir = tempDir();
  const child = startCli(['load', '--protocol', 'grpc', '--url', target, '--models', 'resnet50', '--concurrency-range', '1:2', '--measurement-interval', '250', '--max-trials', '3', '--stability-percentage', '1000', '--batch-sizes', '1', '--min-duration', '0', '--min-query-count', '1', '--json', '--out', dir]);
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0, err);
  const summary = JSON.parse(out) as { protocol: string; levels: { value: number; stable: boolean; requests: number; verdict: { result: string } }[] };
  assert.equal(summary.protocol, 'grpc');
  assert.deepEqual(summary.levels.map((l) => l.value), [1, 2]);
  assert.ok(summary.levels.every((l) => l.stable && l.verdict.result === 'VALID' && l.requests > 0), out);
  assert.match(err, /concurrency 1 \(1\/2\)/);
  assert.match(err, /window 3: [\d.]+ infer\/s.*\(stable\)/);
  const csv = readFileSync(join(dir, 'perf.csv'), 'utf8').trim().split('\n');
  assert.match(csv[0]!, /^Concurrency,Inferences\/Second,/);
  assert.equal(csv.length, 3);
  const requests = readFileSync(join(dir, 'requests.csv'), 'utf8').trim().split('\n');
  assert.equal(requests.length - 1, summary.levels.reduce((a, l) => a + l.requests, 0), 'every request of every level is in requests.csv');
  const bad = runCli(['load', '--url', 'http://127.0.0.1:1', '--concurrency-range', '4:1']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--concurrency-range must be start\[:end\[:step\]\]/);
  const two = runCli(['load', '--url', 'http://127.0.0.1:1', '--concurrency-range', '1', '--rate', '3', '--duration', '1']);
  assert.equal(two.code, 2);
  assert.match(two.stderr, /give one of/);
  const file = join(dir, 'bad.json');
  writeFileSync(file, '{"data": [{"nope": [1]}]}');
  // (not runCli: its spawnSync would block this process, which serves the metadata the CLI asks for)
  const badData = startCli(['load', '--url', baseUrl(server), '--models', 'resnet50', '--rate', '5', '--duration', '0.2', '--input-data', file]);
  let badErr = '';
  badData.stderr?.on('data', (c: Buffer) => (badErr += c.toString('utf8')));
  const [badCode] = (await once(badData, 'exit')) as [number | null];
  assert.equal(badCode, 2);
  assert.match(badErr, /has no input 'nope'/);
});
