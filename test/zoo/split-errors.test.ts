/**
 * `abacus split` on bad input: every problem that is the input's fault is an InputError (exit code 2)
 * with one line naming the file, and nothing is left in the output folder's parent (no staging folder).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GraphBuilder } from '../../src/onnx/index.js';
import { exitCodeOf } from '../../src/common/errors.js';
import { splitModel, type SplitOptions } from '../../src/zoo/split.js';
import { FIXTURES, assertInputError, cleanup, tempDir, values, writeBuilt } from '../fixtures/split/helpers.js';

/** Run `splitModel(file)` expecting an InputError matching `pattern`, with a fresh, empty output parent. */
async function expectFailure(dir: string, file: string, pattern: RegExp, options: Omit<SplitOptions, 'outDir'> = {}): Promise<void> {
  const parent = join(dir, `out-${readdirSync(dir).length}`);
  mkdirSync(parent);
  const outDir = join(parent, 'model');
  await assertInputError(() => splitModel(file, { ...options, outDir }), file, pattern, parent, outDir);
  assert.deepEqual(readdirSync(parent), [], 'the output parent is left empty');
}

function chain(name: string, op = 'Sigmoid', opset = 17): GraphBuilder {
  const b = new GraphBuilder(name, { opset });
  const x = b.input('x', ['batch', 4]);
  const a = b.op('MatMul', [x, b.weight('w', [4, 4], values(16, 1))]);
  const c = b.op(op, [a]);
  b.node('Relu', [c], {}, ['y']);
  b.output('y', ['batch', 4]);
  return b;
}

test('files that are not ONNX models: missing, a folder, empty, random bytes, truncated', async () => {
  const dir = tempDir();
  try {
    await expectFailure(dir, join(dir, 'missing.onnx'), /no such file/);
    mkdirSync(join(dir, 'folder.onnx'));
    await expectFailure(dir, join(dir, 'folder.onnx'), /folder/);
    writeFileSync(join(dir, 'empty.onnx'), '');
    await expectFailure(dir, join(dir, 'empty.onnx'), /empty/);
    const random = new Uint8Array(4096);
    let s = 99;
    for (let i = 0; i < random.length; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      random[i] = s >>> 24;
    }
    writeFileSync(join(dir, 'random.onnx'), random);
    await expectFailure(dir, join(dir, 'random.onnx'), /not an ONNX model/);
    const whole = readFileSync(join(FIXTURES, 'tiny_resnet.onnx'));
    for (const fraction of [0.1, 0.5, 0.9]) {
      const file = join(dir, `truncated-${fraction}.onnx`);
      writeFileSync(file, whole.subarray(0, Math.floor(whole.length * fraction)));
      await expectFailure(dir, file, /not an ONNX model|truncated/);
    }
  } finally {
    cleanup(dir);
  }
});

test('a model whose external data file is truncated', async () => {
  const dir = tempDir();
  try {
    const b = new GraphBuilder('big');
    const x = b.input('x', ['batch', 64]);
    const a = b.op('MatMul', [x, b.weight('w', [64, 64], values(64 * 64, 1))]);
    b.node('Relu', [a], {}, ['y']);
    b.output('y', ['batch', 64]);
    const model = join(dir, 'first');
    await splitModel(writeBuilt(dir, b), { outDir: model });
    const data = join(model, 'model.onnx.data');
    writeFileSync(data, readFileSync(data).subarray(0, 100));
    await expectFailure(dir, join(model, 'model.onnx'), /truncated external data/);
  } finally {
    cleanup(dir);
  }
});

test('models onnxruntime cannot load: an unknown operator, an unreleased opset', async () => {
  const dir = tempDir();
  try {
    await expectFailure(dir, writeBuilt(dir, chain('unknown_op', 'FooBar')), /onnxruntime cannot load the model .*FooBar/);
    await expectFailure(dir, writeBuilt(dir, chain('opset99', 'Sigmoid', 99)), /onnxruntime cannot load the model .*[Oo]pset 99/);
    // Folders made for a deep --out path are removed again when the split fails after making them.
    const parent = join(dir, 'deep');
    mkdirSync(parent);
    const file = join(dir, 'unknown_op.onnx');
    await assertInputError(() => splitModel(file, { outDir: join(parent, 'a', 'b', 'model') }), file, /FooBar/, parent, join(parent, 'a'));
    assert.deepEqual(readdirSync(parent), []);
  } finally {
    cleanup(dir);
  }
});

test('impossible operator counts and graphs without a cut', async () => {
  const dir = tempDir();
  try {
    const ok = writeBuilt(dir, chain('chain3'));
    await expectFailure(dir, ok, /cannot split into 4 operators: the graph has only 2 valid cut points/, { operators: 4 });
    await expectFailure(dir, ok, /whole number/, { operators: 0 });
    await expectFailure(dir, ok, /whole number/, { operators: 1.5 });

    // y = x + Relu(x): x is live until the Add, so there is no cut.
    const b = new GraphBuilder('nocut');
    const x = b.input('x', ['batch', 4]);
    const r = b.op('Relu', [x]);
    b.node('Add', [x, r], {}, ['y']);
    b.output('y', ['batch', 4]);
    const nocut = writeBuilt(dir, b);
    await expectFailure(dir, nocut, /no valid cut point.*--operators 1/);
    await expectFailure(dir, nocut, /no valid cut point/, { operators: 2 });
    const one = await splitModel(nocut, { outDir: join(dir, 'one'), operators: 1, verify: true });
    assert.equal(one.operators, 1);
  } finally {
    cleanup(dir);
  }
});

test('graphs abacus split does not handle: two outputs, an output not fed by the activation, dangling reads, cycles', async () => {
  const dir = tempDir();
  try {
    const two = chain('two_outputs');
    two.output(two.nodes[0]!.output[0]!, ['batch', 4]);
    await expectFailure(dir, writeBuilt(dir, two), /2 outputs/);

    const constant = new GraphBuilder('constant_output');
    constant.input('x', ['batch', 4]);
    constant.node('Identity', [constant.weight('w', [4], values(4, 2))], {}, ['y']);
    constant.output('y', [4]);
    await expectFailure(dir, writeBuilt(dir, constant), /does not depend on the activation input 'x'/);

    const dangling = chain('dangling');
    dangling.nodes[1]!.input[0] = 'nowhere';
    await expectFailure(dir, writeBuilt(dir, dangling), /reads 'nowhere', which no node produces/);

    const cycle = chain('cycle');
    cycle.nodes[1]!.input[0] = 'y';
    await expectFailure(dir, writeBuilt(dir, cycle), /cycle/);
  } finally {
    cleanup(dir);
  }
});

test('bad options: unknown activation input, a zoo id, a bad name, unknown or bad dims', async () => {
  const dir = tempDir();
  try {
    const ok = writeBuilt(dir, chain('options'));
    await expectFailure(dir, ok, /no graph input named 'tokens'/, { activationInput: 'tokens' });
    await expectFailure(dir, ok, /model id 3 is not allowed/, { id: 3 });
    await expectFailure(dir, ok, /model name '\.\.\/x' is not allowed/, { name: '../x' });
    await expectFailure(dir, ok, /no input dimension is named 'seq'/, { dims: { seq: 4 } });
    await expectFailure(dir, ok, /batch=0 must be a whole number/, { dims: { batch: 0 } });
  } finally {
    cleanup(dir);
  }
});

test('an output folder holding other files is refused and left untouched', async () => {
  const dir = tempDir();
  try {
    const ok = writeBuilt(dir, chain('keep'));
    const outDir = join(dir, 'precious');
    mkdirSync(outDir);
    writeFileSync(join(outDir, 'notes.txt'), 'mine');
    await assert.rejects(splitModel(ok, { outDir }), (err: unknown) => {
      assert.equal(exitCodeOf(err), 2);
      assert.match((err as Error).message, /not a model folder/);
      return true;
    });
    assert.deepEqual(readdirSync(outDir), ['notes.txt']);
    assert.ok(!readdirSync(dir).some((n) => n.includes('staging')), 'no staging folder');
    assert.ok(existsSync(join(outDir, 'notes.txt')), 'the file is still there');
  } finally {
    cleanup(dir);
  }
});
