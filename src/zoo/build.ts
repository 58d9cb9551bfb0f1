/**
 * `abacus zoo build`: build a zoo model into `<modelsDir>/<name>/` with weights streamed to
 * `model.onnx.data`, then write the manifest, all in a staging folder renamed into place at the end.
 */
import { join } from 'node:path';
import { GraphBuilder, ExternalWeightsFile } from '../onnx/index.js';
import { InputError } from '../common/errors.js';
import { Rng } from '../common/rng.js';
import { collectProvenance } from '../common/provenance.js';
import { zooEntry, type ZooModelName } from './catalog.js';
import type { ZooScale } from './definition.js';
import { zooDefinition } from './models/index.js';
import { cleanStaleStaging, commitStagingDir, finishModelFolder, stagingDir, DATA_FILE } from './model-folder.js';
import { readManifest, type Manifest } from './manifest.js';
import { verifyChain, type VerifyResult } from './verify.js';
import { rmSync, existsSync } from 'node:fs';

export interface ZooBuildOptions {
  modelsDir: string;
  scale: ZooScale;
  dtype: 'fp32' | 'fp16';
  seed: number;
  verify?: boolean;
}

export interface ZooBuildResult {
  name: ZooModelName;
  id: number;
  dir: string;
  operators: number;
  params: number;
  expectedParams: number | null;
  buildMs: number;
  weightBytes: number;
  verify?: VerifyResult;
}

export async function buildZooModel(nameOrId: string | number, options: ZooBuildOptions): Promise<ZooBuildResult> {
  const entry = zooEntry(nameOrId);
  const def = zooDefinition(entry.name);
  const finalDir = join(options.modelsDir, entry.name);
  cleanStaleStaging(options.modelsDir);
  const staging = stagingDir(finalDir);
  const started = performance.now();
  try {
    const weights = new ExternalWeightsFile(join(staging, DATA_FILE));
    const builder = new GraphBuilder(entry.name, { dtype: options.dtype === 'fp16' ? 'float16' : 'float32', weights });
    let graph;
    try {
      graph = def.build(builder, { scale: options.scale, rng: new Rng(options.seed) });
    } finally {
      weights.close();
    }
    if (builder.operators.length !== entry.operatorCount) {
      throw new Error(`${entry.name}: built ${builder.operators.length} operators, the paper's decomposition has ${entry.operatorCount}`);
    }
    const manifest = await finishModelFolder(staging, {
      name: entry.name,
      id: entry.id,
      source: 'zoo',
      scale: options.scale,
      dtype: options.dtype,
      seed: options.seed,
      params: builder.paramCount,
      model: builder.toModel(),
      inputs: graph.inputs,
      outputs: graph.outputs,
      operators: builder.operators,
      reference: graph.reference,
      provenance: collectProvenance({ seed: options.seed, executionProvider: 'cpu' }),
    });
    const result: ZooBuildResult = {
      name: entry.name,
      id: entry.id,
      dir: finalDir,
      operators: manifest.operators.length,
      params: manifest.params,
      expectedParams: options.scale === 'full' ? entry.params : null,
      buildMs: 0,
      weightBytes: weights.totalBytes,
    };
    if (options.verify) result.verify = await verifyChain(staging, manifest);
    commitStagingDir(staging, finalDir);
    result.buildMs = performance.now() - started;
    return result;
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
}

/**
 * The manifest of a zoo model in `modelsDir`, built on demand (with `scale`) when it is missing.
 * A model built at another scale than asked is an error rather than a silent mismatch.
 */
export async function ensureZooModel(nameOrId: string | number, modelsDir: string, scale: ZooScale, seed = 0): Promise<Manifest> {
  const entry = zooEntry(nameOrId);
  const dir = join(modelsDir, entry.name);
  if (!existsSync(join(dir, 'manifest.json'))) {
    await buildZooModel(entry.name, { modelsDir, scale, dtype: 'fp32', seed });
  }
  const manifest = readManifest(dir);
  if (manifest.scale !== scale) {
    throw new InputError(`${dir}: built at scale '${manifest.scale}', but '${scale}' was asked for (rebuild it with 'abacus zoo build ${entry.name} --scale ${scale}', or use another --models-dir)`);
  }
  return manifest;
}
