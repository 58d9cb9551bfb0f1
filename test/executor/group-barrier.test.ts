import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Executor } from '../../src/executor/index.js';
import { buildTinyModel, tempDir } from '../helpers/tiny-model.js';

test('a group completes at its last member: group latency is at least each member\'s', async () => {
  const parent = tempDir();
  const a = await buildTinyModel(parent, 'a', 4, { channels: 16, size: 24 });
  const b = await buildTinyModel(parent, 'b', 6);
  const ex = new Executor();
  try {
    await ex.addService({ modelDir: a.dir, intraOpThreads: 1 }, 2);
    await ex.addService({ modelDir: b.dir, intraOpThreads: 1, hostKind: 'process' }, 2);
    for (let i = 0; i < 5; i++) {
      const r = await ex.runGroup([
        { service: 'a', queryId: `a${i}`, start: 0, end: 4, batch: 2, seq: 0 },
        { service: 'b', queryId: `b${i}`, start: 0, end: 3, batch: 1, seq: 0 },
      ]);
      assert.equal(r.members.length, 2);
      for (const m of r.members) {
        assert.ok(m.ms > 0, 'members report their own run time');
        assert.ok(r.groupMs + 1e-9 >= m.ms + m.startDelayMs, `group ${r.groupMs} ms covers member ${m.service} (${m.ms} ms after ${m.startDelayMs} ms)`);
        assert.ok(m.startDelayMs >= 0, 'no member starts before the start signal');
      }
      assert.ok(r.startSkewMs >= 0 && r.startSkewMs < 50, `start skew ${r.startSkewMs} ms`);
      assert.ok(r.startLeadMs >= 0.3 - 1e-9 && r.startLeadMs <= 20 + 1e-9, `the start lead (${r.startLeadMs} ms) is reported, within its 0.3-20 ms bounds`);
    }
    // an empty segment joins the barrier without work; the query continues later
    const r = await ex.runGroup([
      { service: 'a', queryId: 'x', start: 0, end: 0, batch: 1, seq: 0 },
      { service: 'b', queryId: 'y', start: 0, end: 6, batch: 1, seq: 0 },
    ]);
    assert.equal(r.members.find((m) => m.service === 'a')!.finished, false);
    assert.equal(r.members.find((m) => m.service === 'b')!.finished, true);
    await assert.rejects(
      ex.runGroup([
        { service: 'a', queryId: 'p', start: 0, end: 1, batch: 1, seq: 0 },
        { service: 'a', queryId: 'q', start: 0, end: 1, batch: 1, seq: 0 },
      ]),
      /at most one segment per service/,
    );
    await assert.rejects(ex.runGroup([{ service: 'nope', queryId: 'z', start: 0, end: 1, batch: 1, seq: 0 }]), /unknown service 'nope'/);
  } finally {
    await ex.shutdown();
  }
});

test('groups on disjoint services may overlap; a service in a running group is refused', async () => {
  const parent = tempDir();
  const a = await buildTinyModel(parent, 'a', 4, { channels: 16, size: 32 });
  const b = await buildTinyModel(parent, 'b', 4);
  const ex = new Executor();
  try {
    await ex.addService({ modelDir: a.dir, intraOpThreads: 1 }, 2);
    await ex.addService({ modelDir: b.dir, intraOpThreads: 1 }, 2);
    const first = ex.runGroup([{ service: 'a', queryId: 'x', start: 0, end: 4, batch: 4, seq: 0 }]);
    const second = ex.runGroup([{ service: 'b', queryId: 'y', start: 0, end: 4, batch: 1, seq: 0 }]);
    await assert.rejects(ex.runGroup([{ service: 'a', queryId: 'z', start: 0, end: 1, batch: 1, seq: 0 }]), /service 'a' is still running/);
    const [ra, rb] = await Promise.all([first, second]);
    assert.equal(ra.members[0]!.finished, true);
    assert.equal(rb.members[0]!.finished, true);
  } finally {
    await ex.shutdown();
  }
});
