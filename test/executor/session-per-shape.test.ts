import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Executor, sessionPerShapeFor, CUDA_SESSION_PER_SHAPE_ENV } from '../../src/executor/index.js';
import { buildTinyModel, tempDir } from '../helpers/tiny-model.js';

test('with sessionPerShape a range gets one session per (batch, seq), and outputs do not change', async () => {
  const parent = tempDir();
  const model = await buildTinyModel(parent, 'tiny', 3);
  const outputs: Record<string, number[][]> = {};
  for (const perShape of [false, true]) {
    const ex = new Executor();
    try {
      await ex.addService({ modelDir: model.dir, intraOpThreads: 1, plan: 'exact', sessionPerShape: perShape });
      const out: number[][] = [];
      for (const [i, batch] of [1, 2, 1, 2].entries()) {
        const r = await ex.runGroup([{ service: 'tiny', queryId: `q${i}`, start: 0, end: 3, batch, seq: 0, returnOutput: true }]);
        out.push(Array.from(r.members[0]!.output!.data));
      }
      outputs[String(perShape)] = out;
      const stats = await ex.stats('tiny');
      assert.equal(stats.sessionsCreated, perShape ? 2 : 1, `sessionPerShape ${perShape}`);
    } finally {
      await ex.shutdown();
    }
  }
  assert.deepEqual(outputs.true, outputs.false);
});

test('cuda keeps a session per shape by default for models with convolutions; cpu and webgpu do not', () => {
  const saved = process.env[CUDA_SESSION_PER_SHAPE_ENV];
  delete process.env[CUDA_SESSION_PER_SHAPE_ENV];
  try {
    assert.equal(sessionPerShapeFor('cuda'), true);
    assert.equal(sessionPerShapeFor('cuda', true), true);
    assert.equal(sessionPerShapeFor('cuda', false), false, 'no convolutions: no re-setup to avoid');
    assert.equal(sessionPerShapeFor('cpu'), false);
    assert.equal(sessionPerShapeFor('webgpu'), false);
    process.env[CUDA_SESSION_PER_SHAPE_ENV] = '0';
    assert.equal(sessionPerShapeFor('cuda'), false);
    process.env[CUDA_SESSION_PER_SHAPE_ENV] = '1';
    assert.equal(sessionPerShapeFor('cuda', false), true, '=1 turns it on for every model');
  } finally {
    if (saved === undefined) delete process.env[CUDA_SESSION_PER_SHAPE_ENV];
    else process.env[CUDA_SESSION_PER_SHAPE_ENV] = saved;
  }
});
