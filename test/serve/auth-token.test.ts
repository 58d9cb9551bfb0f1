import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { once } from 'node:events';
import { startCli } from '../helpers/cli.js';
import { bearerMatches, checkAuthToken, loadInferenceService } from '../../src/serve/index.js';
import { baseUrl, binaryInferBody, counterValues, seededInputs, startTestServer, tinyZoo } from './helpers.js';

const TOKEN = 'a-test-token-of-32-characters-xy';

test('bearer tokens: the exact token matches, scheme case-insensitive; weak tokens are refused', () => {
  assert.equal(bearerMatches(`Bearer ${TOKEN}`, TOKEN), true);
  assert.equal(bearerMatches(`bearer ${TOKEN}`, TOKEN), true);
  for (const bad of [undefined, '', TOKEN, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, `Basic ${TOKEN}`, 'Bearer ']) assert.equal(bearerMatches(bad, TOKEN), false, String(bad));
  assert.match(String(checkAuthToken('short')), /at least 16 characters/);
  assert.match(String(checkAuthToken('sixteen chars or more')), /without spaces/);
  assert.equal(checkAuthToken(TOKEN), null);
});

test('with --auth-token, HTTP and gRPC callers need the bearer token (401 / UNAUTHENTICATED); health probes stay open', async () => {
  const zoo = await tinyZoo();
  const server = await startTestServer({ authToken: TOKEN, grpc: { host: '127.0.0.1', port: 0 } });
  const url = baseUrl(server);
  const client = new (loadInferenceService())(`127.0.0.1:${server.grpcAddress!.port}`, grpc.credentials.createInsecure());
  const call = (method: string, req: unknown, md?: grpc.Metadata) =>
    new Promise<grpc.ServiceError | null>((resolve) => {
      const fn = (client as unknown as Record<string, (r: unknown, m: grpc.Metadata, cb: (e: grpc.ServiceError | null) => void) => void>)[method]!;
      fn.call(client, req, md ?? new grpc.Metadata(), (e) => resolve(e));
    });
  try {
    const inputs = seededInputs(zoo.models[0]!.manifest, 1, 0);
    const { body, headerLength } = binaryInferBody(inputs, ['output']);
    const infer = (headers: Record<string, string>) => fetch(`${url}/v2/models/resnet50/infer`, { method: 'POST', body, headers: { 'inference-header-content-length': String(headerLength), ...headers } });
    const none = await infer({});
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer');
    assert.match(((await none.json()) as { error: string }).error, /needs authorization: Bearer <token>/);
    assert.equal((await infer({ authorization: `Bearer ${TOKEN}-wrong` })).status, 401);
    assert.equal((await infer({ authorization: `Bearer ${TOKEN}` })).status, 200);
    for (const path of ['/v2', '/v2/models/resnet50', '/metrics', '/v2/abacus/status']) assert.equal((await fetch(`${url}${path}`)).status, 401, path);
    for (const path of ['/v2/health/live', '/v2/health/ready']) assert.equal((await fetch(`${url}${path}`)).status, 200, path);
    const grpcInfer = { model_name: 'resnet50', inputs: inputs.map((i) => ({ name: i.name, datatype: 'FP32', shape: i.shape })), raw_input_contents: inputs.map((i) => Buffer.from(i.data.buffer, i.data.byteOffset, i.data.byteLength)) };
    assert.equal((await call('ModelInfer', grpcInfer))?.code, grpc.status.UNAUTHENTICATED);
    assert.equal((await call('ModelMetadata', { name: 'resnet50' }))?.code, grpc.status.UNAUTHENTICATED);
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${TOKEN}`);
    assert.equal(await call('ModelInfer', grpcInfer, md), null);
    assert.equal(await call('ServerLive', {}), null, 'liveness needs no token');
    const metrics = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const counts = counterValues(await metrics.text(), 'abacus_requests_total');
    assert.equal(counts.get('model="resnet50",outcome="ok"'), 2);
    assert.equal(counts.get('model="resnet50",outcome="invalid"'), 3, 'the refused inference requests: two over HTTP, one over gRPC');
  } finally {
    client.close();
    await server.drain();
  }
});

test('abacus load reaches a server that needs a token with --auth-token, and is refused without it', async () => {
  const server = await startTestServer({ authToken: TOKEN });
  const run = async (extra: string[]): Promise<{ code: number | null; out: string; err: string }> => {
    const child = startCli(['load', '--url', baseUrl(server), '--rate', '10', '--duration', '1', '--batch-sizes', '1', '--seq-lens', '8', '--json', ...extra]);
    let out = '';
    let err = '';
    child.stdout?.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr?.on('data', (c: Buffer) => (err += c.toString('utf8')));
    const [code] = (await once(child, 'exit')) as [number | null];
    return { code, out, err };
  };
  try {
    const ok = await run(['--auth-token', TOKEN]);
    assert.equal(ok.code, 0, ok.err);
    const summary = JSON.parse(ok.out) as { sent: number; completed: number; failed: number };
    assert.ok(summary.sent > 0);
    assert.equal(summary.failed, 0);
    assert.equal(summary.completed, summary.sent);
    const refused = await run([]);
    assert.equal(refused.code, 2);
    assert.match(refused.err, /cannot list the models/);
  } finally {
    await server.drain();
  }
});
