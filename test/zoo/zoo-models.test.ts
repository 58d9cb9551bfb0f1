// The seven zoo models at tiny scale: built through buildZooModel into a temporary folder, their
// manifests checked (operator chain, parameters, FLOPs, shapes), and their operator chains verified
// against the whole model on the CPU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildZooModel } from '../../src/zoo/build.js';
import { ZOO } from '../../src/zoo/catalog.js';
import { concreteDims, readManifest, type Manifest } from '../../src/zoo/manifest.js';
import { manifestFeeds, verifyChain } from '../../src/zoo/verify.js';
import { createCpuSession, discoverTypes, readOnnxModel } from '../../src/onnx/index.js';

const modelsDir = mkdtempSync(join(tmpdir(), 'abacus-zoo-models-'));
process.on('exit', () => rmSync(modelsDir, { recursive: true, force: true }));

/** Operator kinds that hold no weights (VGG's max pools). */
const WEIGHTLESS_KINDS = new Set(['vgg_pool']);

const EXPECTED_INPUTS: Record<string, Array<{ name: string; shape: Array<string | number>; role: string }>> = {
  resnet50: [{ name: 'input', shape: ['batch', 3, 32, 32], role: 'activation' }],
  resnet101: [{ name: 'input', shape: ['batch', 3, 32, 32], role: 'activation' }],
  resnet152: [{ name: 'input', shape: ['batch', 3, 32, 32], role: 'activation' }],
  inception_v3: [{ name: 'input', shape: ['batch', 3, 75, 75], role: 'activation' }],
  vgg16: [{ name: 'input', shape: ['batch', 3, 32, 32], role: 'activation' }],
  vgg19: [{ name: 'input', shape: ['batch', 3, 32, 32], role: 'activation' }],
  bert: [
    { name: 'hidden', shape: ['batch', 'seq', 64], role: 'activation' },
    { name: 'mask', shape: ['batch', 1, 1, 'seq'], role: 'side' },
  ],
};

async function declaredShapesMatchOnnxruntime(manifest: Manifest, dims: Record<string, number>): Promise<void> {
  const dir = join(modelsDir, manifest.name);
  const loaded = readOnnxModel(join(dir, manifest.model.file));
  const found = await discoverTypes(loaded, manifest.operators.map((op) => op.output), manifestFeeds(manifest, dims, 1));
  for (const op of manifest.operators) {
    assert.deepEqual(found.get(op.output)?.dims, concreteDims(op.outputShape, dims, manifest.name), `${manifest.name} ${op.name}: declared output shape`);
  }
}

for (const entry of ZOO) {
  test(`${entry.name} (tiny): the paper's operators, a consistent manifest, and a chain equal to the whole model`, async () => {
    const result = await buildZooModel(entry.name, { modelsDir, scale: 'tiny', dtype: 'fp32', seed: 0, verify: true });
    assert.equal(result.operators, entry.operatorCount);
    assert.equal(result.expectedParams, null);

    const manifest = readManifest(result.dir);
    assert.equal(manifest.name, entry.name);
    assert.equal(manifest.id, entry.id);
    assert.equal(manifest.scale, 'tiny');
    assert.equal(manifest.dtype, 'fp32');
    assert.equal(manifest.operators.length, entry.operatorCount);
    assert.deepEqual(manifest.inputs.map(({ name, shape, role }) => ({ name, shape, role })), EXPECTED_INPUTS[entry.name]);
    assert.deepEqual(manifest.reference, entry.hasSeq ? { batch: 1, seq: 64 } : { batch: 1 });
    const outputShape = entry.hasSeq ? ['batch', 'seq', 64] : ['batch', 1000];
    assert.deepEqual(manifest.outputs.map((o) => [o.name, o.shape]), [['output', outputShape]]);

    // The operator chain: input → op0 → … → output, each reading only its predecessor (+ BERT's mask).
    const activation = manifest.inputs.find((i) => i.role === 'activation')!.name;
    manifest.operators.forEach((op, i) => {
      assert.equal(op.input, i === 0 ? activation : manifest.operators[i - 1]!.output, `${op.name} input`);
      assert.equal(op.outputShape[0], 'batch', `${op.name} output shape is symbolic in batch`);
      assert.deepEqual(op.sideInputs, entry.hasSeq ? ['mask'] : [], `${op.name} side inputs`);
      assert.ok(op.flops > 0, `${op.name} flops`);
      if (WEIGHTLESS_KINDS.has(op.kind)) assert.equal(op.params, 0, `${op.name} params`);
      else assert.ok(op.params > 0, `${op.name} params`);
    });
    assert.equal(manifest.operators.at(-1)!.output, 'output');
    assert.deepEqual(manifest.operators.at(-1)!.outputShape, outputShape);
    assert.equal(manifest.operators.reduce((sum, op) => sum + op.params, 0), manifest.params, 'every parameter belongs to one operator');
    assert.ok(manifest.params > 0);

    const verify = result.verify!;
    assert.ok(verify.maxAbsDiff <= 1e-4, `maxAbsDiff ${verify.maxAbsDiff}`);
    assert.ok(verify.outputFinite);
    assert.ok(verify.outputNonZero);
    assert.deepEqual(verify.outputShape, entry.hasSeq ? [1, 64, 64] : [1, 1000]);

    // Batch (and seq) really are symbolic: another size runs, and every declared boundary shape is what
    // onnxruntime computes.
    const other: Record<string, number> = entry.hasSeq ? { batch: 2, seq: 8 } : { batch: 2 };
    const again = await verifyChain(result.dir, manifest, other);
    assert.ok(again.maxAbsDiff <= 1e-4 && again.outputFinite && again.outputNonZero);
    assert.deepEqual(again.outputShape, entry.hasSeq ? [2, 8, 64] : [2, 1000]);
    await declaredShapesMatchOnnxruntime(manifest, other);
  });
}

test('fp16 tiny models stay finite and their chains match the whole model', async () => {
  const dir16 = join(modelsDir, 'fp16');
  for (const name of ['resnet152', 'inception_v3', 'vgg19', 'bert']) {
    const result = await buildZooModel(name, { modelsDir: dir16, scale: 'tiny', dtype: 'fp16', seed: 0, verify: true });
    const manifest = readManifest(result.dir);
    assert.ok(manifest.inputs.every((i) => i.dtype === 'float16'), `${name} inputs are float16`);
    assert.ok(result.verify!.outputFinite && result.verify!.outputNonZero, `${name} output finite and non-zero`);
    assert.ok(result.verify!.maxAbsDiff <= 0.05, `${name} maxAbsDiff ${result.verify!.maxAbsDiff}`);
  }
});

test('weights are a function of the seed', async () => {
  const build = async (folder: string, seed: number) =>
    readManifest((await buildZooModel('bert', { modelsDir: join(modelsDir, folder), scale: 'tiny', dtype: 'fp32', seed })).dir);
  const first = await build('seed0a', 0);
  const second = await build('seed0b', 0);
  const other = await build('seed1', 1);
  assert.equal(first.model.externalDataSha256, second.model.externalDataSha256);
  assert.notEqual(first.model.externalDataSha256, other.model.externalDataSha256);
});

test('bert: masked positions do not influence the others, and the mask matters', async () => {
  const result = await buildZooModel('bert', { modelsDir: join(modelsDir, 'mask'), scale: 'tiny', dtype: 'fp32', seed: 0 });
  const manifest = readManifest(result.dir);
  const loaded = readOnnxModel(join(result.dir, manifest.model.file));
  const session = await createCpuSession(loaded.model, loaded.baseDir, { intraOpNumThreads: 1 });
  const [batch, seq, hidden, attended] = [1, 8, 64, 6];
  const run = async (values: Float32Array, mask: Float32Array): Promise<Float32Array> => {
    const out = await session.run({
      hidden: new ort.Tensor('float32', values, [batch, seq, hidden]),
      mask: new ort.Tensor('float32', mask, [batch, 1, 1, seq]),
    });
    return out.output!.data as Float32Array;
  };
  try {
    const values = Float32Array.from({ length: seq * hidden }, (_, i) => Math.sin(i * 0.37));
    const mask = Float32Array.from({ length: seq }, (_, i) => (i < attended ? 1 : 0));
    const base = await run(values, mask);
    const changed = values.slice();
    for (let i = attended * hidden; i < changed.length; i++) changed[i] = Math.cos(i * 1.3) * 3;
    const perturbed = await run(changed, mask);
    const unmaskedCount = attended * hidden;
    let largest = 0;
    for (let i = 0; i < unmaskedCount; i++) largest = Math.max(largest, Math.abs((base[i] as number) - (perturbed[i] as number)));
    assert.ok(largest <= 1e-5, `attended positions changed by ${largest} when masked ones did`);

    const unmasked = await run(values, new Float32Array(seq).fill(1));
    let difference = 0;
    for (let i = 0; i < unmaskedCount; i++) difference = Math.max(difference, Math.abs((base[i] as number) - (unmasked[i] as number)));
    assert.ok(difference > 1e-3, 'masking positions changes the attended ones');
  } finally {
    await session.release();
  }
});
