import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Executor, HostError } from '../../src/executor/index.js';
import { buildTinyModel, tempDir } from '../helpers/tiny-model.js';

for (const hostKind of ['thread', 'process'] as const) {
  test(`a killed ${hostKind} host fails the group with the service and query named, and can be restarted`, async () => {
    const parent = tempDir();
    const a = await buildTinyModel(parent, 'a', 3);
    const b = await buildTinyModel(parent, 'b', 3);
    const ex = new Executor({ runTimeoutMs: 20_000 });
    try {
      await ex.addService({ modelDir: a.dir, intraOpThreads: 1, hostKind }, 2);
      await ex.addService({ modelDir: b.dir, intraOpThreads: 1 }, 2);
      await ex.runGroup([{ service: 'a', queryId: 'warm', start: 0, end: 3, batch: 1, seq: 0 }]);
      ex.crashHost('a', 'exit');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(ex.isAlive('a'), false);
      await assert.rejects(
        ex.runGroup([
          { service: 'a', queryId: 'q1', start: 0, end: 3, batch: 1, seq: 0 },
          { service: 'b', queryId: 'q2', start: 0, end: 3, batch: 1, seq: 0 },
        ]),
        (err: unknown) => err instanceof HostError && /service a/.test(err.message) && err.hostDied,
      );
      await ex.restart('a');
      assert.equal(ex.isAlive('a'), true);
      const r = await ex.runGroup([{ service: 'a', queryId: 'q3', start: 0, end: 3, batch: 1, seq: 0 }]);
      assert.equal(r.members[0]!.finished, true);
    } finally {
      await ex.shutdown();
    }
  });
}

test('a host that throws outside a request dies and its in-flight work is failed, not hung', async () => {
  const parent = tempDir();
  const a = await buildTinyModel(parent, 'a', 3);
  const ex = new Executor({ runTimeoutMs: 20_000 });
  try {
    await ex.addService({ modelDir: a.dir, intraOpThreads: 1 });
    ex.crashHost('a', 'throw');
    await assert.rejects(
      ex.runGroup([{ service: 'a', queryId: 'late', start: 0, end: 3, batch: 1, seq: 0 }]),
      (err: unknown) => err instanceof HostError && /service a: host .*query late|service a: host is not running/.test(err.message),
    );
  } finally {
    await ex.shutdown();
  }
});

test('a segment that does not continue its query is bad input, and the host survives it', async () => {
  const parent = tempDir();
  const a = await buildTinyModel(parent, 'a', 3);
  const ex = new Executor();
  try {
    await ex.addService({ modelDir: a.dir, intraOpThreads: 1 });
    await assert.rejects(ex.runGroup([{ service: 'a', queryId: 'q', start: 1, end: 3, batch: 1, seq: 0 }]), /query q is unknown here/);
    await assert.rejects(ex.runGroup([{ service: 'a', queryId: 'q', start: 0, end: 9, batch: 1, seq: 0 }]), /bad segment \[0, 9\)/);
    const ok = await ex.runGroup([{ service: 'a', queryId: 'q', start: 0, end: 3, batch: 1, seq: 0 }]);
    assert.equal(ok.members[0]!.finished, true);
  } finally {
    await ex.shutdown();
  }
});
