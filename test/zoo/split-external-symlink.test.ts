/** `abacus split` does not follow a symlinked external-data file out of the model's folder. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureZooModel } from '../../src/zoo/build.js';
import { splitModel } from '../../src/zoo/split.js';
import { assertInputError, cleanup, tempDir } from '../fixtures/split/helpers.js';

test('an external-data file that is a symlink out of the model folder (or not a regular file) is refused; a link inside it is followed', async () => {
  const dir = tempDir();
  try {
    // a model folder with its weights in external data (a tiny zoo build)
    await ensureZooModel('resnet50', dir, 'tiny');
    const first = join(dir, 'resnet50');
    // a model folder whose weights file is a link to a file outside it ("someone else's secrets")
    const secret = join(dir, 'secret.bin');
    copyFileSync(join(first, 'model.onnx.data'), secret);
    const evil = join(dir, 'evil');
    mkdirSync(evil);
    copyFileSync(join(first, 'model.onnx'), join(evil, 'model.onnx'));
    symlinkSync(secret, join(evil, 'model.onnx.data'));
    const tryIt = async (file: string, pattern: RegExp): Promise<void> => {
      const parent = join(dir, `out-${readdirSync(dir).length}`);
      mkdirSync(parent);
      await assertInputError(() => splitModel(file, { outDir: join(parent, 'model') }), file, pattern, parent, join(parent, 'model'));
      assert.deepEqual(readdirSync(parent), []);
    };
    await tryIt(join(evil, 'model.onnx'), /external data outside the model's folder \('model\.onnx\.data'\)/);
    // a link to a device is refused too (it points outside; a fifo inside is no regular file)
    const dev = join(dir, 'dev');
    mkdirSync(dev);
    copyFileSync(join(first, 'model.onnx'), join(dev, 'model.onnx'));
    symlinkSync('/dev/zero', join(dev, 'model.onnx.data'));
    await tryIt(join(dev, 'model.onnx'), /outside the model's folder/);
    // a folder in place of the weights file
    const folder = join(dir, 'folder');
    mkdirSync(join(folder, 'model.onnx.data'), { recursive: true });
    copyFileSync(join(first, 'model.onnx'), join(folder, 'model.onnx'));
    writeFileSync(join(folder, 'model.onnx.data', 'x'), 'x');
    await tryIt(join(folder, 'model.onnx'), /not a regular file/);
    // a link that stays inside the folder is fine
    const inside = join(dir, 'inside');
    mkdirSync(inside);
    copyFileSync(join(first, 'model.onnx'), join(inside, 'model.onnx'));
    copyFileSync(join(first, 'model.onnx.data'), join(inside, 'weights.bin'));
    symlinkSync('weights.bin', join(inside, 'model.onnx.data'));
    await splitModel(join(inside, 'model.onnx'), { outDir: join(dir, 'inside-out') });
    assert.ok(readdirSync(join(dir, 'inside-out')).includes('manifest.json'));
  } finally {
    cleanup(dir);
  }
});
