// On the GPU machine (from the unpacked app): does a whole query on cuda slow down when the batch size changes
// between runs of one session? Usage: node scripts/gpu/cuda-shape-probe.mjs <models-dir> <out.json> [model ...]
// (1) through the executor, as serving runs it: [0, L] at batch 4/8/16/32, 8 runs at one batch, then 16 runs
// cycling the batches; (2) plain onnxruntime sessions of the whole model: one session fed the cycling batches,
// against one session per batch. Medians in ms per batch, and the provider's effective options.
import { writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { Executor, cudaProviderReport } from '../../dist/executor/index.js';
import { readManifest } from '../../dist/zoo/manifest.js';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');
const [modelsDir, out, ...names] = process.argv.slice(2);
const models = names.length > 0 ? names : ['resnet101'];
const batches = [4, 8, 16, 32];
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const results = [];
let q = 0;
for (const name of models) {
  const dir = join(modelsDir, name);
  const m = readManifest(dir);
  const L = m.operators.length;
  const ex = new Executor();
  const r = { model: name, executor: { fixed: {}, cycling: {} }, plain: { oneSession: {}, perShape: {} } };
  try {
    await ex.addService({ name, modelDir: dir, ep: 'cuda' });
    const run = async (b) => (await ex.runGroup([{ service: name, queryId: `p${q++}`, start: 0, end: L, batch: b, seq: 0 }])).members[0].ms;
    for (const b of batches) { for (let i = 0; i < 3; i++) await run(b); const t = []; for (let i = 0; i < 8; i++) t.push(await run(b)); r.executor.fixed[b] = median(t); }
    const cyc = Object.fromEntries(batches.map((b) => [b, []]));
    for (let i = 0; i < 16; i++) { const b = batches[i % 4]; cyc[b].push(await run(b)); }
    for (const b of batches) r.executor.cycling[b] = median(cyc[b]);
  } finally { await ex.shutdown(); }
  const file = join(dir, readdirSync(dir).find((f) => f.endsWith('.onnx') && !f.startsWith('.')));
  const opts = { executionProviders: [{ name: 'cuda', deviceId: 0 }] };
  const feed = (s, b) => ({ [s.inputNames[0]]: new ort.Tensor('float32', new Float32Array(b * 3 * 224 * 224).fill(0.5), [b, 3, 224, 224]) });
  const one = await ort.InferenceSession.create(file, opts);
  const per = {}; for (const b of batches) per[b] = await ort.InferenceSession.create(file, opts);
  const feeds = Object.fromEntries(batches.map((b) => [b, feed(one, b)]));
  for (const b of batches) for (let i = 0; i < 3; i++) { await one.run(feeds[b]); await per[b].run(feeds[b]); }
  const t1 = Object.fromEntries(batches.map((b) => [b, []])); const t2 = Object.fromEntries(batches.map((b) => [b, []]));
  for (let i = 0; i < 16; i++) {
    const b = batches[i % 4];
    let t0 = performance.now(); await one.run(feeds[b]); t1[b].push(performance.now() - t0);
    t0 = performance.now(); await per[b].run(feeds[b]); t2[b].push(performance.now() - t0);
  }
  for (const b of batches) { r.plain.oneSession[b] = median(t1[b]); r.plain.perShape[b] = median(t2[b]); }
  await one.release(); for (const b of batches) await per[b].release();
  results.push(r);
  console.log(JSON.stringify(r));
}
writeFileSync(out, JSON.stringify({ probe: 'cuda-shape-probe', commit: process.env.ABACUS_GIT_COMMIT ?? null, cuda: cudaProviderReport(), results }, null, 2));
