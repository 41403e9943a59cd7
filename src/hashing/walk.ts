// List the files of a model the way model_signing does: POSIX names relative to the model root, a
// single-file model named ".", ignore paths matched from the root (a directory ignores everything under
// it), symlinks refused unless allowed (then followed: the link's name with its target's content).
import { lstatSync } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, posix, relative, resolve, sep } from 'node:path';

/** Ignored unless signed otherwise: git metadata at the top level only. */
export const DEFAULT_IGNORE_PATHS: readonly string[] = ['.git', '.gitattributes', '.github', '.gitignore'];

export class ModelWalkError extends Error {}

export interface WalkedFile {
  /** Manifest name: POSIX path relative to the model root, or "." for a single-file model. */
  name: string;
  /** Path to read (for an allowed symlink, the link itself; reads follow it). */
  path: string;
  size: number;
}

export interface WalkResult {
  /** The model's name: the base name of its directory or file. */
  modelName: string;
  singleFile: boolean;
  files: WalkedFile[];
}

export interface WalkOptions {
  /** POSIX paths relative to the model root. */
  ignorePaths: readonly string[];
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
    if (norm === '.' || norm === '' || norm === '..' || norm.startsWith('../') || posix.isAbsolute(norm)) continue;
    out.add(norm);
  }
  return [...out];
}

export function isIgnored(name: string, ignorePaths: readonly string[]): boolean {
  return ignorePaths.some((p) => name === p || name.startsWith(p + '/'));
}

const LSTAT_SLICE = 256;

const baseName = (p: string) => posix.basename(resolve(p).split(sep).join('/'));

export async function walkModel(modelPath: string, options: WalkOptions): Promise<WalkResult> {
  let top;
  try {
    top = await stat(modelPath);
  } catch (err) {
    throw new ModelWalkError(`cannot read the model at ${modelPath}: ${(err as Error).message}`);
  }
  if (top.isFile()) {
    const file: WalkedFile = { name: '.', path: modelPath, size: top.size };
    options.onFile?.(file);
    return { modelName: baseName(modelPath), singleFile: true, files: [file] };
  }
  if (!top.isDirectory()) throw new ModelWalkError(`${modelPath} is neither a file nor a directory`);

  const files: WalkedFile[] = [];
  let statted = 0;
  const visiting = new Set<string>([await realpath(modelPath)]);
  const walk = async (dir: string, prefix: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      const name = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      if (isIgnored(name, options.ignorePaths)) continue;
      const path = join(dir, entry.name);
      // lstat synchronously, yielding to the event loop every LSTAT_SLICE files: one awaited thread-pool
      // round trip per file cost ~90 ms per 4,000 files on the verifier's critical path (before any
      // hashing starts), the synchronous call ~25 ms; each slice blocks the loop for ~1-2 ms at most.
      if (++statted % LSTAT_SLICE === 0) await new Promise<void>((r) => setImmediate(r));
      let info = lstatSync(path);
      if (info.isSymbolicLink()) {
        if (!options.allowSymlinks) throw new ModelWalkError(`symbolic link not allowed: ${name} (pass --allow-symlinks to follow it)`);
        try {
          info = await stat(path);
        } catch (err) {
          throw new ModelWalkError(`broken symbolic link ${name}: ${(err as Error).message}`);
        }
      }
      if (info.isFile()) {
        const file: WalkedFile = { name, path, size: info.size };
        files.push(file);
        options.onFile?.(file);
      } else if (info.isDirectory()) {
        const real = await realpath(path);
        if (visiting.has(real)) throw new ModelWalkError(`symbolic link loop at ${name}`);
        visiting.add(real);
        await walk(path, name);
        visiting.delete(real);
      } else {
        throw new ModelWalkError(`${name} is not a regular file or directory`);
      }
    }
  };
  await walk(modelPath, '');
  return { modelName: baseName(modelPath), singleFile: false, files };
}
