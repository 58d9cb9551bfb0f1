import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { Rng } from '../../src/common/rng.js';
import { loadInferenceService } from '../../src/serve/index.js';
import { baseUrl, counterValues, startTestServer } from './helpers.js';

test('a gRPC message that cannot be decoded is INVALID_ARGUMENT (not INTERNAL), counted as invalid; the server keeps serving', async () => {
  const server = await startTestServer({ grpc: { host: '127.0.0.1', port: 0 } });
  const address = `127.0.0.1:${server.grpcAddress!.port}`;
  const raw = new grpc.Client(address, grpc.credentials.createInsecure());
  const rng = new Rng(11);
  try {
    // bytes that are no ModelInferRequest (truncated varints and lengths: protobufjs refuses these) and random bytes
    const garbage = ['0fffff', '0f', '08', '0aff', '3a'].map((h) => Buffer.from(h, 'hex')).concat([Buffer.from(Array.from({ length: 64 }, () => rng.int(0, 256)))]);
    let invalid = 0;
    for (const bytes of garbage) {
      const err = await new Promise<grpc.ServiceError | null>((resolve) => {
        raw.makeUnaryRequest('/inference.GRPCInferenceService/ModelInfer', (b: Buffer) => b, (b: Buffer) => b, bytes, (e) => resolve(e));
      });
      if (err === null) continue; // random bytes can happen to decode (then they are an ordinary bad request)
      assert.notEqual(err.code, grpc.status.INTERNAL, `${bytes.toString('hex')}: ${err.details}`);
      if (err.code === grpc.status.INVALID_ARGUMENT && /could not be decoded/.test(err.details)) invalid++;
      // bytes that decode are an ordinary request: a bad one, or one for no model
      else assert.ok(err.code === grpc.status.INVALID_ARGUMENT || err.code === grpc.status.NOT_FOUND, `${err.code}: ${err.details}`);
    }
    assert.ok(invalid >= 5, `${invalid} undecodable messages reported as such`);
    const client = new (loadInferenceService())(address, grpc.credentials.createInsecure());
    const live = await new Promise<unknown>((resolve, reject) => (client as unknown as Record<string, (r: unknown, cb: (e: Error | null, v: unknown) => void) => void>).ServerLive!.call(client, {}, (e, v) => (e ? reject(e) : resolve(v))));
    assert.deepEqual(live, { live: true });
    client.close();
    const metrics = counterValues(await (await fetch(`${baseUrl(server)}/metrics`)).text(), 'abacus_requests_total');
    assert.ok((metrics.get('model="_unknown",outcome="invalid"') ?? 0) >= invalid);
  } finally {
    raw.close();
    await server.drain();
  }
});
