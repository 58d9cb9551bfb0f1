/**
 * Who may call the server: with a token set, every request must carry `authorization: Bearer <token>`
 * (HTTP header, or gRPC metadata); the liveness and readiness probes stay open. The comparison takes the
 * same time whatever the guess. Without TLS the token crosses the network in clear: bind to loopback, or
 * put a TLS-terminating proxy in front (docs/ARCHITECTURE.md, "Online server").
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** Environment variable the CLI reads the token from (safer than a flag, which `ps` shows). */
export const AUTH_TOKEN_ENV = 'ABACUS_AUTH_TOKEN';

/** Environment variable `abacus balance` reads the token for its own calls to the nodes from. */
export const NODE_TOKEN_ENV = 'ABACUS_NODE_TOKEN';

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** Whether an `authorization` value carries the bearer token (scheme case-insensitive). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = header === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  const given = m ? (m[1] as string) : '';
  // compare digests: equal lengths, and no early exit on the first differing byte
  return timingSafeEqual(digest(given), digest(token)) && m !== null;
}

/** Check a token from a flag or the environment: printable, no spaces, at least 16 characters. */
export function checkAuthToken(token: string): string | null {
  if (token.length < 16) return `the auth token must be at least 16 characters (got ${token.length})`;
  if (!/^[\x21-\x7e]+$/.test(token)) return 'the auth token must be printable ASCII without spaces';
  return null;
}

/** Whether a listen address is this machine only. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
