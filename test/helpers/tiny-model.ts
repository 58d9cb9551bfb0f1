/**
 * Small model folders for tests, built with the real builder and model-folder code: a chain of
 * `operators` conv blocks (conv + relu, a residual add every other block), optionally with a side input
 * that every operator reads (like BERT's mask), gated through a Sigmoid each operator computes itself
 * (`sideGate`: onnxruntime merges those into one node, as it does with BERT's mask arithmetic), with
 * one operator that is a bare Identity (`identityOperator`: onnxruntime removes it), or in float16.
 */
import { mkdtempSync, rmSync } from 'node:fs';
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

const madeDirs: string[] = [];
let cleanupRegistered = false;

/**
 * A fresh temporary folder, removed when the test process exits (every test file runs in a process of
 * its own); ABACUS_KEEP_TEST_DIRS=1 keeps them for a look after a failure.
 */
export function tempDir(prefix = 'abacus-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  madeDirs.push(dir);
  if (!cleanupRegistered && !process.env.ABACUS_KEEP_TEST_DIRS) {
    cleanupRegistered = true;
    process.on('exit', () => {
      for (const d of madeDirs) rmSync(d, { recursive: true, force: true });
    });
  }
  return dir;
}

export async function buildTinyModel(parent: string, name = 'tiny', operators = 5, options: { side?: boolean; sideGate?: boolean; identityOperator?: number; fp16?: boolean; channels?: number; size?: number; id?: number } = {}): Promise<TinyModel> {
  const channels = options.channels ?? 8;
  const size = options.size ?? 16;
  const finalDir = join(parent, name);
  const staging = stagingDir(finalDir);
  const weights = new ExternalWeightsFile(join(staging, DATA_FILE));
  const dtype = options.fp16 ? 'float16' : 'float32';
  const b = new GraphBuilder(name, { weights, dtype });
  const rng = new Rng(7);
  const rand = (n: number, scale: number) => Float32Array.from({ length: n }, () => rng.normal() * scale);
  let x = b.input('input', ['batch', channels, size, size]);
  const side = options.side ? b.input('gain', ['batch', channels, 1, 1]) : null;
  for (let i = 0; i < operators; i++) {
    if (i === options.identityOperator) {
      x = b.operator(`pass${i}`, 'identity', x, ['batch', channels, size, size], (inp) => b.op('Identity', [inp]));
      continue;
    }
    x = b.operator(`block${i}`, 'conv_block', x, ['batch', channels, size, size], (inp) => {
      const w = b.weight(`w${i}`, [channels, channels, 3, 3], rand(channels * channels * 9, Math.sqrt(2 / (channels * 9))));
      const bias = b.weight(`b${i}`, [channels], rand(channels, 0.1));
      let y = b.op('Conv', [inp, w, bias], { pads: attr.ints([1, 1, 1, 1]), kernel_shape: attr.ints([3, 3]) });
      if (side) y = b.op('Mul', [y, options.sideGate ? b.op('Sigmoid', [side]) : side]);
      y = b.op('Relu', [y]);
      return i % 2 === 1 ? b.op('Add', [y, inp]) : y;
    });
  }
  b.output(x, ['batch', channels, size, size]);
  weights.close();
  const inputs: Manifest['inputs'] = [{ name: 'input', dtype, shape: ['batch', channels, size, size], role: 'activation' }];
  if (side) inputs.push({ name: 'gain', dtype, shape: ['batch', channels, 1, 1], role: 'side' });
  const manifest = await finishModelFolder(staging, {
    name, id: options.id ?? 7, source: 'split', scale: null, dtype: options.fp16 ? 'fp16' : 'fp32', seed: 7, params: b.paramCount,
    model: b.toModel(), inputs, outputs: [{ name: x, dtype, shape: ['batch', channels, size, size] }],
    operators: b.operators, reference: { batch: 1 }, provenance: collectProvenance(),
  });
  commitStagingDir(staging, finalDir);
  return { dir: finalDir, manifest };
}
