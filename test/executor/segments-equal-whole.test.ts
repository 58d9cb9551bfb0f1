import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Executor } from '../../src/executor/index.js';
import { buildTinyModel, tempDir } from '../helpers/tiny-model.js';

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

for (const plan of ['exact', 'partition', 'tiered'] as const) {
  test(`a query run as any split into segments gives the whole model's output (${plan} plan)`, async () => {
    const parent = tempDir();
    const model = await buildTinyModel(parent, 'tiny', 6, { side: true });
    const ex = new Executor();
    try {
      await ex.addService({ modelDir: model.dir, plan, intraOpThreads: 1 });
      const whole = await ex.runGroup([{ service: 'tiny', queryId: 'whole', start: 0, end: 6, batch: 2, seq: 0, returnOutput: true }]);
      const reference = whole.members[0]!.output!;
      assert.deepEqual(reference.dims, [2, 8, 16, 16]);
      assert.ok(reference.data.some((v) => v !== 0));
      const splits = [[0, 6], [0, 1, 6], [0, 3, 6], [0, 1, 2, 3, 4, 5, 6], [0, 0, 2, 2, 5, 6], [0, 5, 6]];
      for (const [k, cuts] of splits.entries()) {
        let out: Float32Array | undefined;
        for (let i = 0; i + 1 < cuts.length; i++) {
          const end = cuts[i + 1]!;
          const r = await ex.runGroup([{ service: 'tiny', queryId: `q${k}`, start: cuts[i]!, end, batch: 2, seq: 0, returnOutput: end === 6 }]);
          assert.equal(r.members[0]!.finished, end === 6);
          out = r.members[0]!.output?.data ?? out;
        }
        assert.ok(out, `split ${cuts.join(',')} returned an output`);
        assert.ok(maxAbsDiff(out!, reference.data) <= 1e-5, `split ${cuts.join(',')} matches the whole model`);
      }
      const stats = await ex.stats('tiny');
      assert.equal(stats.liveQueries, 0, 'finished queries are forgotten');
    } finally {
      await ex.shutdown();
    }
  });
}

test('several partially-run queries of one service are kept apart', async () => {
  const parent = tempDir();
  const model = await buildTinyModel(parent, 'tiny', 4);
  const ex = new Executor();
  try {
    await ex.addService({ modelDir: model.dir, intraOpThreads: 1 });
    const ref = (await ex.runGroup([{ service: 'tiny', queryId: 'ref', start: 0, end: 4, batch: 1, seq: 0, returnOutput: true }])).members[0]!.output!;
    await ex.runGroup([{ service: 'tiny', queryId: 'a', start: 0, end: 1, batch: 1, seq: 0 }]);
    await ex.runGroup([{ service: 'tiny', queryId: 'b', start: 0, end: 3, batch: 1, seq: 0 }]);
    const a = (await ex.runGroup([{ service: 'tiny', queryId: 'a', start: 1, end: 4, batch: 1, seq: 0, returnOutput: true }])).members[0]!.output!;
    const b = (await ex.runGroup([{ service: 'tiny', queryId: 'b', start: 3, end: 4, batch: 1, seq: 0, returnOutput: true }])).members[0]!.output!;
    assert.ok(maxAbsDiff(a.data, ref.data) <= 1e-5);
    assert.ok(maxAbsDiff(b.data, ref.data) <= 1e-5);
    await assert.rejects(ex.runGroup([{ service: 'tiny', queryId: 'c', start: 2, end: 4, batch: 1, seq: 0 }]), /must start at 0/);
  } finally {
    await ex.shutdown();
  }
});
