// Progress of a long hash: on a terminal a live line (files, bytes, rate, time left), redrawn a few
// times a second; in a pod a plain log line every few seconds so `kubectl logs` shows it moving.
import type { HashProgress } from '../hashing/model.ts';

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** "12/40 files, 1.2 GiB / 3.0 GiB, 850.0 MiB/s, 2s left" */
export function formatProgress(p: HashProgress, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? (p.bytesDone * 1000) / elapsedMs : 0;
  const left = rate > 0 ? (p.bytesTotal - p.bytesDone) / rate : Number.NaN;
  return `${p.filesDone}/${p.filesTotal} files, ${formatBytes(p.bytesDone)} / ${formatBytes(p.bytesTotal)}, ${formatBytes(rate)}/s, ${formatDuration(left)} left`;
}

export interface ProgressSink {
  write(text: string): void;
  isTTY: boolean;
}

export interface ProgressReporter {
  update(p: HashProgress): void;
  /** Clear the live line (TTY) before the final result is printed. */
  done(): void;
}

export function progressReporter(
  label: string,
  sink: ProgressSink,
  now: () => number = Date.now,
  logEveryMs = 5000,
): ProgressReporter {
  const start = now();
  let last = start;
  let drawn = false;
  const interval = sink.isTTY ? 100 : logEveryMs;
  return {
    update(p) {
      const t = now();
      if (t - last < interval) return;
      last = t;
      const line = `${label}: ${formatProgress(p, t - start)}`;
      if (sink.isTTY) sink.write(`\r\x1b[2K${line}`);
      else sink.write(`${line}\n`);
      drawn = true;
    },
    done() {
      if (drawn && sink.isTTY) sink.write('\r\x1b[2K');
    },
  };
}
