import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync, truncateSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { Executor } from '../../src/executor/index.js';
import { mapOptimizedGraph } from '../../src/executor/optimized-graph.js';
import { readOnnxModel } from '../../src/onnx/index.js';
import { readManifest, type Manifest } from '../../src/zoo/manifest.js';
import { manifestFeeds } from '../../src/zoo/verify.js';
import { buildTinyModel, tempDir } from '../helpers/tiny-model.js';
import type { InputTensor, SegmentPlan } from '../../src/executor/types.js';

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/** The model's own graph in one plain session (unoptimised by default): what every split must reproduce. */
async function reference(dir: string, feeds: Record<string, ort.Tensor>, level: 'disabled' | 'all' = 'disabled'): Promise<Float32Array> {
  const m = readManifest(dir);
  const s = await ort.InferenceSession.create(join(dir, m.model.file), { graphOptimizationLevel: level, intraOpNumThreads: 1, logSeverityLevel: 3 });
  try {
    const out = (await s.run(feeds))[s.outputNames[0]!]!;
    return out.type === 'float32' ? Float32Array.from(out.data as Float32Array) : Float32Array.from(out.data as ArrayLike<number>, Number);
  } finally {
    await s.release();
  }
}

function preparedFeeds(m: Manifest, batch: number): Record<string, ort.Tensor> {
  return manifestFeeds(m, { ...m.reference, batch }, 0);
}

/** Run `cuts` as one query's segments and return the final output. */
async function runSplit(ex: Executor, service: string, queryId: string, cuts: number[], batch: number, inputs?: Record<string, InputTensor>): Promise<Float32Array> {
  let out: Float32Array | undefined;
  const L = cuts[cuts.length - 1]!;
  for (let i = 0; i + 1 < cuts.length; i++) {
    const end = cuts[i + 1]!;
    const r = await ex.runGroup([{ service, queryId, start: cuts[i]!, end, batch, seq: 0, returnOutput: end === L, ...(i === 0 && inputs ? { inputs } : {}) }]);
    out = r.members[0]!.output?.data ?? out;
  }
  assert.ok(out, `split ${cuts.join(',')} returned an output`);
  return out!;
}

const SPLITS = [[0, 6], [0, 1, 6], [0, 3, 6], [0, 1, 2, 3, 4, 5, 6], [0, 0, 2, 2, 5, 6], [0, 5, 6]];

for (const plan of ['exact', 'partition', 'tiered'] as const satisfies readonly SegmentPlan[]) {
  test(`on the optimised graph, a query run as any split gives the whole model's output (${plan} plan)`, async () => {
    const parent = tempDir();
    // 8 channels: onnxruntime pads blocked tensors to its block size, so boundary dims differ from the manifest's
    const gated = await buildTinyModel(parent, 'gated', 6, { side: true, sideGate: true });
    const plain = await buildTinyModel(parent, 'plain', 6);
    const ex = new Executor();
    try {
      for (const model of [gated, plain]) {
        const name = model.manifest.name;
        await ex.addService({ modelDir: model.dir, plan, intraOpThreads: 1 });
        const info = ex.graphInfo(name);
        assert.equal(info.source, 'optimized', `${name}: ${info.reason}`);
        assert.equal(info.reason, null);
        assert.equal(info.sessionLevel, 'disabled');
        if (name === 'gated') assert.ok(info.placement!.shared >= 1, 'the merged Sigmoid of the side input is shared by every range');
        for (const batch of [2, 1]) {
          const want = await reference(model.dir, preparedFeeds(model.manifest, batch));
          for (const [k, cuts] of SPLITS.entries()) {
            const got = await runSplit(ex, name, `${name}-b${batch}-${k}`, cuts, batch);
            assert.ok(maxAbsDiff(got, want) <= 1e-4, `${name} batch ${batch}: split ${cuts.join(',')} matches the whole model`);
          }
        }
        // a query's own inputs, and a repeated (replayed) segment, on the same path
        const own: Record<string, InputTensor> = {};
        const ownFeeds: Record<string, ort.Tensor> = {};
        for (const input of model.manifest.inputs) {
          const dims = input.shape.map((d) => (d === 'batch' ? 2 : (d as number)));
          const data = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => Math.cos(i * 0.37));
          own[input.name] = { dims, data };
          ownFeeds[input.name] = new ort.Tensor('float32', data, dims);
        }
        const want = await reference(model.dir, ownFeeds);
        await ex.runGroup([{ service: name, queryId: `${name}-own`, start: 0, end: 2, batch: 2, seq: 0, inputs: own }]);
        await ex.runGroup([{ service: name, queryId: `${name}-own`, start: 2, end: 5, batch: 2, seq: 0, advance: false }]);
        const got = (await ex.runGroup([{ service: name, queryId: `${name}-own`, start: 2, end: 6, batch: 2, seq: 0, returnOutput: true }])).members[0]!.output!.data;
        assert.ok(maxAbsDiff(got, want) <= 1e-4, `${name}: a query's own inputs give the whole model's output`);
        assert.equal((await ex.stats(name)).liveQueries, 0);
      }
    } finally {
      await ex.shutdown();
    }
  });
}

test('where the optimised graph cannot be cut, the service keeps the original graph and says why', async () => {
  const parent = tempDir();
  // onnxruntime removes the Identity that is operator 2 by itself: that operator has nothing left to run
  const hollow = await buildTinyModel(parent, 'hollow', 6, { identityOperator: 2 });
  const half = await buildTinyModel(parent, 'half', 4, { fp16: true });
  const asked = await buildTinyModel(parent, 'asked', 4);
  const ex = new Executor();
  try {
    await ex.addService({ modelDir: hollow.dir, plan: 'tiered', intraOpThreads: 1 });
    await ex.addService({ modelDir: half.dir, plan: 'tiered', intraOpThreads: 1 });
    await ex.addService({ modelDir: asked.dir, plan: 'tiered', intraOpThreads: 1, segmentGraph: 'original' });
    const h = ex.graphInfo('hollow');
    assert.equal(h.source, 'original');
    assert.match(h.reason ?? '', /cannot be cut at the operator boundaries: operator 2 \(pass2\) has no node left/);
    assert.equal(h.sessionLevel, 'all');
    assert.match(ex.graphInfo('half').reason ?? '', /fp16 model/);
    assert.match(ex.graphInfo('asked').reason ?? '', /asked for/);
    const want = await reference(hollow.dir, preparedFeeds(hollow.manifest, 2));
    for (const [k, cuts] of SPLITS.entries()) {
      const got = await runSplit(ex, 'hollow', `h${k}`, cuts, 2);
      assert.ok(maxAbsDiff(got, want) <= 1e-5, `split ${cuts.join(',')} matches the whole model on the original graph`);
    }
    // float16: the executor decodes the half-precision output to values; float16 rounds at every
    // boundary, so compare with the service's own one-segment run
    const halfWhole = await runSplit(ex, 'half', 'f-whole', [0, 4], 2);
    const halfSplit = await runSplit(ex, 'half', 'f-split', [0, 1, 3, 4], 2);
    const scale = halfWhole.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
    assert.ok(scale > 0 && maxAbsDiff(halfSplit, halfWhole) <= 1e-2 * scale, `the fp16 model splits correctly on its own graph (max |diff| ${maxAbsDiff(halfSplit, halfWhole)}, max |value| ${scale})`);
  } finally {
    await ex.shutdown();
  }
});

test('a corrupt or unreadable cached optimised graph is rebuilt', async () => {
  const parent = tempDir();
  const model = await buildTinyModel(parent, 'cached', 4, { side: true });
  const want = await reference(model.dir, preparedFeeds(model.manifest, 2));
  const cacheFiles = () => readdirSync(model.dir).filter((n) => n.startsWith('.opt-'));
  const graphs = () => cacheFiles().filter((n) => /^\.opt-[0-9a-f]+-[0-9a-f]+\.onnx$/.test(n));
  const start = async (expect: 'built' | 'hit' | 'rebuilt', why?: RegExp) => {
    const ex = new Executor();
    try {
      await ex.addService({ modelDir: model.dir, intraOpThreads: 1 });
      const info = ex.graphInfo('cached');
      assert.equal(info.source, 'optimized', info.reason ?? '');
      assert.equal(info.cache, expect);
      if (why) assert.match(info.rebuildReason ?? '', why);
      const got = await runSplit(ex, 'cached', 'q', [0, 1, 2, 4], 2);
      assert.ok(maxAbsDiff(got, want) <= 1e-4, `after a '${expect}' start the splits still match the whole model`);
      return info.file!;
    } finally {
      await ex.shutdown();
    }
  };
  const first = await start('built');
  assert.equal(await start('hit'), first, 'a valid cache is reused');

  // flip bytes of the weights, keeping their size
  const data = join(model.dir, `${first}.data`);
  const bytes = readFileSync(data);
  bytes[bytes.length >> 1] = (bytes[bytes.length >> 1]! + 1) & 0xff;
  writeFileSync(data, bytes);
  const second = await start('rebuilt', /weights .* have changed \(sha256\)/);
  assert.notEqual(second, first);
  assert.deepEqual(graphs(), [second], 'the corrupt graph and its weights and segments are removed');
  assert.ok(!cacheFiles().some((n) => n.startsWith(first.replace(/\.onnx$/, ''))), 'nothing of the replaced graph is left');

  // truncated weights
  const secondData = join(model.dir, `${second}.data`);
  truncateSync(secondData, statSync(secondData).size - 100);
  const third = await start('rebuilt', /hold \d+ bytes, not \d+/);

  // a record that is not JSON
  const record = cacheFiles().find((n) => n.endsWith('.json'))!;
  writeFileSync(join(model.dir, record), '{"format": "abacus.optimi');
  const fourth = await start('rebuilt', /not valid JSON/);
  assert.notEqual(fourth, third);
  assert.equal(graphs().length, 2, 'an unreadable record cannot say which graph it named: that one stays behind');
});

test('the boundary check refuses a graph where two tensors cross a boundary', () => {
  const parent = tempDir();
  return buildTinyModel(parent, 'skip', 4).then((model) => {
    const loaded = readOnnxModel(join(model.dir, model.manifest.model.file));
    // the model's own graph maps onto itself, boundary for boundary
    const self = mapOptimizedGraph(loaded.model, model.manifest, loaded.model);
    assert.ok(self.ok, self.ok ? '' : self.reason);
    if (self.ok) assert.deepEqual(self.layout.boundaries, ['input', ...model.manifest.operators.map((o) => o.output)]);
    // operator 3's residual Add reads operator 1's output instead of operator 2's: both cross into operator 3
    const skip = structuredClone(loaded.model);
    const add = skip.graph!.node[model.manifest.operators[3]!.nodes[1] - 1]!;
    assert.equal(add.opType, 'Add');
    assert.equal(add.input[1], model.manifest.operators[2]!.output);
    add.input[1] = model.manifest.operators[1]!.output;
    const r = mapOptimizedGraph(loaded.model, model.manifest, skip);
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.reason, /2 tensors cross \(.*\) between operators 2 and 3/);
  });
});
