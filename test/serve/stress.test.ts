import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertLoopback, overloadSweep, runAttacks, ATTACK_NAMES } from '../../src/serve/index.js';
import { grpcGarbageFrames, grpcStressTarget } from '../../src/serve/stress.js';
import { peekInferRequestHead } from '../../src/serve/proto-peek.js';
import { baseUrl, startTestServer } from './helpers.js';

const TOKEN = 'stress-test-token-0123456789';

test('abacus stress targets loopback only', () => {
  for (const ok of ['http://127.0.0.1:8000', 'http://localhost:1', 'http://[::1]:9', 'http://127.5.0.1:2']) assertLoopback(new URL(ok));
  for (const bad of ['http://10.0.0.1:8000', 'http://example.com', 'http://0.0.0.0:80', 'http://[::ffff:10.0.0.1]:1']) assert.throws(() => assertLoopback(new URL(bad)), /only targets this machine/, bad);
  assert.equal(grpcStressTarget('127.0.0.1:8001'), '127.0.0.1:8001');
  assert.equal(grpcStressTarget('[::1]:8001'), '[::1]:8001');
  for (const bad of ['10.0.0.1:8001', 'example.com:1', '0.0.0.0:8001']) assert.throws(() => grpcStressTarget(bad), /only targets this machine/, bad);
  assert.throws(() => grpcStressTarget('http://127.0.0.1:8001'), /--grpc must be <host>:<port>/);
});

test('the grpc-garbage messages are bounded and none is a ModelInferRequest one could serve', () => {
  const frames = grpcGarbageFrames('resnet50', 100);
  assert.equal(frames.length, 100);
  assert.ok(frames.every((f) => f.length <= 4096 + 16), 'each at most 4 KiB');
  let wire = 0;
  for (const f of frames) {
    try {
      peekInferRequestHead(f);
    } catch {
      wire++;
    }
  }
  assert.equal(wire, 99, 'all but one are not wire format at their top level; the one left names the model and hides a cut-off input');
  assert.deepEqual(grpcGarbageFrames('resnet50', 3), frames.slice(0, 3), 'seeded: the same messages every run');
});

test('every attack of abacus stress holds against the server (small bounds), and a short sweep accounts for every request', async () => {
  const server = await startTestServer({ maxBodyBytes: 1024 * 1024, maxInflightBodyBytes: 3 * 1024 * 1024, maxConnections: 64, authToken: TOKEN, maxQueue: 8, grpc: { host: '127.0.0.1', port: 0 } });
  const url = new URL(baseUrl(server));
  try {
    const results = await runAttacks(url, { grpc: `127.0.0.1:${server.grpcAddress!.port}`, bounds: { largeBodies: 8, largeBodyBytes: 900 * 1024, slowConnections: 20, floodConnections: 100, grpcGarbageFrames: 40, authToken: TOKEN } });
    assert.deepEqual(results.map((r) => r.name), [...ATTACK_NAMES]);
    for (const r of results) assert.equal(r.verdict, 'pass', `${r.name}: ${r.detail}`);
    assert.match(results.find((r) => r.name === 'connection-flood')!.detail, /refused with 503/);
    assert.match(results.find((r) => r.name === 'grpc-garbage')!.detail, /^40 messages that are not protobuf: 40× INVALID_ARGUMENT; still serving/);
    const [point] = await overloadSweep(url, { rates: [30], durationS: 1, qosMs: 5000, authToken: TOKEN });
    assert.ok(point!.sent > 0);
    assert.equal(point!.ok + point!.late + point!.rejected + point!.failed, point!.sent);
    assert.ok(point!.ok > 0, `ok ${point!.ok} of ${point!.sent}`);
    const lag = point!.clientSendLagMs!;
    assert.ok(lag.p50 >= 0 && lag.p50 <= lag.p99 && lag.p99 <= lag.max && lag.max < 5000, `the client's lag behind its schedule: ${JSON.stringify(lag)}`);
    // the server's own count of the same requests, from its metrics
    assert.equal(point!.server!.ok + point!.server!.late, point!.ok + point!.late);
    await assert.rejects(overloadSweep(url, { rates: [5000, 5000], durationS: 30, qosMs: 50 }), /over the bound of 200000/);
  } finally {
    await server.drain();
  }
});
