// What a server is told to read inside a signed model must be what the signature covers. Verification
// excuses files the signature does not list when they sit under an ignore path (model signing's default
// ignore paths such as .git, the statement's ignore_paths, the bundle file itself): extra files there are
// accepted unchecked. A server pointed at one of them would serve unsigned bytes under a valid signature,
// so every path a server reads (the admission webhook passes them, relative to the model's root) must be
// the model's root, a file the signature lists, or a directory of files it lists, and no path may be at
// or under an ignore path unless it is a listed file.
import { posix } from 'node:path';
import { parseShardName } from '../hashing/manifest.ts';
import { ignoreMatcher } from '../hashing/walk.ts';

/**
 * The files a statement's resources name, when its serialization method is not at hand (the admission
 * webhook's view): a shard ("file:start:end") stands for its file; the name itself counts too, for the
 * files method. The runtime verifier, which knows the method, decides exactly.
 */
export function signedFileNames(resources: readonly { name: string }[]): Set<string> {
  const out = new Set<string>();
  for (const r of resources) {
    out.add(r.name);
    const shard = parseShardName(r.name);
    if (shard) out.add(shard.file);
  }
  return out;
}

/** The first path a server reads that the signature does not cover, and why; undefined when all are covered. */
export function uncoveredReadPath(
  readPaths: readonly string[],
  signedFiles: ReadonlySet<string>,
  ignorePaths: readonly string[],
): { path: string; reason: string } | undefined {
  if (readPaths.length === 0) return undefined;
  const ignored = ignoreMatcher(ignorePaths);
  // Every directory that holds a signed file, built once: linear in the manifest.
  const signedDirs = new Set<string>();
  for (const f of signedFiles)
    for (let i = f.indexOf('/'); i > 0; i = f.indexOf('/', i + 1)) signedDirs.add(f.slice(0, i));
  for (const raw of readPaths) {
    const p = posix.normalize(raw === '' ? '.' : raw).replace(/\/+$/, '');
    if (p === '.' || p === '') continue; // the model's root: every file in it is checked
    if (posix.isAbsolute(p) || p === '..' || p.startsWith('../'))
      return { path: raw, reason: 'it is outside the model' };
    if (signedFiles.has(p)) continue;
    if (ignored(p))
      return {
        path: p,
        reason: `it is at or under a path the signature ignores (${ignorePaths.find((i) => p === i || p.startsWith(`${i}/`)) ?? p}), where files are not checked`,
      };
    if (!signedDirs.has(p))
      return { path: p, reason: 'the signature lists no file there, nor any directory holding signed files' };
  }
  return undefined;
}
