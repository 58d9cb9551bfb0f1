import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import type { GroupMember, LatencyModel } from '../../src/controller/index.js';
import { baseUrl, counterValues, inferBody, postJson, seededInputs, startTestServer, tinyZoo } from './helpers.js';

/** A raw connection that sent an inference request's headers and the first `sent` bytes of `body`. */
async function rawRequest(port: number, body: Buffer, sent: number, headers: Record<string, string> = {}): Promise<{ socket: Socket; reply: Promise<string> }> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const chunks: Buffer[] = [];
  const reply = new Promise<string>((resolve) => {
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      // a reply is complete once its body (content-length) arrived
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /content-length: (\d+)\r\n[\s\S]*?\r\n\r\n/i.exec(text);
      if (m && text.length >= (m.index ?? 0) + m[0].length + Number(m[1])) resolve(text);
    });
    socket.on('error', () => undefined);
    socket.once('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.write(`POST /v2/models/resnet50/infer HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n${extra}\r\n`);
  if (sent > 0) socket.write(body.subarray(0, sent));
  return { socket, reply };
}

test('a request predicted to miss its QoS is refused with 429 from its headers, before its body is sent', async () => {
  const zoo = await tinyZoo();
  const slow: LatencyModel = { predictMs: (groups: readonly (readonly GroupMember[])[]) => Float64Array.from(groups, () => 5_000) };
  const server = await startTestServer({ latencyModel: slow, qos: 1000 });
  const url = baseUrl(server);
  const body = Buffer.from(JSON.stringify(inferBody(seededInputs(zoo.models[0]!.manifest, 1, 0))));
  const sockets: Socket[] = [];
  try {
    // served (its header asks a long QoS); the server now knows the model's solo latency
    assert.equal((await postJson(`${url}/v2/models/resnet50/infer`, body.toString(), { 'abacus-qos-ms': '60000' })).status, 200);
    const t0 = performance.now();
    const early = await rawRequest(server.httpAddress.port, body, 0);
    sockets.push(early.socket);
    const reply = await early.reply;
    assert.match(reply, /^HTTP\/1\.1 429 /);
    assert.match(reply, /predicted to finish in at least \d+\.\d ms, beyond its QoS of 1000 ms \(decided before reading the body\)/);
    assert.ok(performance.now() - t0 < 5000, 'answered without the body');
    // the header's QoS counts: a long one is admitted and read
    const admitted = await rawRequest(server.httpAddress.port, body, 10, { 'abacus-qos-ms': '60000' });
    sockets.push(admitted.socket);
    admitted.socket.write(body.subarray(10));
    assert.match(await admitted.reply, /^HTTP\/1\.1 200 /);
    const metrics = counterValues(await (await fetch(`${url}/metrics`)).text(), 'abacus_requests_total');
    assert.equal(metrics.get('model="resnet50",outcome="rejected"'), 1);
    assert.equal(metrics.get('model="resnet50",outcome="ok"'), 2);
    assert.equal(server.status().queue?.rejected['predicted-miss'], 1);
  } finally {
    for (const s of sockets) s.destroy();
    await server.drain();
  }
});

test('requests still being read count as queued: with the queue full of them, the next is refused with 429 before its body', async () => {
  const zoo = await tinyZoo();
  const server = await startTestServer({ maxQueue: 1 });
  const body = Buffer.from(JSON.stringify(inferBody(seededInputs(zoo.models[0]!.manifest, 1, 0))));
  const sockets: Socket[] = [];
  let servedMeanwhile = 0;
  try {
    const reading = await rawRequest(server.httpAddress.port, body, 100);
    sockets.push(reading.socket);
    let refused = '';
    // the first request's headers may take a moment to be read: until the queue counts it, a request
    // (sent whole, so that it never waits for a body) is served
    for (let i = 0; i < 100 && !/^HTTP\/1\.1 429 /.test(refused); i++) {
      const next = await rawRequest(server.httpAddress.port, body, body.length);
      sockets.push(next.socket);
      refused = await next.reply;
      if (/^HTTP\/1\.1 200 /.test(refused)) servedMeanwhile++;
      if (!/^HTTP\/1\.1 429 /.test(refused)) await new Promise((r) => setTimeout(r, 20));
    }
    assert.match(refused, /^HTTP\/1\.1 429 /);
    assert.match(refused, /1 queries are queued \(limit 1\), 1 of them still being read/);
    reading.socket.write(body.subarray(100));
    assert.match(await reading.reply, /^HTTP\/1\.1 200 /);
    // the slot is free again
    assert.equal((await postJson(`${baseUrl(server)}/v2/models/resnet50/infer`, body.toString())).status, 200);
  } finally {
    for (const s of sockets) s.destroy();
    const summary = await server.drain();
    assert.equal(summary.issued, 2 + servedMeanwhile);
  }
});

test('a client that goes away in the middle of its body gives its queue slot back', async () => {
  const zoo = await tinyZoo();
  const server = await startTestServer({ maxQueue: 1 });
  const body = Buffer.from(JSON.stringify(inferBody(seededInputs(zoo.models[0]!.manifest, 1, 0))));
  try {
    const gone = await rawRequest(server.httpAddress.port, body, 100);
    await new Promise((r) => setTimeout(r, 100));
    gone.socket.destroy();
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = (await postJson(`${baseUrl(server)}/v2/models/resnet50/infer`, body.toString())).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(status, 200, 'the slot of the abandoned request is free again');
  } finally {
    await server.drain();
  }
});
