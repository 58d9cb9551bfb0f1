/**
 * Writing a model folder (model.onnx + model.onnx.data + manifest.json) atomically: everything is built
 * in a temporary sibling folder and renamed into place, so an interrupted or failed build leaves nothing
 * half-written. FLOPs are counted at the reference shape with one probe run on the CPU.
 */
import { existsSync, mkdirSync, renameSync, rmSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as ort from 'onnxruntime-node';
import type { ModelProto } from '../onnx/generated/onnx_pb.js';
import { declaredTypes, discoverTypes, initializerMap, nodeFlops, randomTensor, readOnnxModel, sha256File, tensorTypeOf, writeOnnxModel, type Dim } from '../onnx/index.js';
import { writeJsonAtomic } from '../common/fsutil.js';
import { Rng } from '../common/rng.js';
import type { Provenance } from '../common/provenance.js';
import { MANIFEST_FORMAT, MANIFEST_VERSION, concreteDims, defaultLimits, type Manifest, type ManifestOperator, type ManifestTensor } from './manifest.js';

export const MODEL_FILE = 'model.onnx';
export const DATA_FILE = 'model.onnx.data';

/** A fresh temporary folder next to `finalDir` (same file system, so the final rename is atomic). */
export function stagingDir(finalDir: string): string {
  const parent = dirname(finalDir);
  mkdirSync(parent, { recursive: true });
  const dir = join(parent, `.${basename(finalDir)}.staging-${process.pid}-${randomBytes(3).toString('hex')}`);
  mkdirSync(dir);
  return dir;
}

/** Move a finished staging folder to `finalDir`, replacing an older one. */
export function commitStagingDir(staging: string, finalDir: string): void {
  if (existsSync(finalDir)) {
    const trash = `${staging}.old`;
    renameSync(finalDir, trash);
    renameSync(staging, finalDir);
    rmSync(trash, { recursive: true, force: true });
  } else {
    renameSync(staging, finalDir);
  }
}

/** Remove staging folders a killed build left behind in `parent`. */
export function cleanStaleStaging(parent: string): void {
  if (!existsSync(parent)) return;
  for (const name of readdirSync(parent)) if (name.startsWith('.') && name.includes('.staging-')) rmSync(join(parent, name), { recursive: true, force: true });
}

export type OperatorDraft = Omit<ManifestOperator, 'flops' | 'outputShape' | 'index' | 'sideInputs'> & { sideInputs?: string[] };

export interface ModelFolderSpec {
  name: string;
  id: number;
  source: 'zoo' | 'split';
  scale: 'full' | 'tiny' | null;
  dtype: 'fp32' | 'fp16';
  seed: number | null;
  params: number;
  /** The graph; its external weights (if any) are already in `staging/model.onnx.data`. */
  model: ModelProto;
  inputs: ManifestTensor[];
  outputs: ManifestTensor[];
  operators: OperatorDraft[];
  reference: Record<string, number>;
  provenance: Provenance;
}

/** Write model.onnx and manifest.json into `staging` (which already holds the weights, if external). */
export async function finishModelFolder(staging: string, spec: ModelFolderSpec): Promise<Manifest> {
  const modelPath = join(staging, MODEL_FILE);
  writeOnnxModel(modelPath, spec.model);
  const loaded = readOnnxModel(modelPath);
  const graph = spec.model.graph!;
  const declared = declaredTypes(graph);
  const rng = new Rng(spec.seed ?? 0);
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of spec.inputs) {
    feeds[input.name] = randomTensor(input.dtype, concreteDims(input.shape, spec.reference, spec.name), () => rng.next());
  }
  const nodeOutputs = graph.node.flatMap((n) => n.output.filter((o) => o !== ''));
  const found = await discoverTypes(loaded, nodeOutputs, feeds);
  const inits = initializerMap(graph);
  const shapeOf = (name: string): readonly number[] | undefined =>
    found.get(name)?.dims ?? (inits.has(name) ? inits.get(name)!.dims.map(Number) : feeds[name]?.dims);
  const sideNames = new Set(spec.inputs.filter((i) => i.role === 'side').map((i) => i.name));
  const operators: ManifestOperator[] = spec.operators.map((op, index) => {
    let flops = 0;
    const reads = new Set<string>();
    for (let i = op.nodes[0]; i < op.nodes[1]; i++) {
      const node = graph.node[i]!;
      flops += nodeFlops(node, shapeOf);
      node.input.forEach((t) => reads.add(t));
    }
    const outType = declared.get(op.output);
    const outputShape: Dim[] = (outType && tensorTypeOf(outType)?.dims) ?? found.get(op.output)?.dims ?? [];
    return {
      index,
      name: op.name,
      kind: op.kind,
      input: op.input,
      output: op.output,
      outputShape,
      sideInputs: op.sideInputs ?? [...reads].filter((r) => sideNames.has(r)),
      params: op.params,
      flops,
      nodes: op.nodes,
    };
  });
  const dataPath = join(staging, DATA_FILE);
  const hasData = existsSync(dataPath);
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    name: spec.name,
    id: spec.id,
    source: spec.source,
    scale: spec.scale,
    dtype: spec.dtype,
    seed: spec.seed,
    params: spec.params,
    model: { file: MODEL_FILE, sha256: sha256File(modelPath), externalData: hasData ? DATA_FILE : null, externalDataSha256: hasData ? sha256File(dataPath) : null },
    inputs: spec.inputs,
    outputs: spec.outputs,
    reference: spec.reference,
    operators,
    limits: defaultLimits(spec.inputs.some((i) => i.shape.includes('seq'))),
    provenance: spec.provenance,
  };
  writeJsonAtomic(join(staging, 'manifest.json'), manifest);
  return manifest;
}
