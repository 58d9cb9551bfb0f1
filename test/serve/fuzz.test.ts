import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { Rng } from '../../src/common/rng.js';
import { baseUrl, getJson, inferBody, postJson, seededInputs, startTestServer, tinyZoo } from './helpers.js';

interface Bad {
  method: string;
  path: string;
  body: Buffer;
  headers: Record<string, string>;
  /** Statuses this request may get. */
  expect: number[];
  /** The server may close the connection before the client finished sending (oversized bodies). */
  mayReset?: boolean;
}

const MAX_BODY = 256 * 1024;

/** Seeded bad requests of many kinds against the inference route and its neighbours. */
function* badRequests(rng: Rng, count: number): Generator<Bad> {
  const r50 = (shape: unknown, data: unknown, extra: Record<string, unknown> = {}) => ({ inputs: [{ name: 'input', datatype: 'FP32', shape, data, ...extra }] });
  const valid = JSON.stringify(r50([1, 3, 32, 32], new Array(3072).fill(0.5)));
  const bertInput = (name: string, shape: number[]) => ({ name, datatype: 'FP32', shape, data: new Array(shape.reduce((a, b) => a * b, 1)).fill(1) });
  const json = (v: unknown): Buffer => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));
  const infer = (model = 'resnet50') => `/v2/models/${model}/infer`;
  const kinds: (() => Bad)[] = [
    // malformed JSON: truncated, random bytes, stray tokens
    () => ({ method: 'POST', path: infer(), body: Buffer.from(valid.slice(0, rng.int(0, 200))), headers: {}, expect: [400] }),
    () => ({ method: 'POST', path: infer(), body: Buffer.from(Array.from({ length: rng.int(1, 300) }, () => rng.int(0, 256))), headers: {}, expect: [400] }),
    () => ({ method: 'POST', path: infer(), body: json(rng.pick(['null', '[]', '42', '"x"', 'true', '{}', '{"inputs":{}}', '{"inputs":[]}', '{"inputs":[1]}', '{"inputs":[null]}'])), headers: {}, expect: [400] }),
    // structure: missing or mistyped fields
    () => ({ method: 'POST', path: infer(), body: json({ inputs: [{ datatype: 'FP32', shape: [1, 3, 32, 32], data: [] }] }), headers: {}, expect: [400] }),
    () => ({ method: 'POST', path: infer(), body: json({ inputs: [{ name: 'input', shape: [1, 3, 32, 32], data: [] }] }), headers: {}, expect: [400] }),
    () => ({ method: 'POST', path: infer(), body: json({ inputs: [{ name: 'input', datatype: 'FP32', shape: 'big', data: [] }] }), headers: {}, expect: [400] }),
    () => ({ method: 'POST', path: infer(), body: json({ id: 7, ...r50([1, 3, 32, 32], []) }), headers: {}, expect: [400] }),
    () => ({ method: 'POST', path: infer(), body: json({ parameters: [1], ...r50([1, 3, 32, 32], []) }), headers: {}, expect: [400] }),
    // wrong datatype
    () => ({ method: 'POST', path: infer(), body: json({ inputs: [{ name: 'input', datatype: rng.pick(['FP64', 'INT32', 'fp32', 'BYTES', 'FP16', '']), shape: [1, 3, 32, 32], data: new Array(3072).fill(0) }] }), headers: {}, expect: [400] }),
    // wrong shape: rank, fixed dims, zero/negative/huge dims
    () => ({ method: 'POST', path: infer(), body: json(r50(rng.pick([[1, 3, 32], [1, 3, 32, 32, 1], [1, 4, 32, 32], [1, 3, 31, 32], [0, 3, 32, 32], [-1, 3, 32, 32], [1.5, 3, 32, 32], [1e9, 3, 32, 32], [2 ** 40, 3, 32, 32]]), [0])), headers: {}, expect: [400, 413] }),
    // wrong size, wrong element types, nesting deeper than the rank
    () => ({ method: 'POST', path: infer(), body: json(r50([1, 3, 32, 32], new Array(rng.int(0, 3072)).fill(0.1))), headers: {}, expect: [400] }),
    () => ({ method: 'POST', path: infer(), body: json(r50([1, 3, 32, 32], new Array(3073).fill(0.1))), headers: {}, expect: [400] }),
    () => ({ method: 'POST', path: infer(), body: json(r50([1, 3, 32, 32], [...new Array(3071).fill(0), rng.pick(['1', null, true, {}, 'NaN'])])), headers: {}, expect: [400] }),
    () => ({ method: 'POST', path: infer(), body: json(r50([1, 3, 32, 32], [[[[[[0]]]]]])), headers: {}, expect: [400] }),
    () => ({ method: 'POST', path: infer(), body: Buffer.from(`{"inputs":[{"name":"input","datatype":"FP32","shape":[1,3,32,32],"data":${'['.repeat(5000)}${']'.repeat(5000)}}]}`), headers: {}, expect: [400] }),
    // inputs: duplicates, unknown names, missing ones (BERT takes two), disagreeing batch
    () => ({ method: 'POST', path: infer(), body: json({ inputs: [r50([1, 3, 32, 32], new Array(3072).fill(0)).inputs[0], r50([1, 3, 32, 32], new Array(3072).fill(0)).inputs[0]] }), headers: {}, expect: [400] }),
    () => ({ method: 'POST', path: infer(), body: json({ inputs: [{ ...r50([1, 3, 32, 32], new Array(3072).fill(0)).inputs[0], name: 'pixels' }] }), headers: {}, expect: [400] }),
    () => ({ method: 'POST', path: infer('bert'), body: json({ inputs: [bertInput('hidden', [1, 8, 64])] }), headers: {}, expect: [400] }),
    () => ({ method: 'POST', path: infer('bert'), body: json({ inputs: [bertInput('hidden', [1, 8, 64]), bertInput('mask', [2, 1, 1, 8])] }), headers: {}, expect: [400] }),
    () => ({ method: 'POST', path: infer('bert'), body: json({ inputs: [bertInput('hidden', [1, 8, 64]), bertInput('mask', [1, 1, 1, 16])] }), headers: {}, expect: [400] }),
    // parameters and outputs
    () => ({ method: 'POST', path: infer(), body: json({ parameters: { qos_ms: rng.pick([-1, 0, 'soon', 1e12, [], {}]) }, ...JSON.parse(valid) }), headers: {}, expect: [400] }),
    () => ({ method: 'POST', path: infer(), body: json({ outputs: [{ name: rng.pick(['logits', '', 'input']) }], ...JSON.parse(valid) }), headers: {}, expect: [400] }),
    () => ({ method: 'POST', path: infer(), body: json({ outputs: 'all', ...JSON.parse(valid) }), headers: {}, expect: [400] }),
    // unknown models, versions and routes; bad escapes; wrong methods
    () => ({ method: 'POST', path: infer(rng.pick(['nope', 'RESNET50', 'resnet50%20', '%ZZ', '..', 'a'.repeat(300)])), body: Buffer.from(valid), headers: {}, expect: [400, 404] }),
    () => ({ method: 'POST', path: '/v2/models/resnet50/versions/9/infer', body: Buffer.from(valid), headers: {}, expect: [404] }),
    () => ({ method: 'POST', path: rng.pick(['/v2/models/resnet50/infer/x', '/v3/models/resnet50/infer', '/v2/models//infer', '/', '/v2/models']), body: Buffer.from(valid), headers: {}, expect: [404] }),
    () => ({ method: rng.pick(['GET', 'PUT', 'DELETE', 'PATCH']), path: infer(), body: Buffer.alloc(0), headers: {}, expect: [405] }),
    () => ({ method: rng.pick(['POST', 'PUT', 'DELETE']), path: rng.pick(['/v2/health/live', '/metrics', '/v2/models/resnet50']), body: Buffer.alloc(0), headers: {}, expect: [405] }),
    // binary extension: a header length past the body, not a number, sizes that do not add up
    () => ({ method: 'POST', path: infer(), body: Buffer.from(valid), headers: { 'inference-header-content-length': rng.pick(['99999999', '-1', 'abc', '1.5', '']) }, expect: [400] }),
    () => {
      const head = Buffer.from(JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3, 32, 32], parameters: { binary_data_size: rng.pick([12288, 100, -4, 'x']) } }] }));
      const extra = rng.pick([0, 4, 12]);
      return { method: 'POST', path: infer(), body: Buffer.concat([head, Buffer.alloc(12288 - 8 + extra)]), headers: { 'inference-header-content-length': String(head.length) }, expect: [400] };
    },
    // oversized bodies: declared, and real (the server may close before the client is done sending)
    () => ({ method: 'POST', path: infer(), body: Buffer.from(valid), headers: { 'content-length-override': String(MAX_BODY + rng.int(1, 1e6)) }, expect: [413] }),
  ];
  for (let i = 0; i < count; i++) yield (rng.pick(kinds))();
  for (let i = 0; i < 5; i++) yield { method: 'POST', path: infer(), body: Buffer.alloc(MAX_BODY + 1024, 0x20), headers: {}, expect: [413], mayReset: true };
}

function send(agent: Agent, port: number, bad: Bad): Promise<{ status: number; body: string } | { reset: string }> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...bad.headers };
    const override = headers['content-length-override'];
    delete headers['content-length-override'];
    headers['content-length'] = override ?? String(bad.body.length);
    const req = request({ host: '127.0.0.1', port, method: bad.method, path: bad.path, headers, agent: override ? false : agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (e) => resolve({ reset: e.message }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ reset: e.message }));
    if (override) req.end(bad.body.subarray(0, 10));
    else req.end(bad.body);
  });
}

test('a few thousand malformed requests get 4xx JSON errors; the server then still answers correctly', async () => {
  const zoo = await tinyZoo();
  const server = await startTestServer({ maxBodyBytes: MAX_BODY });
  const url = baseUrl(server);
  const port = server.httpAddress.port;
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const rng = new Rng(2024);
  const started = performance.now();
  try {
    const queue = [...badRequests(rng, 3000)];
    let next = 0;
    const failures: string[] = [];
    const seen = new Map<number, number>();
    const worker = async (): Promise<void> => {
      while (next < queue.length && performance.now() - started < 60_000) {
        const bad = queue[next++] as Bad;
        const r = await send(agent, port, bad);
        if ('reset' in r) {
          if (!bad.mayReset) failures.push(`${bad.method} ${bad.path}: connection error ${r.reset}`);
          continue;
        }
        seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
        let error: unknown;
        try {
          error = (JSON.parse(r.body) as { error?: unknown }).error;
        } catch {
          error = undefined;
        }
        if (!bad.expect.includes(r.status) || typeof error !== 'string') failures.push(`${bad.method} ${bad.path} [${bad.body.subarray(0, 80).toString('utf8')}]: got ${r.status} ${r.body.slice(0, 120)}`);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    assert.equal(next, queue.length, 'every request was sent within the time bound');
    assert.deepEqual(failures.slice(0, 10), []);
    assert.ok((seen.get(400) ?? 0) > 1000 && (seen.get(404) ?? 0) > 50 && (seen.get(405) ?? 0) > 50 && (seen.get(413) ?? 0) > 20, JSON.stringify([...seen]));
    // bytes that are not HTTP at all
    for (let i = 0; i < 5; i++) {
      const answer = await new Promise<string>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => socket.end(Buffer.from(Array.from({ length: 64 }, () => rng.int(0, 256)))));
        let text = '';
        socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
        socket.on('close', () => resolve(text));
        socket.on('error', () => resolve(text));
        socket.setTimeout(5000, () => socket.destroy());
      });
      assert.ok(answer === '' || answer.startsWith('HTTP/1.1 400'), answer.slice(0, 40));
    }
    // still serving, correctly, and nothing bad was ever issued
    assert.equal((await getJson(`${url}/v2/health/ready`)).status, 200);
    const inputs = seededInputs(zoo.models[0]!.manifest, 1, 0);
    const ok = await postJson(`${url}/v2/models/resnet50/infer`, inferBody(inputs));
    assert.equal(ok.status, 200);
    assert.equal(server.status().queue?.issued, 1);
    assert.equal(server.status().queue?.queued, 0);
  } finally {
    agent.destroy();
    await server.drain();
  }
});
