// Serving certificate from files, reloaded when they change (cert-manager or the controller rotate the
// Secret; the kubelet swaps the mounted files through a `..data` symlink). fs.watch on the directories
// gives a prompt reload; a poll catches what watch misses (network filesystems, missed events). A new
// pair is validated before use, so a half-written rotation (new cert, old key) keeps the old context.
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { Logger } from 'pino';

export interface KeyPair {
  cert: Buffer;
  key: Buffer;
}

export interface CertificateReloaderOptions {
  certFile: string;
  keyFile: string;
  logger: Logger;
  /** Called with a validated new pair. */
  onReload: (pair: KeyPair) => void;
  pollIntervalMs?: number;
  debounceMs?: number;
}

const digest = (p: KeyPair) => createHash('sha256').update(p.cert).update('\0').update(p.key).digest('hex');

export class CertificateReloader {
  private current: string;
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private checking: Promise<boolean> | undefined;
  readonly initial: KeyPair;

  /** Reads and validates the pair synchronously: a server must not start without a usable certificate. */
  constructor(private readonly opts: CertificateReloaderOptions) {
    const pair = { cert: readFileSync(opts.certFile), key: readFileSync(opts.keyFile) };
    createSecureContext(pair);
    this.initial = pair;
    this.current = digest(pair);
  }

  start(): void {
    const dirs = new Set([dirname(this.opts.certFile), dirname(this.opts.keyFile)]);
    for (const dir of dirs) {
      try {
        const w = watch(dir, { persistent: false }, () => this.schedule());
        w.on('error', (err) =>
          this.opts.logger.warn(
            { err: err.message, dir },
            'certificate directory watch failed; polling only',
          ),
        );
        this.watchers.push(w);
      } catch (err) {
        this.opts.logger.warn(
          { err: (err as Error).message, dir },
          'cannot watch certificate directory; polling only',
        );
      }
    }
    this.timer = setInterval(() => void this.check(), this.opts.pollIntervalMs ?? 10_000);
    this.timer.unref();
  }

  stop(): void {
    for (const w of this.watchers) w.close();
    this.watchers = [];
    if (this.timer) clearInterval(this.timer);
    if (this.debounce) clearTimeout(this.debounce);
  }

  private schedule(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.check(), this.opts.debounceMs ?? 100);
    this.debounce.unref();
  }

  /** Re-reads the files; true when a new, valid pair was installed. */
  check(): Promise<boolean> {
    this.checking ??= this.reload().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async reload(): Promise<boolean> {
    let pair: KeyPair;
    try {
      pair = { cert: await readFile(this.opts.certFile), key: await readFile(this.opts.keyFile) };
    } catch (err) {
      this.opts.logger.warn(
        { err: (err as Error).message },
        'cannot read serving certificate; keeping the current one',
      );
      return false;
    }
    const d = digest(pair);
    if (d === this.current) return false;
    try {
      createSecureContext(pair);
    } catch (err) {
      // Typically a rotation caught half-way (certificate and key do not match yet): the next event retries.
      this.opts.logger.warn(
        { err: (err as Error).message },
        'new serving certificate is not usable yet; keeping the current one',
      );
      return false;
    }
    this.opts.onReload(pair);
    this.current = d;
    this.opts.logger.info({ certFile: this.opts.certFile }, 'serving certificate reloaded');
    return true;
  }
}
