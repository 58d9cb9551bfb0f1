/**
 * Entry point of a service host: a worker thread (cpu, cuda) or a child process (webgpu). It runs one
 * SegmentEngine and answers the coordinator's requests one at a time, in order.
 */
import { parentPort } from 'node:worker_threads';
import { InputError } from '../common/errors.js';
import { SegmentEngine } from './engine.js';
import type { HostReply, HostRequest } from './protocol.js';

type Send = (reply: HostReply) => void;

let engine: SegmentEngine | null = null;

/** Wait until the monotonic clock reaches `deadlineNs` (sleeping first, spinning the last stretch). */
async function waitUntil(deadlineNs: bigint): Promise<void> {
  const spinNs = 300_000n;
  let now = process.hrtime.bigint();
  if (deadlineNs - now > spinNs + 1_000_000n) {
    await new Promise((r) => setTimeout(r, Number((deadlineNs - now - spinNs) / 1_000_000n)));
    now = process.hrtime.bigint();
  }
  while (now < deadlineNs) now = process.hrtime.bigint();
}

async function handle(msg: HostRequest, send: Send, exit: () => void): Promise<void> {
  try {
    switch (msg.type) {
      case 'init': {
        engine = await SegmentEngine.open(msg.config);
        send({ type: 'ready', id: msg.id, operatorCount: engine.operatorCount, pid: process.pid, graph: engine.graphInfo });
        return;
      }
      case 'prepare': {
        const e = need();
        const t0 = performance.now();
        e.feedsFor(msg.batch, msg.seq);
        let built = 0;
        if (msg.warmAll) built += await e.warmAll(msg.batch, msg.seq);
        for (const [s, end] of msg.ranges) built += await e.warm(s, end, msg.batch, msg.seq);
        send({ type: 'prepared', id: msg.id, sessionsBuilt: built, ms: performance.now() - t0 });
        return;
      }
      case 'run': {
        const e = need();
        const receivedNs = process.hrtime.bigint();
        await waitUntil(msg.startAtNs);
        const startNs = process.hrtime.bigint();
        const outcome = await e.run(msg.queryId, msg.start, msg.end, msg.batch, msg.seq, msg.returnOutput, msg.advance, msg.inputs);
        const endNs = process.hrtime.bigint();
        send({ type: 'done', id: msg.id, queryId: msg.queryId, receivedNs, startNs, endNs, ...outcome });
        return;
      }
      case 'release':
        need().release(msg.queryId);
        send({ type: 'released', id: msg.id });
        return;
      case 'stats': {
        const e = need();
        send({
          type: 'stats',
          id: msg.id,
          stats: { cachedSessions: e.cachedSessions, sessionsCreated: e.sessionsCreated, liveQueries: e.liveQueries, rssBytes: process.memoryUsage().rss, operatorCount: e.operatorCount },
        });
        return;
      }
      case 'crash':
        // Fault injection for tests: die the way a broken host dies.
        if (msg.how === 'exit') process.exit(70);
        setImmediate(() => {
          throw new Error('injected host crash');
        });
        return;
      case 'shutdown':
        if (engine) await engine.dispose();
        engine = null;
        send({ type: 'bye', id: msg.id });
        exit();
        return;
    }
  } catch (err) {
    send({ type: 'error', id: msg.id, message: err instanceof Error ? err.message : String(err), inputError: err instanceof InputError || (err instanceof Error && err.name === 'UnavailableError') });
  }
}

function need(): SegmentEngine {
  if (!engine) throw new Error('host not initialised');
  return engine;
}

// Requests are handled strictly one after another: a host runs one segment at a time.
let chain: Promise<void> = Promise.resolve();

if (parentPort) {
  const port = parentPort;
  port.on('message', (msg: HostRequest) => {
    chain = chain.then(() => handle(msg, (r) => port.postMessage(r), () => port.close()));
  });
} else if (process.send) {
  const send: Send = (r) => process.send?.(r);
  process.on('message', (msg: HostRequest) => {
    chain = chain.then(() => handle(msg, send, () => process.disconnect?.()));
  });
  process.on('disconnect', () => process.exit(0));
  // A terminal's Ctrl-C reaches the whole process group, this host included. The parent decides what an
  // interrupt means (the profiler finishes the group in flight, then stops); the host must not die under
  // it. When the parent exits, the IPC channel closes and the 'disconnect' above ends this host.
  process.on('SIGINT', () => undefined);
} else {
  console.error('host-main: start me as a worker thread or a child process with IPC');
  process.exit(2);
}
