import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Executor, tierBlocks, balancedOperatorCuts } from '../../src/executor/index.js';
import { readManifest } from '../../src/zoo/manifest.js';
import { buildTinyModel, tempDir } from '../helpers/tiny-model.js';

test('a segment can be repeated from a kept activation without moving the query', async () => {
  const parent = tempDir();
  const model = await buildTinyModel(parent, 'tiny', 5);
  const ex = new Executor();
  try {
    await ex.addService({ modelDir: model.dir, intraOpThreads: 1 });
    await ex.runGroup([{ service: 'tiny', queryId: 'q', start: 0, end: 2, batch: 1, seq: 0 }]);
    for (let i = 0; i < 3; i++) {
      const r = await ex.runGroup([{ service: 'tiny', queryId: 'q', start: 2, end: 4, batch: 1, seq: 0, advance: false }]);
      assert.equal(r.members[0]!.finished, false);
    }
    // the query is still at operator 2, so [2, 5) continues it; [4, 5) would not
    await assert.rejects(ex.runGroup([{ service: 'tiny', queryId: 'q', start: 4, end: 5, batch: 1, seq: 0 }]), /has run 2 operators/);
    const whole = (await ex.runGroup([{ service: 'tiny', queryId: 'w', start: 0, end: 5, batch: 1, seq: 0, returnOutput: true }])).members[0]!.output!;
    const out = (await ex.runGroup([{ service: 'tiny', queryId: 'q', start: 2, end: 5, batch: 1, seq: 0, returnOutput: true }])).members[0]!.output!;
    assert.deepEqual(Array.from(out.data), Array.from(whole.data));
    const stats = await ex.stats('tiny');
    assert.equal(stats.liveQueries, 0);
  } finally {
    await ex.shutdown();
  }
});

test('the tiered plan has fixed FLOPs-balanced blocks', async () => {
  const parent = tempDir();
  const model = await buildTinyModel(parent, 'tiny', 9);
  const m = readManifest(model.dir);
  const blocks = tierBlocks(m, [1, 4]);
  assert.deepEqual(blocks[0], [0, 9], 'the whole model is the first (largest) block');
  const quarter = blocks.slice(1);
  assert.equal(quarter.length, 4);
  assert.equal(quarter.reduce((a, [s, e]) => a + (e - s), 0), 9, 'the four blocks cover every operator once');
  assert.deepEqual(balancedOperatorCuts([1, 1, 1, 1], 2), [0, 2, 4]);
  assert.deepEqual(balancedOperatorCuts([10, 1, 1, 1], 2), [0, 1, 4]);
  assert.deepEqual(balancedOperatorCuts([1, 1, 1], 5), [0, 1, 2, 3]);
});
