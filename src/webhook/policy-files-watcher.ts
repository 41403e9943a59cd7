// Reloads a FilePolicyStore when its files change: fs.watch for promptness, a stat poll as the fallback
// (ConfigMap mounts swap a symlink, some filesystems emit no events). A file that does not parse keeps
// the previous snapshot in force, with the error logged.
import { watch, statSync, readdirSync, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';

function signature(paths: readonly string[]): string {
  const parts: string[] = [];
  const visit = (p: string, depth: number) => {
    try {
      const st = statSync(p);
      parts.push(`${p}:${st.size}:${st.mtimeMs}`);
      if (st.isDirectory() && depth < 4) for (const e of readdirSync(p).sort()) visit(join(p, e), depth + 1);
    } catch {
      parts.push(`${p}:missing`);
    }
  };
  for (const p of paths) visit(p, 0);
  return parts.join('|');
}

export function watchPolicyFiles(
  paths: readonly string[],
  reload: () => void,
  logger: Logger,
  pollIntervalMs = 5000,
): () => void {
  let last = signature(paths);
  let pending: NodeJS.Timeout | undefined;
  const check = () => {
    const now = signature(paths);
    if (now === last) return;
    last = now;
    reload();
  };
  const schedule = () => {
    if (pending) clearTimeout(pending);
    pending = setTimeout(check, 200);
    pending.unref();
  };
  const watchers: FSWatcher[] = [];
  for (const p of paths) {
    try {
      const w = watch(p, { persistent: false, recursive: true }, schedule);
      w.on('error', () => undefined);
      watchers.push(w);
    } catch (err) {
      logger.debug({ path: p, err: (err as Error).message }, 'cannot watch policy path; polling only');
    }
  }
  const timer = setInterval(check, pollIntervalMs);
  timer.unref();
  return () => {
    for (const w of watchers) w.close();
    clearInterval(timer);
    if (pending) clearTimeout(pending);
  };
}
