/**
 * `abacus split` on the PyTorch exports in test/fixtures/pytorch (TorchScript and dynamo exporters):
 * every model splits, the chain of operators equals the whole model and PyTorch's own output, and the
 * cuts fall between blocks (residual, Inception, dense, inverted residual, encoder layer), never inside.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { declaredTypes, expectedBytes, onnxProto, readOnnxModel, tensorTypeOf } from '../../src/onnx/index.js';
import { InputError } from '../../src/common/errors.js';
import { readManifest } from '../../src/zoo/manifest.js';
import { splitModel } from '../../src/zoo/split.js';
import { FIXTURES, cleanup, maxAbsDiff, runChain, tempDir } from '../fixtures/split/helpers.js';

interface FixtureEntry { exporter: string; input_shape: number[]; input: number[]; expected_output: number[]; output_shape: number[]; error?: string }
const record = JSON.parse(readFileSync(join(FIXTURES, 'fixtures.json'), 'utf8')) as { models: Record<string, FixtureEntry> };

/** What each model's structure says about its cuts. */
const expectations: Record<string, { cuts: number; check: (cuts: string[]) => void; dims?: Record<string, number> }> = {
  // stem Conv, stem ReLU; after each of the 3 residual blocks its Add and its ReLU; pool; flatten.
  tiny_resnet: {
    cuts: 2 + 3 * 2 + 2,
    check: (cuts) => {
      assert.deepEqual(cuts, ['/stem/stem.0/Conv_output_0', '/stem/stem.2/Relu_output_0', '/Add_output_0', '/Relu_output_0', '/Add_1_output_0',
        '/Relu_1_output_0', '/Add_2_output_0', '/Relu_2_output_0', '/GlobalAveragePool_output_0', '/Flatten_output_0']);
    },
  },
  tiny_resnet_dynamo: {
    cuts: 2 + 3 * 2 + 2,
    check: (cuts) => assert.deepEqual(cuts, ['getitem', 'relu', 'add_40', 'relu_2', 'add_86', 'relu_4', 'add_122', 'relu_6', 'mean', 'view']),
  },
  // stem Conv, ReLU; after each of the 2 Inception blocks its Concat and its ReLU; pool; flatten.
  tiny_inception: {
    cuts: 2 + 2 * 2 + 2,
    check: (cuts) => {
      for (const c of cuts) assert.ok(!/^\/b[12]\./.test(c), `no cut inside an Inception block (${c})`);
      assert.ok(cuts.includes('/Concat_output_0') && cuts.includes('/Concat_1_output_0'), 'cuts after both blocks');
    },
  },
  // conv0, relu0, pool0 | block 1 (ends with its Concat) | transition: norm, relu, conv, pool | block 2 | norm5, relu, pool, flatten.
  densenet_tiny: {
    cuts: 3 + 1 + 4 + 1 + 4,
    check: (cuts) => {
      for (const c of cuts) assert.ok(!c.includes('denselayer'), `no cut inside a dense block (${c})`);
      assert.ok(cuts.includes('/features/denseblock1/Concat_output_0') && cuts.includes('/features/denseblock2/Concat_output_0'), 'cuts after both blocks');
    },
  },
  // Inverted residual blocks with a skip connection (stride 1, same width) are never cut inside.
  mobilenet_v2_tiny: {
    cuts: 47,
    check: (cuts) => {
      for (const n of [1, 3, 5, 6, 8, 9, 10, 12, 13, 15, 16]) {
        assert.ok(cuts.includes(`/features/features.${n}/Add_output_0`), `cut after block ${n}`);
        for (const c of cuts) assert.ok(!c.startsWith(`/features/features.${n}/conv/`), `no cut inside residual block ${n} (${c})`);
      }
    },
  },
  // Per layer: attention + residual Add, norm1, feed-forward + residual Add, norm2; then the final norm
  // is the output. The TorchScript exporter baked the traced sequence length (6) into the attention's
  // Reshapes, so the model only runs at seq 6.
  tiny_encoder: {
    cuts: 2 * 4,
    dims: { seq: 6 },
    check: (cuts) => {
      assert.ok(cuts.includes('/encoder/layers.0/norm2/LayerNormalization_output_0'), 'cut between the layers');
      for (const c of cuts) assert.ok(!c.includes('self_attn'), `no cut inside attention (${c})`);
    },
  },
  // The dynamo export reads Shape(input) in both layers' attention: that tensor crosses every point
  // before layer 1's attention, so only layer 1's Add/norm/feed-forward/Add/norm points are cuts.
  tiny_encoder_dynamo: {
    cuts: 4,
    check: (cuts) => assert.deepEqual(cuts, ['add_260', 'layer_norm_2', 'add_289', 'layer_norm_3']),
  },
};

for (const [name, entry] of Object.entries(record.models)) {
  if (entry.error) continue;
  test(`split ${name} (${entry.exporter}): cuts between blocks, chain = whole model = PyTorch`, async () => {
    const expect = expectations[name];
    assert.ok(expect, `an expectation for fixture ${name}`);
    const parent = tempDir();
    try {
      const outDir = join(parent, name);
      const result = await splitModel(join(FIXTURES, `${name}.onnx`), { outDir, verify: true, dims: expect.dims });
      assert.equal(result.cuts, expect.cuts, `${name}: ${result.cutTensors.join(', ')}`);
      assert.equal(result.operators, expect.cuts + 1);
      expect.check(result.cutTensors);
      assert.ok(result.maxAbsDiff !== undefined && result.maxAbsDiff <= 1e-4, `chain = whole (${result.maxAbsDiff})`);

      // The folder: model, weights, manifest; nothing else next to it.
      assert.deepEqual(readdirSync(outDir).sort(), ['manifest.json', 'model.onnx', 'model.onnx.data']);
      assert.deepEqual(readdirSync(parent), [name]);
      const manifest = readManifest(outDir);
      assert.equal(manifest.source, 'split');
      assert.equal(manifest.id, 7);
      assert.equal(manifest.name, name);
      assert.equal(manifest.scale, null);
      assert.equal(manifest.seed, null);
      assert.equal(manifest.reference.batch, 1);
      assert.ok(manifest.params > 0, 'params counted');
      assert.deepEqual(manifest.inputs.map((i) => [i.name, i.role]), [['input', 'activation']]);
      assert.ok(manifest.operators.every((op) => op.kind === 'split' && op.flops >= 0 && op.outputShape[0] === 'batch'), 'operators are split operators with a batch dim');
      assert.ok(manifest.operators.reduce((a, op) => a + op.flops, 0) > 0, 'FLOPs counted');

      // Weights are external (small shape constants stay inline); boundaries have symbolic value_info.
      const loaded = readOnnxModel(join(outDir, 'model.onnx'));
      const graph = loaded.model.graph!;
      const external = graph.initializer.filter((t) => t.dataLocation === onnxProto.TensorProto_DataLocation.EXTERNAL);
      assert.deepEqual(external.map((t) => t.name), graph.initializer.filter((t) => (expectedBytes(t) ?? 0) >= 1024).map((t) => t.name), 'weights of 1 KiB or more are external, smaller ones inline');
      const declared = declaredTypes(graph);
      for (const op of manifest.operators) {
        const t = tensorTypeOf(declared.get(op.output)!);
        assert.deepEqual(t?.dims, op.outputShape, `value_info of ${op.output}`);
      }
      // Floating nodes come first, outside every operator.
      assert.equal(manifest.operators[0]!.nodes[0], result.floatingNodes);
      assert.equal(manifest.operators[manifest.operators.length - 1]!.nodes[1], graph.node.length);

      // PyTorch's input (batch 2, so the symbolic boundaries are exercised) through the chain.
      const input = new ort.Tensor('float32', Float32Array.from(entry.input), entry.input_shape);
      const chained = await runChain(outDir, { input });
      assert.deepEqual([...chained.dims], entry.output_shape);
      const got = chained.data as Float32Array;
      for (let i = 0; i < got.length; i++) {
        const want = entry.expected_output[i]!;
        assert.ok(Math.abs(got[i]! - want) <= 1e-4 + 1e-4 * Math.abs(want), `${name}: element ${i}: ${got[i]} vs PyTorch ${want}`);
      }
      // Ranges of several operators give the same output as single-operator steps.
      const n = manifest.operators.length;
      const half = Math.floor(n / 2);
      const merged = await runChain(outDir, { input }, [[0, half], [half, n]]);
      assert.ok(maxAbsDiff(merged.data as Float32Array, got) <= 1e-5, 'merged ranges = single steps');
    } finally {
      cleanup(parent);
    }
  });
}

test('the TorchScript encoder cannot run at the default seq 8: an InputError says which dims to give', async () => {
  const parent = tempDir();
  try {
    const outDir = join(parent, 'enc');
    const file = join(FIXTURES, 'tiny_encoder.onnx');
    await assert.rejects(splitModel(file, { outDir }), (err: unknown) => {
      assert.ok(err instanceof InputError, 'an InputError');
      assert.ok(err.message.includes(file), 'names the file');
      assert.match(err.message, /seq=8.*--dim/);
      return true;
    });
    assert.ok(!existsSync(outDir), 'no output folder');
    assert.deepEqual(readdirSync(parent), []);
    // With seq 6 it splits, and seq is reported as pinned (the model cannot change it).
    const result = await splitModel(file, { outDir, dims: { seq: 6 } });
    assert.deepEqual(result.pinned, { seq: 6 });
    assert.deepEqual(result.reference, { batch: 1, seq: 6 });
  } finally {
    cleanup(parent);
  }
});

test('the dynamo encoder keeps seq symbolic through its boundaries', async () => {
  const parent = tempDir();
  try {
    const outDir = join(parent, 'enc');
    const result = await splitModel(join(FIXTURES, 'tiny_encoder_dynamo.onnx'), { outDir, name: 'enc', id: 9 });
    assert.deepEqual(result.pinned, {});
    assert.equal(result.manifest.id, 9);
    assert.equal(result.manifest.name, 'enc');
    for (const op of result.manifest.operators) assert.deepEqual(op.outputShape, ['batch', 'seq', 32]);
    // Run the chain at another sequence length than the reference.
    const out = await runChain(outDir, { input: new ort.Tensor('float32', new Float32Array(3 * 11 * 32).fill(0.25), [3, 11, 32]) });
    assert.deepEqual([...out.dims], [3, 11, 32]);
  } finally {
    cleanup(parent);
  }
});
