// List the files of a model the way model_signing does: POSIX names relative to the model root, a
// single-file model named ".", ignore paths matched from the root (a directory ignores everything under
// it), symlinks refused unless allowed (then followed: the link's name with its target's content).
import { lstatSync, readdirSync, realpathSync, type Dirent } from 'node:fs';
import { stat } from 'node:fs/promises';
import { isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { OMS_DEFAULT_IGNORE_PATHS } from '../api/types.ts';

/** Ignored unless signed otherwise: git metadata at the top level only. */
export const DEFAULT_IGNORE_PATHS: readonly string[] = OMS_DEFAULT_IGNORE_PATHS;

export class ModelWalkError extends Error {}

export interface WalkedFile {
  /** Manifest name: POSIX path relative to the model root, or "." for a single-file model. */
  name: string;
  /** Path to read (for an allowed symlink, the link itself; reads follow it). */
  path: string;
  size: number;
}

/** A symbolic link the walk followed (allowSymlinks). */
export interface FollowedSymlink {
  name: string;
  /** It leads to a directory (model_signing does not follow those). */
  directory: boolean;
  /** Its target lies outside the model root (OMS §6.1.1: the signer warns). */
  outside: boolean;
}

export interface WalkResult {
  /** The model's name: the base name of its directory or file. */
  modelName: string;
  singleFile: boolean;
  files: WalkedFile[];
  symlinks: FollowedSymlink[];
}

export interface WalkOptions {
  /** POSIX paths relative to the model root. */
  ignorePaths: readonly string[];
  /**
   * Files walked even when an ignore path covers them: the files a signed manifest lists (OMS §8.4:
   * every listed file is checked; exclusions only concern files the manifest does not list).
   */
  keepFiles?: ReadonlySet<string>;
  allowSymlinks: boolean;
  /** Hears about each file as the walk finds it (in directory order), so hashing can start before the walk ends. */
  onFile?: (file: WalkedFile) => void;
}

/**
 * Turn ignore paths into root-relative POSIX paths: relative paths are taken relative to the model
 * root, absolute ones are made relative to it (and dropped when outside the model).
 */
export function normalizeIgnorePaths(modelRoot: string, paths: readonly string[]): string[] {
  const root = resolve(modelRoot);
  const out = new Set<string>();
  for (const p of paths) {
    const rel = isAbsolute(p) ? relative(root, p) : p;
    const norm = posix.normalize(rel.split(sep).join('/')).replace(/\/+$/, '');
    if (norm === '.' || norm === '' || norm === '..' || norm.startsWith('../') || posix.isAbsolute(norm))
      continue;
    out.add(norm);
  }
  return [...out];
}

/** A test of names against ignore paths, built once per walk: a path ignores itself and everything under it. */
export function ignoreMatcher(ignorePaths: readonly string[]): (name: string) => boolean {
  const exact = new Set(ignorePaths);
  const dirs = ignorePaths.map((p) => p + '/');
  return (name) => exact.has(name) || dirs.some((d) => name.startsWith(d));
}

export function isIgnored(name: string, ignorePaths: readonly string[]): boolean {
  return ignoreMatcher(ignorePaths)(name);
}

/**
 * The ignore test of a walk that must still reach `keep`: a kept file is never ignored, nor is a
 * directory on the way to one (inside it, the other entries are ignored as before).
 */
export function walkIgnoreMatcher(
  ignorePaths: readonly string[],
  keep: ReadonlySet<string> | undefined,
): (name: string) => boolean {
  const ignored = ignoreMatcher(ignorePaths);
  if (!keep || keep.size === 0) return ignored;
  const kept = new Set<string>();
  for (const file of keep) {
    if (!ignored(file)) continue;
    kept.add(file);
    for (let i = file.indexOf('/'); i > 0; i = file.indexOf('/', i + 1)) kept.add(file.slice(0, i));
  }
  if (kept.size === 0) return ignored;
  return (name) => ignored(name) && !kept.has(name);
}

/**
 * Entry names must be UTF-8 (OMS §6.1.2: a name that is not cannot be written in the manifest). Node
 * decodes invalid bytes as U+FFFD, so only a directory with that character is read again as bytes.
 */
function checkUtf8Names(dir: string, prefix: string, entries: Dirent[]): void {
  if (!entries.some((e) => e.name.includes('\uFFFD'))) return;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (const raw of readdirSync(dir, { encoding: 'buffer' })) {
    try {
      decoder.decode(raw);
    } catch {
      const shown = [...raw]
        .map((b) =>
          b >= 0x20 && b < 0x7f && b !== 0x5c
            ? String.fromCharCode(b)
            : `\\x${b.toString(16).padStart(2, '0')}`,
        )
        .join('');
      throw new ModelWalkError(
        `file name "${prefix ? `${prefix}/` : ''}${shown}" is not valid UTF-8, so no signature can name it (OMS §6.1.2); rename it (for example with convmv) or remove it from the model`,
      );
    }
  }
}

/**
 * Longest stretch of synchronous walking, in ms, before yielding to the event loop, which hands
 * finished batches to the hash workers and prints progress. Time, not an entry count: on a slow file
 * system (a FUSE or network mount), 128 entries can take a second.
 */
const WALK_SLICE_MS = 5;

const baseName = (p: string) => posix.basename(resolve(p).split(sep).join('/'));

const describe = (err: unknown) => (err instanceof Error ? err.message : String(err));

export async function walkModel(modelPath: string, options: WalkOptions): Promise<WalkResult> {
  let top;
  try {
    top = await stat(modelPath);
  } catch (err) {
    throw new ModelWalkError(`cannot read the model at ${modelPath}: ${describe(err)}`);
  }
  if (top.isFile()) {
    const file: WalkedFile = { name: '.', path: modelPath, size: top.size };
    options.onFile?.(file);
    return { modelName: baseName(modelPath), singleFile: true, files: [file], symlinks: [] };
  }
  if (!top.isDirectory())
    throw new ModelWalkError(
      `${modelPath} is neither a file nor a directory; give the path of the model directory or of its single file`,
    );

  // The walk is synchronous (readdir and lstat), yielding every WALK_SLICE_MS: one awaited
  // thread-pool round trip per file or directory cost more than the calls themselves (4,096 files in
  // 64 directories: ~70 ms cold with awaited readdir and realpath, ~35 ms like this), and this runs on
  // the verifier's critical path while the hash workers wait for work.
  const files: WalkedFile[] = [];
  const symlinks: FollowedSymlink[] = [];
  const isIgnoredName = walkIgnoreMatcher(options.ignorePaths, options.keepFiles);
  // Without symbolic links a directory tree cannot loop: real paths are only needed when links are followed.
  const realRoot = options.allowSymlinks ? realpathSync(modelPath) : '';
  const visiting = options.allowSymlinks ? new Set<string>([realRoot]) : undefined;
  let sliceStart = performance.now();
  const root = join(modelPath);
  const child = (dir: string, name: string) => (dir.endsWith(sep) ? dir + name : dir + sep + name);
  const walk = async (dir: string, prefix: string): Promise<void> => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      throw new ModelWalkError(
        `cannot read the model directory ${prefix || '.'}: ${describe(err)}; the verifier needs read access to every directory and file of the model (check the volume's permissions)`,
      );
    }
    checkUtf8Names(dir, prefix, entries);
    for (const entry of entries) {
      const name = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      if (isIgnoredName(name)) continue;
      if (performance.now() - sliceStart >= WALK_SLICE_MS) {
        await new Promise<void>((r) => setImmediate(r));
        sliceStart = performance.now();
      }
      const path = child(dir, entry.name);
      let info = lstatSync(path);
      if (info.isSymbolicLink()) {
        if (!options.allowSymlinks)
          throw new ModelWalkError(`symbolic link not allowed: ${name} (pass --allow-symlinks to follow it)`);
        try {
          info = await stat(path);
        } catch (err) {
          throw new ModelWalkError(
            `broken symbolic link ${name}: ${describe(err)}; fix the link or remove it from the model`,
          );
        }
        const target = realpathSync(path);
        const rel = relative(realRoot, target);
        symlinks.push({
          name,
          directory: info.isDirectory(),
          outside: rel === '' ? false : rel.startsWith('..') || isAbsolute(rel),
        });
      }
      if (info.isFile()) {
        const file: WalkedFile = { name, path, size: info.size };
        files.push(file);
        options.onFile?.(file);
      } else if (info.isDirectory()) {
        if (!visiting) {
          await walk(path, name);
          continue;
        }
        const real = realpathSync(path);
        if (visiting.has(real))
          throw new ModelWalkError(
            `symbolic link loop at ${name}: it leads back to a directory it is in; remove the link from the model`,
          );
        visiting.add(real);
        await walk(path, name);
        visiting.delete(real);
      } else {
        throw new ModelWalkError(
          `${name} is not a regular file or directory (a device, socket or FIFO); remove it from the model, or ignore it with --ignore-path`,
        );
      }
    }
  };
  await walk(root, '');
  return { modelName: baseName(modelPath), singleFile: false, files, symlinks };
}
