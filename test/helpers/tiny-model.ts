/**
 * Small model folders for tests, built with the real builder and model-folder code: a chain of
 * `operators` conv blocks (conv + relu, a residual add every other block), optionally with a side input
 * that every operator reads (like BERT's mask).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder, ExternalWeightsFile, attr } from '../../src/onnx/index.js';
import { finishModelFolder, stagingDir, commitStagingDir, DATA_FILE } from '../../src/zoo/model-folder.js';
import { collectProvenance } from '../../src/common/provenance.js';
import { Rng } from '../../src/common/rng.js';
import type { Manifest } from '../../src/zoo/manifest.js';

export interface TinyModel {
  dir: string;
  manifest: Manifest;
}

export function tempDir(prefix = 'abacus-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function buildTinyModel(parent: string, name = 'tiny', operators = 5, options: { side?: boolean; channels?: number; size?: number; id?: number } = {}): Promise<TinyModel> {
  const channels = options.channels ?? 8;
  const size = options.size ?? 16;
  const finalDir = join(parent, name);
  const staging = stagingDir(finalDir);
  const weights = new ExternalWeightsFile(join(staging, DATA_FILE));
  const b = new GraphBuilder(name, { weights });
  const rng = new Rng(7);
  const rand = (n: number, scale: number) => Float32Array.from({ length: n }, () => rng.normal() * scale);
  let x = b.input('input', ['batch', channels, size, size]);
  const side = options.side ? b.input('gain', ['batch', channels, 1, 1]) : null;
  for (let i = 0; i < operators; i++) {
    x = b.operator(`block${i}`, 'conv_block', x, ['batch', channels, size, size], (inp) => {
      const w = b.weight(`w${i}`, [channels, channels, 3, 3], rand(channels * channels * 9, Math.sqrt(2 / (channels * 9))));
      const bias = b.weight(`b${i}`, [channels], rand(channels, 0.1));
      let y = b.op('Conv', [inp, w, bias], { pads: attr.ints([1, 1, 1, 1]), kernel_shape: attr.ints([3, 3]) });
      if (side) y = b.op('Mul', [y, side]);
      y = b.op('Relu', [y]);
      return i % 2 === 1 ? b.op('Add', [y, inp]) : y;
    });
  }
  b.output(x, ['batch', channels, size, size]);
  weights.close();
  const inputs: Manifest['inputs'] = [{ name: 'input', dtype: 'float32', shape: ['batch', channels, size, size], role: 'activation' }];
  if (side) inputs.push({ name: 'gain', dtype: 'float32', shape: ['batch', channels, 1, 1], role: 'side' });
  const manifest = await finishModelFolder(staging, {
    name, id: options.id ?? 7, source: 'split', scale: null, dtype: 'fp32', seed: 7, params: b.paramCount,
    model: b.toModel(), inputs, outputs: [{ name: x, dtype: 'float32', shape: ['batch', channels, size, size] }],
    operators: b.operators, reference: { batch: 1 }, provenance: collectProvenance(),
  });
  commitStagingDir(staging, finalDir);
  return { dir: finalDir, manifest };
}
