import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { baseUrl, counterValues, inferBody, postJson, seededInputs, startTestServer, tinyZoo } from './helpers.js';

const BODY = 200_000;

/** A raw connection that sent an inference request's headers and part of its body; `reply` is what comes back. */
async function partialRequest(port: number, contentLength: number, first: Buffer): Promise<{ socket: Socket; reply: Promise<string> }> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const chunks: Buffer[] = [];
  const reply = new Promise<string>((resolve) => {
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.once('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
  socket.write(`POST /v2/models/resnet50/infer HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${contentLength}\r\nconnection: close\r\n\r\n`);
  socket.write(first);
  return { socket, reply };
}

async function gauge(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

test('request bodies held at once are bounded: beyond the budget a request gets 503 before its body is read, and the server keeps serving', async () => {
  const zoo = await tinyZoo();
  const server = await startTestServer({ maxBodyBytes: 256 * 1024, maxInflightBodyBytes: 3 * BODY });
  const url = baseUrl(server);
  const port = server.httpAddress.port;
  try {
    // three bodies that are still arriving hold the whole budget
    const held = [];
    for (let i = 0; i < 3; i++) held.push(await partialRequest(port, BODY, Buffer.alloc(1000, 0x20)));
    for (let i = 0; i < 200 && (await gauge(url, 'abacus_inflight_body_bytes')) < 3 * BODY; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await gauge(url, 'abacus_inflight_body_bytes'), 3 * BODY);
    // more bodies, all at once: each is refused at once with 503, none is read
    const extra = await Promise.all(Array.from({ length: 6 }, () => partialRequest(port, BODY, Buffer.alloc(10, 0x20))));
    const replies = await Promise.all(extra.map((e) => e.reply));
    for (const r of replies) {
      assert.match(r, /^HTTP\/1\.1 503 /);
      assert.match(r, /retry-after: 1/i);
      assert.match(r, /request bodies; 200000 more is over its limit of 600000/);
    }
    // the held bodies finish (not JSON): 400 each, and their bytes are given back
    for (const h of held) h.socket.end(Buffer.alloc(BODY - 1000, 0x41));
    for (const h of held) assert.match(await h.reply, /^HTTP\/1\.1 400 /);
    for (let i = 0; i < 200 && (await gauge(url, 'abacus_inflight_body_bytes')) > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await gauge(url, 'abacus_inflight_body_bytes'), 0);
    // many complete large bodies at once: each is 400 (not JSON) or 503 (over the budget), never a crash
    const junk = Buffer.alloc(BODY, 0x41);
    const burst = await Promise.all(Array.from({ length: 12 }, () => fetch(`${url}/v2/models/resnet50/infer`, { method: 'POST', body: junk }).then((r) => r.status, () => -1)));
    assert.ok(burst.every((s) => s === 400 || s === 503 || s === -1), `statuses ${burst.join(',')}`);
    assert.ok(burst.includes(400), `statuses ${burst.join(',')}`);
    const ok = await postJson(`${url}/v2/models/resnet50/infer`, inferBody(seededInputs(zoo.models[0]!.manifest, 1, 0)));
    assert.equal(ok.status, 200);
    const metrics = counterValues(await (await fetch(`${url}/metrics`)).text(), 'abacus_requests_total');
    const refused = burst.filter((s) => s === 503).length;
    assert.equal(metrics.get('model="resnet50",outcome="unavailable"'), 6 + refused);
  } finally {
    await server.drain();
  }
});

test('open connections are bounded: one beyond the limit is answered 503 and closed; a freed slot is used again', async () => {
  const zoo = await tinyZoo();
  const server = await startTestServer({ maxConnections: 2 });
  const port = server.httpAddress.port;
  const open: Socket[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const s = connect(port, '127.0.0.1');
      await new Promise<void>((resolve) => s.once('connect', resolve));
      open.push(s);
    }
    await new Promise((r) => setTimeout(r, 100));
    const third = await partialRequest(port, 2, Buffer.from('{}'));
    const reply = await third.reply;
    assert.match(reply, /^HTTP\/1\.1 503 /);
    assert.match(reply, /holds 2 connections \(limit 2\)/);
    open.pop()!.destroy();
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = await fetch(`${baseUrl(server)}/v2/models/resnet50/infer`, { method: 'POST', body: JSON.stringify(inferBody(seededInputs(zoo.models[0]!.manifest, 1, 0))), headers: { connection: 'close' } }).then((r) => r.status, () => -1);
      if (status !== 200) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(status, 200);
  } finally {
    for (const s of open) s.destroy();
    await server.drain();
  }
});
