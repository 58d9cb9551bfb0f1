/**
 * Progress bars for long work: drawn with cli-progress on stderr, and only when stderr is a TTY, so that
 * machine-readable output on stdout (and logs in CI) stay clean.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, payload?: Record<string, string | number>): void;
  increment(by?: number, payload?: Record<string, string | number>): void;
  setTotal(total: number): void;
  stop(): void;
}

const silent: Progress = { update() {}, increment() {}, setTotal() {}, stop() {} };

export function startProgress(label: string, total: number, initial = 0, enabled = process.stderr.isTTY === true): Progress {
  if (!enabled) return silent;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {value}/{total} | {rate}/s | eta {eta_formatted} {info}`,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  let done = initial;
  const rate = (): string => {
    const s = (Date.now() - started) / 1000;
    return s > 0 ? ((done - initial) / s).toFixed(2) : '0';
  };
  bar.start(total, initial, { rate: '0', info: '' });
  return {
    update(value, payload) {
      done = value;
      bar.update(value, { rate: rate(), info: '', ...payload });
    },
    increment(by = 1, payload) {
      done += by;
      bar.update(done, { rate: rate(), info: '', ...payload });
    },
    setTotal(t) {
      bar.setTotal(t);
    },
    stop() {
      bar.stop();
    },
  };
}
