import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Executor } from '../../src/executor/index.js';
import { buildTinyModel, tempDir } from '../helpers/tiny-model.js';

test('a group of one member starts on receipt (no start lead); a group of two keeps its lead', async () => {
  const parent = tempDir();
  const a = await buildTinyModel(parent, 'a', 4, { channels: 16, size: 24 });
  const b = await buildTinyModel(parent, 'b', 4);
  const ex = new Executor();
  try {
    await ex.addService({ modelDir: a.dir, intraOpThreads: 1 }, 2);
    await ex.addService({ modelDir: b.dir, intraOpThreads: 1, hostKind: 'process' }, 2);
    for (let i = 0; i < 4; i++) {
      for (const service of ['a', 'b']) {
        const lone = await ex.runGroup([{ service, queryId: `${service}${i}`, start: 0, end: 4, batch: 1, seq: 0 }]);
        assert.equal(lone.startLeadMs, 0, `${service}: a lone member has no lead`);
        const m = lone.members[0]!;
        assert.ok(m.startDelayMs >= 0, `${service}: it starts after it was sent (${m.startDelayMs} ms)`);
        // the group's time runs from the send: the delivery is in it, not hidden
        assert.ok(Math.abs(lone.groupMs - (m.startDelayMs + m.ms)) < 1e-6, `${service}: group ${lone.groupMs} = delay ${m.startDelayMs} + run ${m.ms}`);
      }
      const pair = await ex.runGroup([
        { service: 'a', queryId: `pa${i}`, start: 0, end: 4, batch: 1, seq: 0 },
        { service: 'b', queryId: `pb${i}`, start: 0, end: 4, batch: 1, seq: 0 },
      ]);
      assert.ok(pair.startLeadMs >= 1 - 1e-9, `a pair with a process host keeps a lead of at least 1 ms (${pair.startLeadMs})`);
    }
  } finally {
    await ex.shutdown();
  }
});

test('a fixed start lead applies to a lone member too', async () => {
  const parent = tempDir();
  const a = await buildTinyModel(parent, 'a', 3);
  const ex = new Executor({ startLeadMs: 2 });
  try {
    await ex.addService({ modelDir: a.dir, intraOpThreads: 1 }, 2);
    const r = await ex.runGroup([{ service: 'a', queryId: 'q', start: 0, end: 3, batch: 1, seq: 0 }]);
    assert.equal(r.startLeadMs, 2);
    assert.ok(r.members[0]!.startDelayMs >= 0);
  } finally {
    await ex.shutdown();
  }
});
