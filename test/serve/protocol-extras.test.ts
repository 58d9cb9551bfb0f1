// The protocol extras that Triton's and KServe's tools call, through clients built from the official
// protos (KServe's open_inference_grpc.proto, Triton's grpc_service.proto, gRPC's health.proto and
// reflection.proto): ModelConfig, ModelStatistics, RepositoryIndex, health, reflection, metadata
// properties, the binary extension's per-output choice, unknown models, and metrics from the start.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { connect } from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { loadHealthService, loadInferenceService, loadTritonService, PROTO_LOADER_OPTIONS, type OnlineServer } from '../../src/serve/index.js';
import { baseUrl, counterValues, getJson, inferBody, postJson, seededInputs, startTestServer, tinyZoo, type TinyZoo } from './helpers.js';

let zoo: TinyZoo;
let server: OnlineServer;
let url: string;
let target: string;
let metricsAtStart: string;

before(async () => {
  zoo = await tinyZoo();
  server = await startTestServer({ grpc: { host: '127.0.0.1', port: 0 } });
  url = baseUrl(server);
  target = `127.0.0.1:${server.grpcAddress!.port}`;
  metricsAtStart = await (await fetch(`${url}/metrics`)).text();
});

after(async () => {
  await server?.drain();
});

type Callback<T> = (err: grpc.ServiceError | null, value: T) => void;
function rpc<T>(client: grpc.Client, method: string, request: unknown, options: grpc.CallOptions = {}): Promise<T> {
  const fn = (client as unknown as Record<string, (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback<T>) => void>)[method]!;
  return new Promise((resolve, reject) => fn.call(client, request, new grpc.Metadata(), options, (err: grpc.ServiceError | null, value: T) => (err ? reject(err) : resolve(value))));
}
const insecure = (): grpc.ChannelCredentials => grpc.credentials.createInsecure();

test('metrics exist from the start: every model x outcome at 0, build info, gRPC methods at 0', () => {
  const requests = counterValues(metricsAtStart, 'abacus_requests_total');
  for (const model of ['resnet50', 'bert', '_unknown']) {
    for (const outcome of ['ok', 'late', 'dropped', 'rejected', 'failed', 'cancelled', 'invalid', 'unavailable']) {
      assert.equal(requests.get(`model="${model}",outcome="${outcome}"`), 0, `${model}/${outcome}`);
    }
  }
  assert.match(metricsAtStart, /^abacus_request_duration_seconds_count\{model="resnet50"\} 0$/m);
  assert.match(metricsAtStart, /^abacus_build_info\{version="0\.1\.0",commit="[^"]+",node="[^"]+",onnxruntime="1\.29\.0"\} 1$/m);
  const grpcCalls = counterValues(metricsAtStart, 'abacus_grpc_server_handled_total');
  for (const m of ['ModelInfer', 'ModelConfig', 'ModelStatistics', 'Check']) assert.equal(grpcCalls.get(`grpc_method="${m}",grpc_code="OK"`), 0, m);
});

test('Triton ModelConfig (gRPC, Triton proto) and GET /config agree and describe the model', async () => {
  const client = new (loadTritonService())(target, insecure());
  try {
    const r = await rpc<{ config: Record<string, unknown> }>(client, 'ModelConfig', { name: 'resnet50' });
    const c = r.config as { name: string; platform: string; backend: string; max_batch_size: number; input: { name: string; data_type: string; dims: number[] }[]; output: { name: string; data_type: string; dims: number[] }[] };
    const manifest = zoo.models[0]!.manifest;
    assert.equal(c.name, 'resnet50');
    assert.equal(c.platform, 'onnxruntime_onnx');
    assert.equal(c.backend, 'onnxruntime');
    // the server's limit is 1024; the manifest's limits.maxBatch (64 by default) is smaller and wins
    assert.equal(manifest.limits.maxBatch < 1024, true);
    assert.equal(c.max_batch_size, manifest.limits.maxBatch, 'the batch dim is symbolic: the model batches up to the smaller of the server limit and its manifest limit');
    assert.equal(c.input[0]!.name, manifest.inputs[0]!.name);
    assert.equal(c.input[0]!.data_type, 'TYPE_FP32');
    assert.deepEqual(c.input[0]!.dims, manifest.inputs[0]!.shape.slice(1).map((d) => (typeof d === 'number' ? d : -1)), 'dims leave the batch dim out');
    assert.equal(c.output[0]!.name, manifest.outputs[0]!.name);
    const rest = await getJson(`${url}/v2/models/resnet50/config`);
    assert.equal(rest.status, 200);
    assert.equal(rest.json.max_batch_size, manifest.limits.maxBatch);
    const pick = (t: { name: string; data_type: string; dims: number[] }): unknown => ({ name: t.name, data_type: t.data_type, dims: t.dims });
    assert.deepEqual((rest.json.input as typeof c.input).map(pick), c.input.map(pick), 'REST and gRPC give the same inputs');
    assert.deepEqual((rest.json.output as typeof c.output).map(pick), c.output.map(pick));
    assert.equal((await getJson(`${url}/v2/models/nope/config`)).status, 404);
    await assert.rejects(rpc(client, 'ModelConfig', { name: 'nope' }), (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND);
    // Triton's methods abacus does not implement answer UNIMPLEMENTED
    await assert.rejects(rpc(client, 'SystemSharedMemoryStatus', {}), (e: grpc.ServiceError) => e.code === grpc.status.UNIMPLEMENTED);
  } finally {
    client.close();
  }
});

test('ModelStatistics counts requests, batch sizes and cumulative queue/compute ns (gRPC and REST)', async () => {
  const triton = new (loadTritonService())(target, insecure());
  try {
    const before = (await getJson(`${url}/v2/models/bert/stats`)).json as { model_stats: { inference_count: number; execution_count: number; inference_stats: Record<string, { count: number; ns: number }> }[] };
    const n0 = before.model_stats[0]!.execution_count;
    const f0 = before.model_stats[0]!.inference_stats.fail!.count;
    const bert = zoo.models[1]!.manifest;
    for (const batch of [1, 2, 2]) {
      const r = await postJson(`${url}/v2/models/bert/infer`, inferBody(seededInputs(bert, batch, 8)));
      assert.equal(r.status, 200, JSON.stringify(r.json));
    }
    const bad = await postJson(`${url}/v2/models/bert/infer`, { inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }] });
    assert.equal(bad.status, 400);
    const r = await rpc<{ model_stats: { name: string; version: string; last_inference: number; inference_count: number; execution_count: number; inference_stats: Record<string, { count: number; ns: number }>; batch_stats: { batch_size: number; compute_infer: { count: number; ns: number } }[] }[] }>(triton, 'ModelStatistics', { name: 'bert' });
    assert.equal(r.model_stats.length, 1);
    const s = r.model_stats[0]!;
    assert.equal(s.name, 'bert');
    assert.equal(s.version, '1');
    assert.equal(s.execution_count - n0, 3);
    assert.equal(s.inference_count - before.model_stats[0]!.inference_count, 5, 'inference_count sums batch sizes');
    const st = s.inference_stats;
    assert.equal(st.success!.count - before.model_stats[0]!.inference_stats.success!.count, 3);
    assert.equal(st.fail!.count - f0, 1, 'the bad request counts as a failure');
    for (const k of ['success', 'queue', 'compute_input', 'compute_infer', 'compute_output']) {
      assert.equal(st[k]!.count, s.execution_count, `${k} count`);
      assert.ok(Number.isInteger(st[k]!.ns) && st[k]!.ns > 0, `${k} ns = ${st[k]!.ns}`);
    }
    assert.ok(st.success!.ns >= st.compute_infer!.ns + st.queue!.ns * 0.5, 'success (end to end) covers compute');
    assert.ok(s.last_inference > Date.now() - 60_000 && s.last_inference <= Date.now());
    const two = s.batch_stats.find((b) => b.batch_size === 2);
    assert.ok(two && two.compute_infer.count >= 2);
    const all = await rpc<{ model_stats: { name: string }[] }>(triton, 'ModelStatistics', {});
    assert.deepEqual(all.model_stats.map((m) => m.name).sort(), ['bert', 'resnet50']);
    const restAll = await getJson(`${url}/v2/models/stats`);
    assert.deepEqual((restAll.json.model_stats as { name: string }[]).map((m) => m.name).sort(), ['bert', 'resnet50']);
    await assert.rejects(rpc(triton, 'ModelStatistics', { name: 'nope' }), (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND);
    assert.equal((await getJson(`${url}/v2/models/nope/stats`)).status, 404);
  } finally {
    triton.close();
  }
});

test('KServe client: metadata properties, extensions with model_repository, RepositoryIndex, unknown model NOT_FOUND whatever the body', async () => {
  const kserve = new (loadInferenceService())(target, insecure());
  const triton = new (loadTritonService())(target, insecure());
  try {
    const meta = await rpc<{ name: string; properties: Record<string, string> }>(kserve, 'ModelMetadata', { name: 'resnet50' });
    assert.equal(meta.properties.abacus_id, String(zoo.models[0]!.manifest.id));
    assert.equal(meta.properties.operators, String(zoo.models[0]!.manifest.operators.length));
    assert.equal(meta.properties.qos_ms, '5000');
    assert.equal(meta.properties.max_batch, String(zoo.models[0]!.manifest.limits.maxBatch), 'the manifest limits go out as properties too');
    // a Triton client reads the same response (the properties are a field it skips)
    const tmeta = await rpc<{ name: string; inputs: unknown[] }>(triton, 'ModelMetadata', { name: 'resnet50' });
    assert.equal(tmeta.name, 'resnet50');
    assert.equal(tmeta.inputs.length, zoo.models[0]!.manifest.inputs.length);
    const sm = await rpc<{ extensions: string[] }>(kserve, 'ServerMetadata', {});
    for (const e of ['model_repository', 'model_configuration', 'statistics', 'binary_tensor_data']) assert.ok(sm.extensions.includes(e), e);
    assert.deepEqual((await getJson(`${url}/v2`)).json.extensions, sm.extensions);
    const index = await rpc<{ models: { name: string; state: string }[] }>(triton, 'RepositoryIndex', {});
    assert.deepEqual(index.models.map((m) => m.name).sort(), ['bert', 'resnet50']);
    assert.ok(index.models.every((m) => m.state === 'READY'));
    // unknown model with a body that is also wrong: NOT_FOUND / 404, not INVALID_ARGUMENT / 400
    await assert.rejects(rpc(kserve, 'ModelInfer', { model_name: 'nope', inputs: [{ name: 'x', datatype: 'FP32', shape: [1] }], raw_input_contents: [Buffer.alloc(4), Buffer.alloc(4)] }), (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND);
    for (const body of ['', '{', '{"inputs": []}']) {
      const r = await fetch(`${url}/v2/models/nope/infer`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      assert.equal(r.status, 404, `body ${JSON.stringify(body)}`);
      await r.arrayBuffer();
    }
  } finally {
    kserve.close();
    triton.close();
  }
});

test('binary extension: an output that says binary_data: false comes back as JSON despite binary_data_output', async () => {
  const m = zoo.models[0]!.manifest;
  const out = m.outputs[0]!.name;
  const inputs = seededInputs(m, 1, 0);
  const asJson = await postJson(`${url}/v2/models/resnet50/infer`, { ...inferBody(inputs, { binary_data_output: true }), outputs: [{ name: out, parameters: { binary_data: false } }] });
  assert.equal(asJson.status, 200);
  assert.equal(asJson.headers.get('inference-header-content-length'), null);
  const o = (asJson.json.outputs as { data?: number[]; parameters?: unknown }[])[0]!;
  assert.ok(Array.isArray(o.data), 'JSON data');
  // without the per-output word, binary_data_output still makes it binary
  const r = await fetch(`${url}/v2/models/resnet50/infer`, { method: 'POST', body: JSON.stringify({ ...inferBody(inputs, { binary_data_output: true }), outputs: [{ name: out }] }), headers: { 'content-type': 'application/json' } });
  assert.equal(r.status, 200);
  const length = Number(r.headers.get('inference-header-content-length'));
  const bytes = Buffer.from(await r.arrayBuffer());
  const head = JSON.parse(bytes.subarray(0, length).toString('utf8')) as { outputs: { parameters: { binary_data_size: number } }[] };
  assert.equal(bytes.length - length, head.outputs[0]!.parameters.binary_data_size);
  assert.deepEqual(new Float32Array(bytes.buffer.slice(bytes.byteOffset + length)), Float32Array.from(o.data!), 'binary and JSON carry the same values');
  const wrong = await postJson(`${url}/v2/models/resnet50/infer`, { ...inferBody(inputs), outputs: [{ name: out, parameters: { binary_data: 'no' } }] });
  assert.equal(wrong.status, 400);
  assert.match(String(wrong.json.error), /binary_data must be true or false/);
});

test('grpc.health.v1.Health/Check and List: SERVING for the server and the inference service, NOT_FOUND otherwise', async () => {
  const health = new (loadHealthService())(target, insecure());
  try {
    assert.equal((await rpc<{ status: string }>(health, 'Check', { service: '' })).status, 'SERVING');
    assert.equal((await rpc<{ status: string }>(health, 'Check', { service: 'inference.GRPCInferenceService' })).status, 'SERVING');
    await assert.rejects(rpc(health, 'Check', { service: 'nope.Service' }), (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND);
    const list = await rpc<{ statuses: Record<string, { status: string }> }>(health, 'List', {});
    assert.deepEqual(Object.keys(list.statuses).sort(), ['', 'inference.GRPCInferenceService']);
  } finally {
    health.close();
  }
});

test('server reflection lists the services and describes ModelConfig', async () => {
  const require = createRequire(import.meta.url);
  const reflectionProto = require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto');
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(reflectionProto, PROTO_LOADER_OPTIONS)) as unknown as { grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } } };
  const client = new pkg.grpc.reflection.v1.ServerReflection(target, insecure());
  try {
    const ask = (request: Record<string, unknown>): Promise<Record<string, unknown>> => new Promise((resolve, reject) => {
      const call = (client as unknown as { ServerReflectionInfo: () => grpc.ClientDuplexStream<unknown, Record<string, unknown>> }).ServerReflectionInfo();
      call.on('data', (d: Record<string, unknown>) => {
        resolve(d);
        call.end();
      });
      call.on('error', reject);
      call.write(request);
    });
    const listed = await ask({ list_services: '' });
    const names = (listed.list_services_response as { service: { name: string }[] }).service.map((s) => s.name);
    for (const n of ['inference.GRPCInferenceService', 'grpc.health.v1.Health']) assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
    const file = await ask({ file_containing_symbol: 'inference.ModelConfigResponse' });
    const protos = (file.file_descriptor_response as { file_descriptor_proto: Buffer[] }).file_descriptor_proto;
    assert.ok(protos.length >= 1 && protos.some((b) => b.toString('latin1').includes('ModelConfigResponse')));
  } finally {
    client.close();
  }
});

test('a gRPC call whose deadline expires before its handler runs is still counted, as DEADLINE_EXCEEDED', async () => {
  // raw HTTP/2 gRPC calls with a 1 ms deadline (grpc-timeout) whose request message never comes: the
  // deadline expires while the request is awaited and the handler never runs. grpc-js's 1 ms timer can
  // fire before Date.now() reaches the deadline it set, so a count that compared the two alone called a
  // few in a hundred of these CANCELLED; 200 calls catch that with a chance of about 99 %.
  const calls = 200;
  const handled = async (): Promise<{ deadline: number; cancelled: number }> => {
    const c = counterValues(await (await fetch(`${url}/metrics`)).text(), 'abacus_grpc_server_handled_total');
    return { deadline: c.get('grpc_method="ModelInfer",grpc_code="DEADLINE_EXCEEDED"') ?? 0, cancelled: c.get('grpc_method="ModelInfer",grpc_code="CANCELLED"') ?? 0 };
  };
  const before = await handled();
  const session = connect(`http://${target}`);
  const seen: (string | undefined)[] = [];
  try {
    for (let i = 0; i < calls; i++) {
      const stream = session.request({ ':method': 'POST', ':path': '/inference.GRPCInferenceService/ModelInfer', 'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': '1m' });
      seen.push(
        await new Promise<string | undefined>((resolve) => {
          stream.on('response', (headers) => {
            if (headers['grpc-status'] !== undefined) resolve(String(headers['grpc-status']));
          });
          stream.on('trailers', (trailers) => resolve(String(trailers['grpc-status'])));
          stream.on('close', () => resolve(undefined));
          stream.on('error', () => resolve(undefined));
          stream.resume();
        }),
      );
      stream.close(); // the client's half, so that the stream leaves the connection's concurrency
    }
  } finally {
    session.close();
  }
  assert.deepEqual(new Set(seen), new Set([String(grpc.status.DEADLINE_EXCEEDED)]), 'every call ends by its deadline');
  // the server reports each call before its status reaches the client; the wait only bounds a slow machine
  let after = await handled();
  for (let i = 0; i < 250 && after.deadline + after.cancelled - before.deadline - before.cancelled < calls; i++) {
    await new Promise((r) => setTimeout(r, 20));
    after = await handled();
  }
  assert.equal(after.deadline - before.deadline, calls, 'each call is counted once, as DEADLINE_EXCEEDED');
  assert.equal(after.cancelled - before.cancelled, 0, 'none is counted as a client that went away');
  const requests = counterValues(await (await fetch(`${url}/metrics`)).text(), 'abacus_requests_total');
  assert.equal(requests.get('model="resnet50",outcome="cancelled"'), 0, 'the core never saw them');
});
