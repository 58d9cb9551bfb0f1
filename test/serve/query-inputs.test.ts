import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Executor, type InputTensor } from '../../src/executor/index.js';
import { manifestFeeds } from '../../src/zoo/verify.js';
import { buildTinyModel, tempDir } from '../helpers/tiny-model.js';

/** The prepared (seeded) inputs of a model as a query's own inputs. */
function seededInputs(manifest: Parameters<typeof manifestFeeds>[0], batch: number, seed: number): Record<string, InputTensor> {
  const feeds = manifestFeeds(manifest, { ...manifest.reference, batch }, seed);
  return Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, { dims: [...t.dims], data: Float32Array.from(t.data as Float32Array) }]));
}

test('a query with its own inputs gives exactly the output of the same inputs prepared, whole or in segments', async () => {
  const parent = tempDir();
  const model = await buildTinyModel(parent, 'tiny', 5, { side: true });
  const ex = new Executor();
  try {
    await ex.addService({ modelDir: model.dir, intraOpThreads: 1, seed: 3 });
    const prepared = (await ex.runGroup([{ service: 'tiny', queryId: 'p', start: 0, end: 5, batch: 2, seq: 0, returnOutput: true }])).members[0]!.output!;
    const inputs = seededInputs(model.manifest, 2, 3);
    const own = (await ex.runGroup([{ service: 'tiny', queryId: 'q', start: 0, end: 5, batch: 2, seq: 0, returnOutput: true, inputs }])).members[0]!.output!;
    assert.deepEqual(own.dims, prepared.dims);
    assert.deepEqual(Array.from(own.data), Array.from(prepared.data));
    // in segments: the side input (gain) the query brought is read by its later segments too
    await ex.runGroup([{ service: 'tiny', queryId: 's', start: 0, end: 2, batch: 2, seq: 0, inputs }]);
    const split = (await ex.runGroup([{ service: 'tiny', queryId: 's', start: 2, end: 5, batch: 2, seq: 0, returnOutput: true }])).members[0]!.output!;
    assert.deepEqual(Array.from(split.data), Array.from(prepared.data));
    // other inputs give another output
    const other = seededInputs(model.manifest, 2, 4);
    const different = (await ex.runGroup([{ service: 'tiny', queryId: 'd', start: 0, end: 5, batch: 2, seq: 0, returnOutput: true, inputs: other }])).members[0]!.output!;
    assert.notDeepEqual(Array.from(different.data), Array.from(prepared.data));
    const stats = await ex.stats('tiny');
    assert.equal(stats.liveQueries, 0, 'finished queries and their inputs are forgotten');
  } finally {
    await ex.shutdown();
  }
});

test('bad query inputs are input errors and the host survives them', async () => {
  const parent = tempDir();
  const model = await buildTinyModel(parent, 'tiny', 3, { side: true });
  const ex = new Executor();
  try {
    await ex.addService({ modelDir: model.dir, intraOpThreads: 1 });
    const good = seededInputs(model.manifest, 1, 0);
    const run = (queryId: string, inputs: Record<string, InputTensor>, start = 0) => ex.runGroup([{ service: 'tiny', queryId, start, end: 3, batch: 1, seq: 0, inputs }]);
    await assert.rejects(run('a', { input: good.input! }), /input 'gain' is missing/);
    await assert.rejects(run('b', { ...good, extra: good.gain! }), /unknown input\(s\) extra/);
    await assert.rejects(run('c', { ...good, input: { dims: [1, 8, 16, 15], data: new Float32Array(8 * 16 * 15) } }), /has dims \[1, 8, 16, 15\], expected \[1, 8, 16, 16\]/);
    await assert.rejects(run('d', { ...good, input: { dims: [1, 8, 16, 16], data: new Float32Array(5) } }), /holds 5 values/);
    await assert.rejects(run('e', { ...good, input: { dims: [1, 8, 16, 16], data: new Uint16Array(8 * 16 * 16) } }), /is float32, got float16 data/);
    await ex.runGroup([{ service: 'tiny', queryId: 'f', start: 0, end: 1, batch: 1, seq: 0 }]);
    await assert.rejects(run('f', good, 1), /inputs go with the first segment of a new query only/);
    const ok = await ex.runGroup([{ service: 'tiny', queryId: 'g', start: 0, end: 3, batch: 1, seq: 0, inputs: good, returnOutput: true }]);
    assert.equal(ok.members[0]!.finished, true);
  } finally {
    await ex.shutdown();
  }
});
