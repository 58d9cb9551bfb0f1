import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import type { GroupMember, LatencyModel } from '../../src/controller/index.js';
import { loadInferenceService } from '../../src/serve/index.js';
import { baseUrl, binaryInferBody, counterValues, getJson, inferBody, postJson, seededInputs, startTestServer, tinyZoo } from './helpers.js';

test('a full queue answers 429 at once and every request is accounted for', async () => {
  const zoo = await tinyZoo();
  const server = await startTestServer({ maxQueue: 1, batchSizes: [16] });
  const url = baseUrl(server);
  try {
    const inputs = seededInputs(zoo.models[0]!.manifest, 16, 0);
    const body = JSON.stringify(inferBody(inputs));
    const n = 12;
    const replies = await Promise.all(Array.from({ length: n }, () => postJson(`${url}/v2/models/resnet50/infer`, body)));
    const ok = replies.filter((r) => r.status === 200).length;
    const rejected = replies.filter((r) => r.status === 429);
    assert.equal(ok + rejected.length, n, `statuses: ${replies.map((r) => r.status).join(',')}`);
    assert.ok(ok >= 1 && rejected.length >= 1, `ok ${ok}, rejected ${rejected.length}`);
    assert.ok(rejected.every((r) => /queries are queued \(limit 1\)/.test(String(r.json.error))));
    const metrics = counterValues(await (await fetch(`${url}/metrics`)).text(), 'abacus_requests_total');
    assert.equal(metrics.get('model="resnet50",outcome="rejected"'), rejected.length);
    assert.equal(metrics.get('model="resnet50",outcome="ok"') ?? 0, ok);
    const status = server.status();
    assert.equal(status.queue?.rejected['queue-full'], rejected.length);
    assert.equal(status.queue?.issued, ok);
  } finally {
    const summary = await server.drain();
    assert.equal(summary.completed + summary.dropped + summary.failed, summary.issued);
  }
});

test('a request predicted to miss its QoS is answered 429 at once; with room it is served', async () => {
  const zoo = await tinyZoo();
  const slow: LatencyModel = { predictMs: (groups: readonly (readonly GroupMember[])[]) => Float64Array.from(groups, () => 5_000) };
  const server = await startTestServer({ policy: 'fcfs', latencyModel: slow, qos: 1000, grpc: { host: '127.0.0.1', port: 0 } });
  const url = baseUrl(server);
  const client = new (loadInferenceService())(`127.0.0.1:${server.grpcAddress!.port}`, grpc.credentials.createInsecure());
  try {
    const inputs = seededInputs(zoo.models[0]!.manifest, 1, 0);
    const t0 = performance.now();
    const r = await postJson(`${url}/v2/models/resnet50/infer`, inferBody(inputs, { qos_ms: 100 }));
    assert.equal(r.status, 429);
    // the prediction counts the time the request already spent being read and parsed
    assert.match(String(r.json.error), /predicted to finish in 50\d\d\.\d ms, beyond its QoS of 100 ms/);
    assert.ok(performance.now() - t0 < 2000, 'answered at once');
    // a QoS above the model's default, in the body only: admission before the body uses the default (1000 ms) and refuses it
    // (5000 ms of compute, plus the front end's expected delays: the first request's reading and parsing)
    const early = await postJson(`${url}/v2/models/resnet50/infer`, inferBody(inputs, { qos_ms: 60_000 }));
    assert.equal(early.status, 429);
    assert.match(String(early.json.error), /predicted to finish in at least 50\d\d\.\d ms, beyond its QoS of 1000 ms \(decided before reading the body\)/);
    // with the header too, it is admitted and served
    const served = await postJson(`${url}/v2/models/resnet50/infer`, inferBody(inputs, { qos_ms: 60_000 }), { 'abacus-qos-ms': '60000' });
    assert.equal(served.status, 200);
    const bad = await postJson(`${url}/v2/models/resnet50/infer`, inferBody(inputs, { qos_ms: -5 }), { 'abacus-qos-ms': '60000' });
    assert.equal(bad.status, 400);
    const badHeader = await postJson(`${url}/v2/models/resnet50/infer`, inferBody(inputs), { 'abacus-qos-ms': 'soon' });
    assert.equal(badHeader.status, 400);
    assert.match(String(badHeader.json.error), /header abacus-qos-ms must be a positive number of ms/);
    // over gRPC the same rejection is RESOURCE_EXHAUSTED
    const code = await new Promise<number>((resolve) => {
      const call = (client as unknown as Record<string, (req: unknown, cb: (err: grpc.ServiceError | null) => void) => void>).ModelInfer!;
      call.call(client, {
        model_name: 'resnet50', parameters: { qos_ms: { double_param: 100 } },
        inputs: inputs.map((i) => ({ name: i.name, datatype: 'FP32', shape: i.shape })),
        raw_input_contents: inputs.map((i) => Buffer.from(i.data.buffer, i.data.byteOffset, i.data.byteLength)),
      }, (err) => resolve(err ? err.code : grpc.status.OK));
    });
    assert.equal(code, grpc.status.RESOURCE_EXHAUSTED);
  } finally {
    client.close();
    const summary = await server.drain();
    assert.equal(summary.issued, 1, 'the rejected request was never issued');
  }
});

test('a killed service host is restarted: its request gets 503, later requests succeed', async () => {
  const zoo = await tinyZoo();
  const server = await startTestServer();
  const url = baseUrl(server);
  try {
    const inputs = seededInputs(zoo.models[0]!.manifest, 1, 0);
    assert.equal((await postJson(`${url}/v2/models/resnet50/infer`, inferBody(inputs))).status, 200);
    server.executor.crashHost('resnet50', 'exit');
    for (let i = 0; i < 200 && server.executor.isAlive('resnet50'); i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(server.executor.isAlive('resnet50'), false);
    assert.equal((await getJson(`${url}/v2/health/ready`)).status, 503, 'not ready while a host is down');
    const failed = await postJson(`${url}/v2/models/resnet50/infer`, inferBody(inputs));
    assert.equal(failed.status, 503);
    assert.match(String(failed.json.error), /the query failed: .*service resnet50/);
    // the other service is unaffected
    const bert = zoo.models.find((m) => m.manifest.name === 'bert')!;
    assert.equal((await postJson(`${url}/v2/models/bert/infer`, inferBody(seededInputs(bert.manifest, 1, 8)))).status, 200);
    let ready = 503;
    for (let i = 0; i < 400 && ready !== 200; i++) {
      await new Promise((r) => setTimeout(r, 25));
      ready = (await getJson(`${url}/v2/health/ready`)).status;
    }
    assert.equal(ready, 200, 'ready again once the host was restarted');
    const again = await postJson(`${url}/v2/models/resnet50/infer`, inferBody(inputs));
    assert.equal(again.status, 200);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /abacus_host_restarts_total\{model="resnet50"\} 1/);
    assert.equal(server.status().restarts, 1);
    // requests in flight when a host dies are answered (200 or 503), none hangs
    const burst = Array.from({ length: 4 }, () => postJson(`${url}/v2/models/resnet50/infer`, inferBody(inputs)));
    server.executor.crashHost('resnet50', 'exit');
    const statuses = (await Promise.all(burst)).map((r) => r.status);
    assert.ok(statuses.every((s) => s === 200 || s === 503), statuses.join(','));
  } finally {
    const summary = await server.drain();
    assert.ok(summary.failed >= 1);
    assert.equal(summary.completed + summary.dropped + summary.failed, summary.issued);
  }
});

test('a request whose client went away is dropped, and counted as cancelled', async () => {
  const zoo = await tinyZoo();
  const server = await startTestServer({ batchSizes: [32] });
  const url = baseUrl(server);
  try {
    // binary bodies: submitting is quick, running is not (fcfs, one batch-32 query after another)
    const { body, headerLength } = binaryInferBody(seededInputs(zoo.models[0]!.manifest, 32, 0), ['output']);
    const n = 24;
    const controllers = Array.from({ length: n }, () => new AbortController());
    const replies = controllers.map((c) =>
      fetch(`${url}/v2/models/resnet50/infer`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) }, signal: c.signal })
        .then(async (r) => (await r.arrayBuffer(), r.status), () => 'aborted' as const),
    );
    for (let i = 0; i < 1000 && (server.status().queue?.submitted ?? 0) < n; i++) await new Promise((r) => setTimeout(r, 2));
    assert.equal(server.status().queue?.submitted, n);
    for (const c of controllers.slice(n - 8)) c.abort();
    const statuses = await Promise.all(replies);
    assert.deepEqual(statuses.slice(n - 8), new Array(8).fill('aborted'));
    for (let i = 0; i < 500 && (server.status().queue?.queued ?? 1) > 0; i++) await new Promise((r) => setTimeout(r, 5));
    const metrics = counterValues(await (await fetch(`${url}/metrics`)).text(), 'abacus_requests_total');
    const cancelled = metrics.get('model="resnet50",outcome="cancelled"') ?? 0;
    const ok = metrics.get('model="resnet50",outcome="ok"') ?? 0;
    assert.ok(cancelled >= 1, `cancelled ${cancelled}`);
    assert.equal(ok + cancelled, n, 'an aborted request already running completes (its answer goes nowhere), the others are dropped');
    const summary = await server.drain();
    assert.equal(summary.issued, n);
    assert.equal(summary.dropped, cancelled);
    assert.equal(summary.completed, ok);
  } finally {
    await server.drain();
  }
});
