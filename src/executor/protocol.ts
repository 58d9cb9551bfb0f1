/**
 * The message protocol between the coordinator and a service host. The same messages travel over a
 * worker thread's port and over a child process's IPC channel (advanced serialization: bigint and typed
 * arrays survive). Times are `process.hrtime.bigint()` nanoseconds: CLOCK_MONOTONIC, shared by every
 * thread and process of the machine, so a start signal is a deadline all hosts read the same way.
 */
import type { InputTensor, SegmentGraphInfo, ServiceConfig } from './types.js';

export type HostRequest =
  | { type: 'init'; id: number; config: ServiceConfig }
  | { type: 'prepare'; id: number; batch: number; seq: number; ranges: Array<[number, number]>; warmAll: boolean }
  | {
      type: 'run';
      id: number;
      queryId: string;
      start: number;
      end: number;
      batch: number;
      seq: number;
      /** Start no earlier than this monotonic time (the group's start signal). */
      startAtNs: bigint;
      sentNs: bigint;
      returnOutput: boolean;
      advance: boolean;
      /** The query's own inputs (first segment only). */
      inputs?: Readonly<Record<string, InputTensor>>;
    }
  | { type: 'release'; id: number; queryId: string }
  | { type: 'stats'; id: number }
  | { type: 'crash'; id: number; how: 'throw' | 'exit' }
  | { type: 'shutdown'; id: number };

export interface HostStats {
  cachedSessions: number;
  sessionsCreated: number;
  liveQueries: number;
  rssBytes: number;
  operatorCount: number;
}

export type HostReply =
  | { type: 'ready'; id: number; operatorCount: number; pid: number; graph: SegmentGraphInfo }
  | { type: 'prepared'; id: number; sessionsBuilt: number; ms: number }
  | {
      type: 'done';
      id: number;
      queryId: string;
      receivedNs: bigint;
      startNs: bigint;
      endNs: bigint;
      sessionsBuilt: number;
      finished: boolean;
      output?: { dims: number[]; data: Float32Array };
    }
  | { type: 'released'; id: number }
  | { type: 'stats'; id: number; stats: HostStats }
  | { type: 'bye'; id: number }
  | { type: 'error'; id: number; message: string; inputError: boolean };
