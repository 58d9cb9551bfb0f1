/**
 * Bounds that keep an online server alive under overload and hostile clients: the bytes of request
 * bodies held at once (by both front ends together) and the open HTTP connections. Beyond either, a
 * request is answered 503 (gRPC: UNAVAILABLE) at once instead of being read into memory.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** Bytes of request bodies held at once, shared by the front ends; `tryTake` fails beyond the limit. */
export class ByteBudget {
  private used = 0;

  constructor(readonly limitBytes: number) {
    if (!Number.isFinite(limitBytes) || limitBytes < 1) throw new RangeError(`the in-flight body limit must be >= 1 byte, got ${limitBytes}`);
  }

  get usedBytes(): number {
    return this.used;
  }

  /** Hold `bytes` more, unless that goes over the limit (then nothing is held). */
  tryTake(bytes: number): boolean {
    if (this.used + bytes > this.limitBytes) return false;
    this.used += bytes;
    return true;
  }

  release(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}

const REFUSED = Symbol('abacus.refusedConnection');

/** Whether a connection was refused by `limitConnections` (its requests get no answer: it is closing). */
export function refusedConnection(socket: Socket): boolean {
  return (socket as Socket & { [REFUSED]?: boolean })[REFUSED] === true;
}

/**
 * Keep at most `max` connections open: a connection beyond is answered 503 (`connection: close`) and
 * closed before any of its requests is read.
 */
export function limitConnections(server: Server, max: number): { open(): number } {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`the connection limit must be an integer >= 1, got ${max}`);
  let open = 0;
  server.on('connection', (socket: Socket) => {
    if (open >= max) {
      (socket as Socket & { [REFUSED]?: boolean })[REFUSED] = true;
      const body = JSON.stringify({ error: `the server holds ${open} connections (limit ${max}); retry later` });
      socket.on('error', () => undefined);
      socket.end(`HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nretry-after: 1\r\nconnection: close\r\n\r\n${body}`, () => socket.destroy());
      return;
    }
    open++;
    socket.once('close', () => open--);
  });
  return { open: () => open };
}
