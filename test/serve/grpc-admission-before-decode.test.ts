// gRPC ModelInfer is admitted before its message is decoded: a wrong token, an unknown model, a full queue
// or a predicted miss is answered from the metadata and the message's top level alone. The messages here
// carry an `inputs` entry that is cut off: decoding one would answer INVALID_ARGUMENT, so a
// refusal with another code, and the decode counter standing still, show it was never decoded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { GroupMember, LatencyModel } from '../../src/controller/index.js';
import { loadInferenceService, type OnlineServer } from '../../src/serve/index.js';
import { baseUrl, counterValues, inferBody, seededInputs, startTestServer, tinyZoo } from './helpers.js';

const TOKEN = 'a-test-token-of-32-characters-xy';

/** A ModelInferRequest for resnet50 whose one `inputs` entry (field 5) is cut off: a string field whose length is missing. */
function poisonedRequest(): Buffer {
  const serialize = loadInferenceService().service.ModelInfer!.requestSerialize as (value: unknown) => Buffer;
  return Buffer.concat([serialize({ model_name: 'resnet50', id: 'poisoned' }), Buffer.from([0x2a, 0x01, 0x0a])]);
}

/** A real request for resnet50, serialized. */
async function goodRequest(): Promise<Buffer> {
  const zoo = await tinyZoo();
  const serialize = loadInferenceService().service.ModelInfer!.requestSerialize as (value: unknown) => Buffer;
  const inputs = seededInputs(zoo.models[0]!.manifest, 1, 0);
  return serialize({ model_name: 'resnet50', inputs: inputs.map((i) => ({ name: i.name, datatype: 'FP32', shape: i.shape })), raw_input_contents: inputs.map((i) => Buffer.from(i.data.buffer, i.data.byteOffset, i.data.byteLength)) });
}

function rawInfer(client: grpc.Client, bytes: Buffer, metadata: Record<string, string> = {}): Promise<grpc.ServiceError | null> {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  return new Promise((resolve) => {
    client.makeUnaryRequest('/inference.GRPCInferenceService/ModelInfer', (b: Buffer) => b, (b: Buffer) => b, bytes, md, (err) => resolve(err));
  });
}

async function decodedCount(server: OnlineServer, headers: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${baseUrl(server)}/metrics`, { headers })).text();
  const m = /^abacus_grpc_infer_decoded_total (\S+)$/m.exec(text);
  assert.ok(m, 'the decode counter is exported');
  return Number(m[1]);
}

test('the poisoned message is refused by the decoder once admitted (so the tests below can tell a decode happened)', async () => {
  const server = await startTestServer({ grpc: { host: '127.0.0.1', port: 0 } });
  const client = new grpc.Client(`127.0.0.1:${server.grpcAddress!.port}`, grpc.credentials.createInsecure());
  try {
    const before = await decodedCount(server);
    const err = await rawInfer(client, poisonedRequest());
    assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err!.details, /could not be decoded: index out of range/);
    assert.equal(await decodedCount(server), before + 1);
    assert.equal(await rawInfer(client, await goodRequest()), null, 'a real request is served');
    assert.equal(await decodedCount(server), before + 2);
  } finally {
    client.close();
    await server.drain();
  }
});

test('a predicted miss is RESOURCE_EXHAUSTED before the message is decoded; metadata abacus-qos-ms is its QoS', async () => {
  const slow: LatencyModel = { predictMs: (groups: readonly (readonly GroupMember[])[]) => Float64Array.from(groups, () => 5_000) };
  const server = await startTestServer({ latencyModel: slow, qos: 1000, grpc: { host: '127.0.0.1', port: 0 } });
  const client = new grpc.Client(`127.0.0.1:${server.grpcAddress!.port}`, grpc.credentials.createInsecure());
  try {
    // served with a long QoS: the server now knows the model's solo latency (predicted 5 s)
    assert.equal(await rawInfer(client, await goodRequest(), { 'abacus-qos-ms': '60000' }), null);
    const before = await decodedCount(server);
    const err = await rawInfer(client, poisonedRequest());
    assert.equal(err?.code, grpc.status.RESOURCE_EXHAUSTED, err?.details);
    assert.match(err!.details, /predicted to finish in at least \d+\.\d ms, beyond its QoS of 1000 ms \(decided before reading the body\)/);
    const short = await rawInfer(client, poisonedRequest(), { 'abacus-qos-ms': '2000' });
    assert.equal(short?.code, grpc.status.RESOURCE_EXHAUSTED, 'the metadata QoS is used for admission');
    assert.equal(await decodedCount(server), before, 'neither refused message was decoded');
    // a long metadata QoS admits it: only then is it decoded (and found broken)
    assert.equal((await rawInfer(client, poisonedRequest(), { 'abacus-qos-ms': '60000' }))?.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(await decodedCount(server), before + 1);
    const bad = await rawInfer(client, poisonedRequest(), { 'abacus-qos-ms': 'soon' });
    assert.equal(bad?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(bad!.details, /metadata abacus-qos-ms must be a positive number of ms/);
    const requests = counterValues(await (await fetch(`${baseUrl(server)}/metrics`)).text(), 'abacus_requests_total');
    assert.equal(requests.get('model="resnet50",outcome="rejected"'), 2);
    assert.equal(server.status().queue?.rejected['predicted-miss'], 2);
  } finally {
    client.close();
    await server.drain();
  }
});

test('a full queue is RESOURCE_EXHAUSTED before the message is decoded', async () => {
  const zoo = await tinyZoo();
  const server = await startTestServer({ maxQueue: 1, grpc: { host: '127.0.0.1', port: 0 } });
  const client = new grpc.Client(`127.0.0.1:${server.grpcAddress!.port}`, grpc.credentials.createInsecure());
  // an HTTP request whose body is still coming holds the one queue slot
  const body = Buffer.from(JSON.stringify(inferBody(seededInputs(zoo.models[0]!.manifest, 1, 0))));
  const socket: Socket = connect(server.httpAddress.port, '127.0.0.1');
  try {
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.on('error', () => undefined);
    socket.write(`POST /v2/models/resnet50/infer HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`);
    socket.write(body.subarray(0, 100));
    let err: grpc.ServiceError | null = null;
    let before = 0;
    // until the server has read those headers, a gRPC request is admitted (and decoded)
    for (let i = 0; i < 100 && err?.code !== grpc.status.RESOURCE_EXHAUSTED; i++) {
      before = await decodedCount(server);
      err = await rawInfer(client, poisonedRequest());
      if (err?.code !== grpc.status.RESOURCE_EXHAUSTED) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(err?.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(err!.details, /1 queries are queued \(limit 1\), 1 of them still being read/);
    assert.equal(await decodedCount(server), before, 'the refused message was not decoded');
  } finally {
    socket.destroy();
    client.close();
    await server.drain();
  }
});

test('with a token, a ModelInfer without it is UNAUTHENTICATED before its message is decoded, counted under its model; other calls are refused before their message is read', async () => {
  const server = await startTestServer({ authToken: TOKEN, grpc: { host: '127.0.0.1', port: 0 } });
  const target = `127.0.0.1:${server.grpcAddress!.port}`;
  const client = new grpc.Client(target, grpc.credentials.createInsecure());
  const auth = { authorization: `Bearer ${TOKEN}` };
  try {
    const before = await decodedCount(server, auth);
    const err = await rawInfer(client, poisonedRequest());
    assert.equal(err?.code, grpc.status.UNAUTHENTICATED);
    assert.equal((await rawInfer(client, poisonedRequest(), { authorization: `Bearer ${TOKEN}-x` }))?.code, grpc.status.UNAUTHENTICATED);
    const garbage = await rawInfer(client, Buffer.from('0fffff', 'hex'));
    assert.equal(garbage?.code, grpc.status.UNAUTHENTICATED, 'the token comes first, even before the message\'s top level');
    assert.equal(await decodedCount(server, auth), before, 'not decoded');
    const requests = counterValues(await (await fetch(`${baseUrl(server)}/metrics`, { headers: auth })).text(), 'abacus_requests_total');
    assert.equal(requests.get('model="resnet50",outcome="invalid"'), 2);
    // with the token it is admitted, decoded, and found broken
    assert.equal((await rawInfer(client, poisonedRequest(), auth))?.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(await decodedCount(server, auth), before + 1);
    // another method with a message that no decoder takes: refused on its metadata, so UNAUTHENTICATED (not INVALID_ARGUMENT)
    const meta = await new Promise<grpc.ServiceError | null>((resolve) => {
      client.makeUnaryRequest('/inference.GRPCInferenceService/ModelMetadata', (b: Buffer) => b, (b: Buffer) => b, Buffer.from([0x0f, 0x00]), (e) => resolve(e));
    });
    assert.equal(meta?.code, grpc.status.UNAUTHENTICATED);
    const live = await new Promise<grpc.ServiceError | null>((resolve) => {
      client.makeUnaryRequest('/inference.GRPCInferenceService/ServerLive', (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), (e) => resolve(e));
    });
    assert.equal(live, null, 'liveness needs no token');
  } finally {
    client.close();
    await server.drain();
  }
});
