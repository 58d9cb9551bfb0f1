// The seven zoo models at full scale, built into a GraphBuilder whose weight sink only counts bytes (no
// disk, no onnxruntime): parameter counts equal the reference ones, and the operator boundaries have the
// shapes of the paper's decomposition. Generating the ~520 M random weights takes a few seconds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { GraphBuilder, onnxProto, tensorTypeOf, type Dim, type WeightSink } from '../../src/onnx/index.js';
import { Rng } from '../../src/common/rng.js';
import { ZOO, type ZooModelName } from '../../src/zoo/catalog.js';
import { zooDefinition } from '../../src/zoo/models/index.js';

/** Keeps nothing but the number of bytes it was handed. */
class CountingSink implements WeightSink {
  bytes = 0;
  add(name: string, dataType: number, dims: readonly number[], bytes: Uint8Array): onnxProto.TensorProto {
    this.bytes += bytes.length;
    return create(onnxProto.TensorProtoSchema, { name, dataType, dims: dims.map((d) => BigInt(d)) });
  }
  close(): void {}
}

function image(channels: number, size: number): Dim[] {
  return ['batch', channels, size, size];
}

function repeat(count: number, shape: Dim[]): Dim[][] {
  return Array.from({ length: count }, () => shape);
}

function resnetShapes(blocks: [number, number, number, number]): Dim[][] {
  return [
    image(64, 56),
    ...repeat(blocks[0], image(256, 56)),
    ...repeat(blocks[1], image(512, 28)),
    ...repeat(blocks[2], image(1024, 14)),
    ...repeat(blocks[3], image(2048, 7)),
    ['batch', 1000],
  ];
}

function vggShapes(convsPerStage: readonly number[]): Dim[][] {
  const channels = [64, 128, 256, 512, 512];
  const shapes: Dim[][] = [];
  let size = 224;
  convsPerStage.forEach((convs, stage) => {
    shapes.push(...repeat(convs, image(channels[stage]!, size)));
    size /= 2;
    shapes.push(image(channels[stage]!, size));
  });
  return [...shapes, ['batch', 1000]];
}

/** Boundary shapes of every operator, as in the paper's decomposition (abacus-original.md §1.2). */
const OPERATOR_SHAPES: Record<ZooModelName, Dim[][]> = {
  resnet50: resnetShapes([3, 4, 6, 3]),
  resnet101: resnetShapes([3, 4, 23, 3]),
  resnet152: resnetShapes([3, 8, 36, 3]),
  inception_v3: [
    image(64, 73), image(192, 35), image(256, 35), image(288, 35), image(288, 35), image(768, 17),
    ...repeat(4, image(768, 17)), image(1280, 8), image(2048, 8), image(2048, 8), ['batch', 1000],
  ],
  vgg16: vggShapes([2, 2, 3, 3, 3]),
  vgg19: vggShapes([2, 2, 4, 4, 4]),
  bert: repeat(12, ['batch', 'seq', 768]),
};

const INPUT_SHAPES: Record<ZooModelName, Dim[][]> = {
  resnet50: [image(3, 224)],
  resnet101: [image(3, 224)],
  resnet152: [image(3, 224)],
  inception_v3: [image(3, 299)],
  vgg16: [image(3, 224)],
  vgg19: [image(3, 224)],
  bert: [['batch', 'seq', 768], ['batch', 1, 1, 'seq']],
};

for (const entry of ZOO) {
  test(`${entry.name} (full): ${entry.params.toLocaleString('en')} parameters and the paper's operator boundaries`, () => {
    const sink = new CountingSink();
    const builder = new GraphBuilder(entry.name, { weights: sink });
    const graph = zooDefinition(entry.name).build(builder, { scale: 'full', rng: new Rng(0) });

    assert.equal(builder.paramCount, entry.params);
    assert.equal(builder.operators.length, entry.operatorCount);
    assert.deepEqual(graph.inputs.map((i) => i.shape), INPUT_SHAPES[entry.name]);
    assert.deepEqual(builder.inputs.map((v) => tensorTypeOf(v)?.dims), INPUT_SHAPES[entry.name]);

    const declared = new Map(builder.valueInfos.map((v) => [v.name, tensorTypeOf(v)?.dims]));
    assert.deepEqual(builder.operators.map((op) => declared.get(op.output)), OPERATOR_SHAPES[entry.name]);
    assert.equal(builder.operators.at(-1)!.output, 'output');
    assert.equal(builder.operators.reduce((sum, op) => sum + op.params, 0), entry.params);
    // Buffers (BN running statistics) are stored but not counted, so the bytes exceed 4 per parameter.
    const hasBatchNorm = entry.name.startsWith('resnet') || entry.name === 'inception_v3';
    if (hasBatchNorm) assert.ok(sink.bytes > entry.params * 4);
    else assert.equal(sink.bytes, entry.params * 4);
  });
}
