// The bearer token (--auth-token) over the whole Triton/KServe surface: Triton's ModelConfig,
// ModelStatistics and RepositoryIndex (gRPC and REST), server reflection, and `abacus load` over gRPC;
// the health service stays open; refused calls are counted by their final gRPC status.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { startCli } from '../helpers/cli.js';
import { loadHealthService, loadTritonService, PROTO_LOADER_OPTIONS, type OnlineServer } from '../../src/serve/index.js';
import { baseUrl, counterValues, startTestServer } from './helpers.js';

const TOKEN = 'a-test-token-of-32-characters-xy';
let server: OnlineServer;
let url: string;
let target: string;

before(async () => {
  server = await startTestServer({ authToken: TOKEN, grpc: { host: '127.0.0.1', port: 0 } });
  url = baseUrl(server);
  target = `127.0.0.1:${server.grpcAddress!.port}`;
});

after(async () => {
  await server?.drain();
});

const withToken = (): grpc.Metadata => {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${TOKEN}`);
  return md;
};

function rpc(client: grpc.Client, method: string, request: unknown, md = new grpc.Metadata()): Promise<{ err: grpc.ServiceError | null; value: unknown }> {
  const fn = (client as unknown as Record<string, (r: unknown, m: grpc.Metadata, cb: (e: grpc.ServiceError | null, v: unknown) => void) => void>)[method]!;
  return new Promise((resolve) => fn.call(client, request, md, (err, value) => resolve({ err, value })));
}

test("Triton's ModelConfig, ModelStatistics and RepositoryIndex need the token over gRPC and REST; the health service does not", async () => {
  const triton = new (loadTritonService())(target, grpc.credentials.createInsecure());
  const health = new (loadHealthService())(target, grpc.credentials.createInsecure());
  try {
    for (const [method, req] of [['ModelConfig', { name: 'resnet50' }], ['ModelStatistics', { name: '' }], ['RepositoryIndex', {}]] as const) {
      assert.equal((await rpc(triton, method, req)).err?.code, grpc.status.UNAUTHENTICATED, `${method} without a token`);
      assert.equal((await rpc(triton, method, req, withToken())).err, null, `${method} with the token`);
    }
    // the token is checked before the model: an unknown model is NOT_FOUND only for a caller with the token
    assert.equal((await rpc(triton, 'ModelConfig', { name: 'nope' })).err?.code, grpc.status.UNAUTHENTICATED);
    assert.equal((await rpc(triton, 'ModelConfig', { name: 'nope' }, withToken())).err?.code, grpc.status.NOT_FOUND);
    const check = await rpc(health, 'Check', { service: '' });
    assert.equal(check.err, null, 'gRPC health probes need no token');
    assert.equal((check.value as { status: string }).status, 'SERVING');
    for (const path of ['/v2/models/resnet50/config', '/v2/models/resnet50/stats', '/v2/models/stats']) {
      assert.equal((await fetch(`${url}${path}`)).status, 401, path);
      assert.equal((await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200, path);
    }
    const index = (headers: Record<string, string>) => fetch(`${url}/v2/repository/index`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json', ...headers } });
    assert.equal((await index({})).status, 401);
    assert.equal((await index({ authorization: `Bearer ${TOKEN}` })).status, 200);
    assert.equal((await fetch(`${url}/v2/models/nope/infer`, { method: 'POST', body: '{}' })).status, 401, 'the token before the model');
    assert.equal((await fetch(`${url}/v2/models/nope/infer`, { method: 'POST', body: '{}', headers: { authorization: `Bearer ${TOKEN}` } })).status, 404);
    const metrics = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    const calls = counterValues(metrics, 'abacus_grpc_server_handled_total');
    assert.equal(calls.get('grpc_method="ModelConfig",grpc_code="UNAUTHENTICATED"'), 2, 'refusals are counted by their final status');
    assert.equal(calls.get('grpc_method="ModelConfig",grpc_code="OK"'), 1);
    assert.equal(calls.get('grpc_method="ModelConfig",grpc_code="NOT_FOUND"'), 1);
    assert.equal(calls.get('grpc_method="Check",grpc_code="OK"'), 1);
  } finally {
    triton.close();
    health.close();
  }
});

test('server reflection needs the token too (UNAUTHENTICATED before any message), and works with it', async () => {
  const require = createRequire(import.meta.url);
  const reflectionProto = require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto');
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(reflectionProto, PROTO_LOADER_OPTIONS)) as unknown as { grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } } };
  const client = new pkg.grpc.reflection.v1.ServerReflection(target, grpc.credentials.createInsecure());
  const ask = (md: grpc.Metadata): Promise<{ names: string[] } | { code: number }> => new Promise((resolve) => {
    const call = (client as unknown as { ServerReflectionInfo: (m: grpc.Metadata) => grpc.ClientDuplexStream<unknown, Record<string, unknown>> }).ServerReflectionInfo(md);
    call.on('data', (d: Record<string, unknown>) => {
      resolve({ names: (d.list_services_response as { service: { name: string }[] }).service.map((s) => s.name) });
      call.end();
    });
    call.on('error', (e: grpc.ServiceError) => resolve({ code: e.code }));
    call.write({ list_services: '' });
  });
  try {
    assert.deepEqual(await ask(new grpc.Metadata()), { code: grpc.status.UNAUTHENTICATED });
    const listed = await ask(withToken());
    assert.ok('names' in listed && listed.names.includes('inference.GRPCInferenceService'), JSON.stringify(listed));
  } finally {
    client.close();
  }
});

async function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = startCli(args);
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, out, err };
}

test('abacus load --protocol grpc sends the token as metadata; --header adds any header (HTTP), a malformed one exits 2', async () => {
  const base = ['--rate', '10', '--duration', '1', '--batch-sizes', '1', '--seq-lens', '8', '--json'];
  const overGrpc = await cli(['load', '--protocol', 'grpc', '--url', target, '--auth-token', TOKEN, ...base]);
  assert.equal(overGrpc.code, 0, overGrpc.err);
  const summary = JSON.parse(overGrpc.out) as { sent: number; completed: number; failed: number; protocol: string };
  assert.equal(summary.protocol, 'grpc');
  assert.ok(summary.sent > 0);
  assert.equal(summary.failed, 0);
  assert.equal(summary.completed, summary.sent);
  const refused = await cli(['load', '--protocol', 'grpc', '--url', target, ...base]);
  assert.equal(refused.code, 2);
  assert.match(refused.err, /cannot list the models/);
  const byHeader = await cli(['load', '--url', url, '--header', `Authorization: Bearer ${TOKEN}`, ...base]);
  assert.equal(byHeader.code, 0, byHeader.err);
  assert.equal((JSON.parse(byHeader.out) as { failed: number }).failed, 0);
  const bad = await cli(['load', '--url', url, '--header', 'no-colon-here', ...base]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--header must be <name>:<value>/);
});
