import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Executor } from '../../src/executor/index.js';
import { buildTinyModel, tempDir } from '../helpers/tiny-model.js';

// A terminal's Ctrl-C signals the whole process group. A child-process host must outlive it, so that the
// coordinator (the profiler, the server) can finish the group in flight and stop cleanly.
test('a child-process host ignores SIGINT and keeps running its queries', async () => {
  const parent = tempDir();
  const a = await buildTinyModel(parent, 'a', 3);
  const ex = new Executor({ runTimeoutMs: 20_000 });
  try {
    await ex.addService({ modelDir: a.dir, intraOpThreads: 1, hostKind: 'process' });
    await ex.runGroup([{ service: 'a', queryId: 'q1', start: 0, end: 1, batch: 1, seq: 0 }]);
    const pid = ex.hostPids()['a']!;
    assert.notEqual(pid, process.pid, 'the host is a child process');
    process.kill(pid, 'SIGINT');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(ex.isAlive('a'), true);
    const r = await ex.runGroup([{ service: 'a', queryId: 'q1', start: 1, end: 3, batch: 1, seq: 0 }]);
    assert.equal(r.members[0]!.finished, true);
    // SIGTERM still ends it: only the interrupt is left to the coordinator.
    process.kill(pid, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(ex.isAlive('a'), false);
  } finally {
    await ex.shutdown();
  }
});
