/**
 * `abacus split`: turn an ONNX model a user brings (a PyTorch export, say) into an abacus model folder
 * (model.onnx + model.onnx.data + manifest.json, the same layout as the zoo's), cut into operators at
 * the points where exactly one activation tensor is live (src/zoo/cuts.ts says which points qualify).
 *
 * The model is rewritten: every initializer of 1 KiB or more moves to external data (smaller ones, shape
 * constants and scalars, stay inline: onnxruntime's shape inference cannot read a Reshape's shape from
 * external data), floating nodes (constants, weight copies, side-input arithmetic) go first, outside
 * every operator, nodes that do not reach the output are dropped, and each operator boundary gets
 * value_info with symbolic dims. Those dims come from two probe
 * runs with different values for each symbolic input dim (the second at batch + 1 and every other symbol
 * at a whole multiple of its reference: 2·ref, 3·ref, ... so sizes that must be multiples of 32 stay
 * so): a dim that follows an input symbol gets its name, a dim that does not change stays a number, any
 * other dim gets a fresh name (`split_dim0`, ...). Weights count as parameters whether they are
 * initializers or the (non-scalar) values of `Constant` nodes (some exporters write them that way).
 *
 * Operators: every valid cut by default, or `operators: N` consecutive pieces merged so that the largest
 * operator's FLOPs (at the reference shape) are as small as possible. A graph without a valid cut is an
 * error unless `operators: 1` asks for it to be kept whole. Every failure that is the input's fault is an
 * InputError naming the file; the output folder is written in a staging folder renamed into place at the
 * end, so an error leaves nothing behind. With `verify`, a chain that differs from the whole model by more
 * than the tolerance is an Error (a bug, not the input's fault) and nothing is written either.
 */
import { existsSync, readFileSync, readdirSync, rmSync, rmdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { create } from '@bufbuild/protobuf';
import type * as ort from 'onnxruntime-node';
import {
  GraphProtoSchema, ModelProtoSchema, TensorProtoSchema, ValueInfoProtoSchema, TensorProto_DataType as DataType,
  type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto,
} from '../onnx/generated/onnx_pb.js';
import {
  ExternalWeightsFile, createCpuSession, firstLine, elementTypeOf, expectedBytes, nodeFlops, nodeReads,
  randomTensor, readOnnxModel, tensorBytes, tensorElementCount, tensorTypeOf, valueInfo,
  type ConcreteType, type Dim, type ElementType, type Feeds, type LoadedModel,
} from '../onnx/index.js';
import { InputError } from '../common/errors.js';
import { Rng } from '../common/rng.js';
import { collectProvenance } from '../common/provenance.js';
import { balancedPartition, findCuts, type GraphCuts } from './cuts.js';
import type { Manifest, ManifestTensor } from './manifest.js';
import { DATA_FILE, commitStagingDir, finishModelFolder, stagingDir, type OperatorDraft } from './model-folder.js';
import { verifyChain, type VerifyResult } from './verify.js';

export interface SplitOptions {
  /** The model folder to write (replaced if it holds an earlier model; refused if it holds other files). */
  outDir: string;
  /** Number of operators (default: one per piece between valid cuts). */
  operators?: number;
  /** Run the whole model and the chain of operators on the CPU and compare (`verifyChain`). */
  verify?: boolean;
  /** Largest accepted |whole - chain| when verifying (default 1e-4; 1e-2 for fp16 models). */
  verifyTolerance?: number;
  /** Model name in the manifest (default: the file's base name). */
  name?: string;
  /** Model id (ids 0-6 are the zoo's; default `defaultSplitId(outDir)`: the id of the model it replaces, else the next free one in its models folder). */
  id?: number;
  /** The graph input that flows through the operators (default: the first input that is not a weight). */
  activationInput?: string;
  /** Values of symbolic input dims for FLOPs and verification (default: batch 1, any other symbol 8). */
  dims?: Record<string, number>;
  /** Seed of the random inputs of the probe and verification runs (default 0). */
  seed?: number;
}

export interface SplitOperatorSummary {
  index: number;
  nodes: [number, number];
  input: string;
  output: string;
  outputShape: Dim[];
  flops: number;
  params: number;
}

export interface SplitResult {
  /** The model folder written (absolute). */
  dir: string;
  name: string;
  id: number;
  /** Operators in the manifest. */
  operators: number;
  /** Valid cut points found (the model can be split into at most `cuts + 1` operators). */
  cuts: number;
  /** The tensor crossing each valid cut, in order. */
  cutTensors: string[];
  /** Nodes moved in front of the operators (recomputed by each segment that needs them). */
  floatingNodes: number;
  /** Nodes dropped because they do not contribute to the output. */
  prunedNodes: number;
  /** True when the file's node order was not topological and was sorted. */
  reordered: boolean;
  params: number;
  reference: Record<string, number>;
  /**
   * Input symbols the model cannot change from their reference value (the exporter baked a traced size
   * into the graph): the model runs only at that value, and dims that follow it are numbers.
   */
  pinned: Record<string, number>;
  operatorList: SplitOperatorSummary[];
  /** Largest |whole - chain| (only with `verify`). */
  maxAbsDiff?: number;
  verify?: VerifyResult;
  manifest: Manifest;
}

/** Zoo ids are 0..6: models a user brings get ids from here up. */
export const SPLIT_FIRST_ID = 7;

function manifestId(dir: string): number | null {
  try {
    const id = (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { id?: unknown }).id;
    return typeof id === 'number' && Number.isInteger(id) ? id : null;
  } catch {
    return null;
  }
}

/**
 * The id a split model written to `outDir` gets when none is given: the id of the split model it replaces
 * there, else one above every id in its models folder (the parent of `outDir`), at least SPLIT_FIRST_ID,
 * so two split models in one folder never share an id.
 */
export function defaultSplitId(outDir: string): number {
  const own = manifestId(outDir);
  if (own !== null && own >= SPLIT_FIRST_ID) return own;
  const parent = dirname(resolve(outDir));
  let next = SPLIT_FIRST_ID;
  if (existsSync(parent)) {
    for (const entry of readdirSync(parent, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const id = manifestId(join(parent, entry.name));
      if (id !== null && id >= next) next = id + 1;
    }
  }
  return next;
}

const FLOAT_TYPES = new Set<number>([DataType.FLOAT, DataType.FLOAT16, DataType.DOUBLE, DataType.BFLOAT16]);

export async function splitModel(path: string, options: SplitOptions): Promise<SplitResult> {
  const label = path;
  const outDir = resolve(options.outDir);
  const id = options.id ?? defaultSplitId(outDir);
  if (!Number.isInteger(id) || id < SPLIT_FIRST_ID) throw new InputError(`${label}: model id ${id} is not allowed (ids 0-6 are the zoo's; use ${SPLIT_FIRST_ID} or more)`);
  const name = options.name ?? defaultName(path);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) throw new InputError(`${label}: model name '${name}' is not allowed (letters, digits, '_', '.', '-')`);
  const seed = options.seed ?? 0;
  checkOutDir(outDir);

  const loaded = readOnnxModel(path);
  const graph = loaded.model.graph!;
  const found = findCuts(graph, { label, activationInput: options.activationInput });
  const pieces = found.cuts.length + 1;
  const wanted = options.operators;
  if (wanted !== undefined) {
    if (!Number.isInteger(wanted) || wanted < 1) throw new InputError(`${label}: cannot split into ${wanted} operators (give a whole number ≥ 1)`);
    if (wanted > 1 && found.cuts.length === 0) throw new InputError(`${label}: the graph has no valid cut point (no place where exactly one activation tensor is live), so it cannot be split into ${wanted} operators`);
    if (wanted > pieces) throw new InputError(`${label}: cannot split into ${wanted} operators: the graph has only ${found.cuts.length} valid cut points (at most ${pieces} operators)`);
  } else if (found.cuts.length === 0) {
    throw new InputError(`${label}: the graph has no valid cut point (no place where exactly one activation tensor is live); pass --operators 1 to keep it as one operator`);
  }
  const { inputs, renamed } = describeInputs(graph.input, found, label);
  const givenDims = Object.fromEntries(Object.entries(options.dims ?? {}).map(([k, v]) => [renamed[k] ?? k, v]));
  const symbols = symbolValues(inputs, found.activationInput, givenDims, label);

  cleanDeadStaging(outDir);
  const createdParents = missingAncestors(dirname(outDir));
  const staging = stagingDir(outDir);
  try {
    // Weights: every initializer the kept nodes read, moved to model.onnx.data.
    const order = found.order;
    const keptNodes = order.map((i) => graph.node[i]!);
    const readByKept = new Set(keptNodes.flatMap((n) => nodeReads(n)));
    const weights = new ExternalWeightsFile(join(staging, DATA_FILE));
    const initializers: TensorProto[] = [];
    let floatElements = 0;
    let halfElements = 0;
    try {
      for (const t of graph.initializer) {
        if (!readByKept.has(t.name)) continue;
        initializers.push(moveInitializer(t, loaded, weights, label));
        if (FLOAT_TYPES.has(t.dataType)) {
          floatElements += tensorElementCount(t);
          if (t.dataType === DataType.FLOAT16 || t.dataType === DataType.BFLOAT16) halfElements += tensorElementCount(t);
        }
      }
    } finally {
      weights.close();
    }
    // weights held in Constant nodes (the exporter's choice) are parameters too; a scalar (rank 0) is an
    // arithmetic literal (x * 0.5), not a weight
    const constantParams = new Map<string, number>();
    for (const n of keptNodes) {
      const value = n.opType === 'Constant' && n.domain === '' ? n.attribute.find((a) => a.name === 'value')?.t : undefined;
      if (!value || !FLOAT_TYPES.has(value.dataType) || value.dims.length === 0 || n.output[0] === undefined) continue;
      const count = tensorElementCount(value);
      constantParams.set(n.output[0], count);
      floatElements += count;
      if (value.dataType === DataType.FLOAT16 || value.dataType === DataType.BFLOAT16) halfElements += count;
    }

    const produced = new Set(keptNodes.flatMap((n) => n.output.filter((o) => o !== '')));
    const inputInfos = inputs.map((i) => valueInfo(i.name, i.dtype, i.shape));
    const userInfos = graph.valueInfo.filter((v) => produced.has(v.name) && v.name !== found.output);
    const outputDecl = graph.output[0]!;
    const rewrite = (output: ValueInfoProto, extraInfos: ValueInfoProto[]): ModelProto => {
      const skip = new Set(extraInfos.map((v) => v.name));
      return create(ModelProtoSchema, {
        ...loaded.model,
        irVersion: loaded.model.irVersion < 4n ? 4n : loaded.model.irVersion,
        graph: create(GraphProtoSchema, {
          ...graph,
          node: keptNodes,
          input: inputInfos,
          output: [output],
          initializer: initializers,
          valueInfo: [...userInfos.filter((v) => !skip.has(v.name)), ...extraInfos],
        }),
      });
    };

    // Two probe runs: at the reference values, then with every symbol changed.
    const probe: LoadedModel = { path: label, model: rewrite(outputDecl, []), baseDir: staging, externalFiles: [join(staging, DATA_FILE)] };
    const names = [...produced];
    const feedsA = probeFeeds(inputs, symbols.reference, seed, label);
    let runA: Map<string, ConcreteType>;
    try {
      runA = await probeTypes(probe, names, feedsA);
    } catch (err) {
      if (!(err instanceof InputError) || symbols.names.length === 0 || !err.message.includes(RUN_FAILED)) throw err;
      const at = symbols.names.map((s) => `${s}=${symbols.reference[s]}`).join(', ');
      throw new InputError(`${err.message.replace(/\)$/, '')}; probed at ${at}: give the values the model needs with --dim NAME=VALUE)`);
    }
    const runB = await alternateRun(probe, names, inputs, symbols, seed, label) ?? runA;

    // FLOPs of each piece at the reference shape, then the operator boundaries.
    const inits = new Map(graph.initializer.map((t) => [t.name, t]));
    const shapeOf = (t: string): readonly number[] | undefined =>
      runA.get(t)?.dims ?? inits.get(t)?.dims.map(Number) ?? feedsA[t]?.dims;
    const activationNodes = order.slice(found.floating);
    const m = activationNodes.length;
    const bounds = [0, ...found.cuts.map((c) => c.position), m];
    const pieceFlops = bounds.slice(0, -1).map((b, k) => {
      let flops = 0;
      for (let p = b; p < bounds[k + 1]!; p++) flops += nodeFlops(graph.node[activationNodes[p]!]!, shapeOf);
      return flops;
    });
    const count = wanted ?? pieces;
    const starts = balancedPartition(pieceFlops, count);
    const boundaryTensors = starts.slice(1).map((s) => found.cuts[s - 1]!.tensor);

    // Symbolic value_info for every boundary and the output.
    const namer = new DimNamer(symbols);
    const boundaryInfos = boundaryTensors.map((t) => valueInfo(t, typeOf(runA, t), namer.dims(t, runA, runB)));
    const outputInfo = valueInfo(found.output, typeOf(runA, found.output), namer.dims(found.output, runA, runB));
    const model = rewrite(outputInfo, boundaryInfos);

    // Operators in the rewritten node order: floating nodes occupy [0, floating).
    const graphOut = model.graph!;
    const producerOf = new Map<string, number>();
    graphOut.node.forEach((n, i) => n.output.forEach((o) => o && producerOf.set(o, i)));
    const paramOf = new Map([...initializers.filter((t) => FLOAT_TYPES.has(t.dataType)).map((t): [string, number] => [t.name, tensorElementCount(t)]), ...constantParams]);
    const operators: OperatorDraft[] = starts.map((s, k) => {
      const first = found.floating + bounds[s]!;
      const last = found.floating + bounds[k + 1 < starts.length ? starts[k + 1]! : pieces]!;
      const reads = readsWithFloating(graphOut.node, first, last, found.floating, producerOf);
      let params = 0;
      for (const r of reads) params += paramOf.get(r) ?? 0;
      return {
        name: `op${k}`,
        kind: 'split',
        input: k === 0 ? found.activationInput : boundaryTensors[k - 1]!,
        output: k === starts.length - 1 ? found.output : boundaryTensors[k]!,
        nodes: [first, last],
        params,
        sideInputs: found.sideInputs.filter((side) => reads.has(side)),
      };
    });

    const manifest = await finishModelFolder(staging, {
      name,
      id,
      source: 'split',
      scale: null,
      dtype: halfElements * 2 > floatElements ? 'fp16' : 'fp32',
      seed: null,
      params: floatElements,
      model,
      inputs,
      outputs: [{ name: found.output, dtype: typeOf(runA, found.output), shape: namer.dims(found.output, runA, runB) }],
      operators,
      reference: symbols.reference,
      provenance: collectProvenance({ seed, executionProvider: 'cpu' }),
    });

    let verify: VerifyResult | undefined;
    if (options.verify) {
      verify = await verifyChain(staging, manifest, manifest.reference, seed);
      const tolerance = options.verifyTolerance ?? (manifest.dtype === 'fp16' ? 1e-2 : 1e-4);
      if (!verify.outputFinite) {
        throw new InputError(`${label}: the model's output is not finite on random input, so the split cannot be verified (run without --verify)`);
      }
      if (!(verify.maxAbsDiff <= tolerance)) {
        throw new Error(`${label}: the chain of ${manifest.operators.length} operators differs from the whole model by ${verify.maxAbsDiff} (tolerance ${tolerance}); nothing was written`);
      }
    }
    commitStagingDir(staging, outDir);
    const result: SplitResult = {
      dir: outDir,
      name,
      id,
      operators: manifest.operators.length,
      cuts: found.cuts.length,
      cutTensors: found.cuts.map((c) => c.tensor),
      floatingNodes: found.floating,
      prunedNodes: found.pruned.length,
      reordered: found.reordered,
      params: manifest.params,
      reference: manifest.reference,
      pinned: Object.fromEntries(symbols.pinned.map((s) => [s, symbols.reference[s]!])),
      operatorList: manifest.operators.map((op) => ({
        index: op.index, nodes: op.nodes, input: op.input, output: op.output, outputShape: op.outputShape, flops: op.flops, params: op.params,
      })),
      manifest,
    };
    if (verify) {
      result.verify = verify;
      result.maxAbsDiff = verify.maxAbsDiff;
    }
    return result;
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    for (const dir of createdParents) {
      try {
        rmdirSync(dir);
      } catch {
        break;
      }
    }
    throw err;
  }
}

/** The folders of `dir`'s path that do not exist yet, deepest first (made by `stagingDir`, removed on error). */
function missingAncestors(dir: string): string[] {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d) && dirname(d) !== d; d = dirname(d)) missing.push(d);
  return missing;
}

/** The model name `abacus split` gives a file when --name is absent. */
export function defaultName(path: string): string {
  const base = basename(path, extname(path)).replace(/[^A-Za-z0-9_.-]/g, '_');
  return /^[A-Za-z0-9]/.test(base) ? base : `model${base}`;
}

/** The output folder may be new, empty, or an earlier model folder (it is replaced); nothing else. */
function checkOutDir(outDir: string): void {
  if (!existsSync(outDir)) return;
  if (!statSync(outDir).isDirectory()) throw new InputError(`${outDir}: exists and is not a folder`);
  const entries = readdirSync(outDir);
  if (entries.length > 0 && !entries.includes('manifest.json')) {
    throw new InputError(`${outDir}: exists and is not a model folder (no manifest.json); choose a new or empty folder`);
  }
}

/** Remove staging folders for `outDir` that a killed run (a process that no longer exists) left behind. */
function cleanDeadStaging(outDir: string): void {
  const parent = dirname(outDir);
  if (!existsSync(parent)) return;
  const prefix = `.${basename(outDir)}.staging-`;
  for (const entry of readdirSync(parent)) {
    if (!entry.startsWith(prefix)) continue;
    const pid = Number(entry.slice(prefix.length).split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && !processAlive(pid)) rmSync(join(parent, entry), { recursive: true, force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The graph inputs (weights excluded) with their roles; unnamed dims get symbol names, and the
 * activation's first symbolic dim is named `batch` whatever the exporter called it (tf2onnx's `unk__612`,
 * PyTorch's `batch_size` or `s0`): the server and the predictor know the batch by that name. `renamed`
 * maps the file's name to `batch`.
 */
function describeInputs(declared: readonly ValueInfoProto[], found: GraphCuts, label: string): { inputs: ManifestTensor[]; renamed: Record<string, string> } {
  const names = [found.activationInput, ...found.sideInputs];
  const byName = new Map(declared.map((v) => [v.name, v]));
  const used = new Set<string>();
  for (const v of declared) {
    const t = tensorTypeOf(v);
    for (const d of t?.dims ?? []) if (typeof d === 'string' && d !== '?') used.add(d);
  }
  const fresh = (base: string): string => {
    let sym = base;
    for (let k = 1; used.has(sym); k++) sym = `${base}_${k}`;
    used.add(sym);
    return sym;
  };
  const inputs = names.map((name): ManifestTensor => {
    const v = byName.get(name)!;
    if (v.type?.value.case !== 'tensorType') throw new InputError(`${label}: input '${name}' is not a tensor (abacus split handles tensor inputs)`);
    const t = tensorTypeOf(v);
    if (!t) throw new InputError(`${label}: input '${name}' has an element type abacus does not support`);
    if (!t.dims) throw new InputError(`${label}: input '${name}' has no shape (abacus split needs at least its rank)`);
    const shape = t.dims.map((d, i): Dim => {
      if (d !== '?') return d;
      return fresh(name === found.activationInput && i === 0 ? 'batch' : `${name.replace(/[^A-Za-z0-9_]/g, '_')}_dim${i}`);
    });
    return { name, dtype: t.dtype, shape, role: name === found.activationInput ? 'activation' : 'side' };
  });
  const first = inputs[0]?.shape[0];
  const renamed: Record<string, string> = {};
  if (typeof first === 'string' && first !== 'batch' && !inputs.some((i) => i.shape.includes('batch'))) {
    renamed[first] = 'batch';
    for (const i of inputs) i.shape = i.shape.map((d) => (d === first ? 'batch' : d));
  }
  return { inputs, renamed };
}

interface SymbolValues {
  /** Symbols of the inputs in order of first appearance. */
  names: string[];
  /** The activation's batch symbol (its first dim), if it has one. */
  batch: string | null;
  reference: Record<string, number>;
  /** Values for the second probe run: batch + 1, the k-th other symbol (2 + k)·ref (distinct pairs, multiples kept). */
  alternate: Record<string, number>;
  /** Symbols the model cannot change from their reference value (see `alternateRun`). */
  pinned: string[];
}

function symbolValues(inputs: readonly ManifestTensor[], activation: string, given: Readonly<Record<string, number>>, label: string): SymbolValues {
  const names: string[] = [];
  for (const input of inputs) for (const d of input.shape) if (typeof d === 'string' && !names.includes(d)) names.push(d);
  const act = inputs.find((i) => i.name === activation)!;
  const batch = typeof act.shape[0] === 'string' ? act.shape[0] : null;
  for (const [k, v] of Object.entries(given)) {
    if (!names.includes(k)) throw new InputError(`${label}: no input dimension is named '${k}' (symbols: ${names.length > 0 ? names.join(', ') : 'none'})`);
    if (!Number.isInteger(v) || v < 1) throw new InputError(`${label}: dimension ${k}=${v} must be a whole number ≥ 1`);
  }
  const reference: Record<string, number> = {};
  const alternate: Record<string, number> = {};
  let k = 0;
  for (const s of names) {
    const ref = given[s] ?? (s === batch ? 1 : 8);
    reference[s] = ref;
    alternate[s] = s === batch ? ref + 1 : (2 + k++) * ref;
  }
  return { names, batch, reference, alternate, pinned: [] };
}

/**
 * The second probe run, with every symbol at its alternate value. When the model cannot run that way,
 * every non-batch symbol at 2·ref together is tried (models that need equal sizes, a square image say);
 * then each symbol alone, and those that cannot change are pinned (an exporter baked a traced length into
 * a Reshape, say): their alternate becomes their reference value (dims that follow them become numbers)
 * and they are listed in `symbols.pinned`. Null when there is no symbol to vary.
 */
async function alternateRun(probe: LoadedModel, names: readonly string[], inputs: readonly ManifestTensor[], symbols: SymbolValues, seed: number, label: string): Promise<Map<string, ConcreteType> | null> {
  if (symbols.names.length === 0) return null;
  const attempt = async (values: Record<string, number>): Promise<Map<string, ConcreteType> | null> => {
    try {
      return await probeTypes(probe, names, probeFeeds(inputs, values, seed, label));
    } catch (err) {
      if (err instanceof InputError) return null;
      throw err;
    }
  };
  const all = await attempt(symbols.alternate);
  if (all) return all;
  const batch = symbols.batch;
  const doubled = Object.fromEntries(symbols.names.map((s) => [s, s === batch ? symbols.alternate[s]! : 2 * symbols.reference[s]!]));
  if (symbols.names.filter((s) => s !== batch).length > 1) {
    const together = await attempt(doubled);
    if (together) {
      Object.assign(symbols.alternate, doubled);
      return together;
    }
  }
  for (const s of symbols.names) {
    if ((await attempt({ ...symbols.reference, [s]: symbols.alternate[s]! })) === null) {
      symbols.alternate[s] = symbols.reference[s]!;
      symbols.pinned.push(s);
    }
  }
  if (symbols.pinned.length === symbols.names.length) return null;
  return probeTypes(probe, names, probeFeeds(inputs, symbols.alternate, seed, label));
}

const RUN_FAILED = 'onnxruntime cannot run the model';

/**
 * Like `discoverTypes` (src/onnx/discover.ts), but with onnxruntime's own logging off: a failed probe is
 * reported through the InputError it becomes (and a failed alternate run is expected for some exports).
 */
async function probeTypes(loaded: LoadedModel, names: readonly string[], feeds: Feeds): Promise<Map<string, ConcreteType>> {
  const graph = loaded.model.graph!;
  const probe = create(ModelProtoSchema, {
    ...loaded.model,
    graph: create(GraphProtoSchema, { ...graph, output: names.map((n) => create(ValueInfoProtoSchema, { name: n })) }),
  });
  let session: ort.InferenceSession;
  try {
    session = await createCpuSession(probe, loaded.baseDir, { graphOptimizationLevel: 'basic', logSeverityLevel: 4 });
  } catch (err) {
    throw new InputError(`${loaded.path}: onnxruntime cannot load the model (${firstLine(err)})`);
  }
  let out: ort.InferenceSession.ReturnType;
  try {
    out = await session.run(feeds, { logSeverityLevel: 4 });
  } catch (err) {
    throw new InputError(`${loaded.path}: ${RUN_FAILED} (${firstLine(err)})`);
  } finally {
    await session.release();
  }
  const result = new Map<string, ConcreteType>();
  for (const name of names) {
    const t = out[name];
    if (!t) throw new Error(`${loaded.path}: tensor '${name}' missing from the probe run`);
    result.set(name, { dtype: t.type as ElementType, dims: [...t.dims] });
  }
  return result;
}

function probeFeeds(inputs: readonly ManifestTensor[], values: Readonly<Record<string, number>>, seed: number, label: string): Feeds {
  const rng = new Rng(seed);
  const feeds: Feeds = {};
  for (const input of inputs) {
    const dims = input.shape.map((d) => (typeof d === 'number' ? d : values[d]!));
    try {
      feeds[input.name] = randomTensor(input.dtype, dims, () => rng.next());
    } catch (err) {
      throw new InputError(`${label}: input '${input.name}': ${(err as Error).message}`);
    }
  }
  return feeds;
}

function typeOf(run: ReadonlyMap<string, ConcreteType>, tensor: string): ElementType {
  const t = run.get(tensor);
  if (!t) throw new Error(`probe run did not report '${tensor}'`);
  return t.dtype;
}

/** Symbolic dims from two probe runs: input symbols by their value pair, constants, or fresh names. */
class DimNamer {
  private readonly bySignature = new Map<string, string>();
  private fresh = 0;

  constructor(symbols: SymbolValues) {
    for (const s of symbols.names) {
      const signature = `${symbols.reference[s]}:${symbols.alternate[s]}`;
      // symbols moved together (2·ref each) share a signature: a dim that follows them gets the first's name
      if (!symbols.pinned.includes(s) && !this.bySignature.has(signature)) this.bySignature.set(signature, s);
    }
  }

  dims(tensor: string, a: ReadonlyMap<string, ConcreteType>, b: ReadonlyMap<string, ConcreteType>): Dim[] {
    const da = a.get(tensor)?.dims;
    const db = b.get(tensor)?.dims;
    if (!da || !db) throw new Error(`probe run did not report '${tensor}'`);
    if (da.length !== db.length) throw new Error(`'${tensor}' has rank ${da.length} in one probe run and ${db.length} in the other`);
    return da.map((x, i) => {
      const y = db[i]!;
      if (x === y) return x;
      const key = `${x}:${y}`;
      let sym = this.bySignature.get(key);
      if (!sym) {
        sym = `split_dim${this.fresh++}`;
        this.bySignature.set(key, sym);
      }
      return sym;
    });
  }
}

/**
 * Initializers smaller than this stay inline (ONNX's own `size_threshold`): they are shape constants and
 * scalars, and onnxruntime's shape inference cannot read a Reshape's shape from external data.
 */
export const INLINE_BELOW_BYTES = 1024;

/** A copy of `t` whose bytes live in the external weights file (strings and tensors under 1 KiB stay inline). */
function moveInitializer(t: TensorProto, loaded: LoadedModel, weights: ExternalWeightsFile, label: string): TensorProto {
  const dims = t.dims.map(Number);
  if (t.dataType === DataType.STRING) {
    if (t.externalData.length > 0) throw new InputError(`${label}: weight '${t.name}' is an external string tensor, which abacus split does not handle`);
    return t;
  }
  const bytes = tensorBytes(t, loaded);
  const expected = expectedBytes(t);
  if (expected !== null && bytes.length !== expected) {
    throw new InputError(`${label}: weight '${t.name}' has ${bytes.length} bytes of data, but its type and dims need ${expected}`);
  }
  if (bytes.length < INLINE_BELOW_BYTES) return create(TensorProtoSchema, { name: t.name, dataType: t.dataType, dims: t.dims, rawData: bytes.slice() });
  return weights.add(t.name, t.dataType, dims, bytes);
}

/**
 * Tensors read by nodes [first, last) and, through them, by the floating nodes ([0, floating)) they need:
 * the weights and side inputs an operator uses.
 */
function readsWithFloating(nodes: readonly NodeProto[], first: number, last: number, floating: number, producerOf: ReadonlyMap<string, number>): Set<string> {
  const reads = new Set<string>();
  const seen = new Set<number>();
  const stack: number[] = [];
  for (let i = first; i < last; i++) stack.push(i);
  while (stack.length > 0) {
    const i = stack.pop()!;
    for (const r of nodeReads(nodes[i]!)) {
      reads.add(r);
      const p = producerOf.get(r);
      if (p !== undefined && p < floating && !seen.has(p)) {
        seen.add(p);
        stack.push(p);
      }
    }
  }
  return reads;
}
