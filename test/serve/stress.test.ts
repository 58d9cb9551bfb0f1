import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertLoopback, overloadSweep, runAttacks, ATTACK_NAMES } from '../../src/serve/index.js';
import { baseUrl, startTestServer } from './helpers.js';

const TOKEN = 'stress-test-token-0123456789';

test('abacus stress targets loopback only', () => {
  for (const ok of ['http://127.0.0.1:8000', 'http://localhost:1', 'http://[::1]:9', 'http://127.5.0.1:2']) assertLoopback(new URL(ok));
  for (const bad of ['http://10.0.0.1:8000', 'http://example.com', 'http://0.0.0.0:80', 'http://[::ffff:10.0.0.1]:1']) assert.throws(() => assertLoopback(new URL(bad)), /only targets this machine/, bad);
});

test('every attack of abacus stress holds against the server (small bounds), and a short sweep accounts for every request', async () => {
  const server = await startTestServer({ maxBodyBytes: 1024 * 1024, maxInflightBodyBytes: 3 * 1024 * 1024, maxConnections: 64, authToken: TOKEN, maxQueue: 8 });
  const url = new URL(baseUrl(server));
  try {
    const results = await runAttacks(url, { bounds: { largeBodies: 8, largeBodyBytes: 900 * 1024, slowConnections: 20, floodConnections: 100, authToken: TOKEN } });
    assert.deepEqual(results.map((r) => r.name), [...ATTACK_NAMES]);
    for (const r of results) assert.equal(r.verdict, 'pass', `${r.name}: ${r.detail}`);
    assert.match(results.find((r) => r.name === 'connection-flood')!.detail, /refused with 503/);
    const [point] = await overloadSweep(url, { rates: [30], durationS: 1, qosMs: 5000, authToken: TOKEN });
    assert.ok(point!.sent > 0);
    assert.equal(point!.ok + point!.late + point!.rejected + point!.failed, point!.sent);
    assert.ok(point!.ok > 0, `ok ${point!.ok} of ${point!.sent}`);
    // the server's own count of the same requests, from its metrics
    assert.equal(point!.server!.ok + point!.server!.late, point!.ok + point!.late);
    await assert.rejects(overloadSweep(url, { rates: [5000, 5000], durationS: 30, qosMs: 50 }), /over the bound of 200000/);
  } finally {
    await server.drain();
  }
});
