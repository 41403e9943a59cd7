// Reads Kubernetes objects from YAML/JSON files and directories: multi-document YAML, `kind: List`,
// empty documents skipped. Errors name the file (and the document) so a typo is found at once.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import yaml from 'js-yaml';
import { isObj } from '../json/shape.ts';

export interface LoadedObject {
  file: string;
  /** 1-based document index inside the file. */
  doc: number;
  object: Record<string, unknown>;
}

export class ManifestError extends Error {}

const YAML_EXT = new Set(['.yaml', '.yml', '.json']);

/** Expands files and directories (recursively, sorted) into the manifest files they hold. */
export function manifestFiles(paths: string[]): string[] {
  const out: string[] = [];
  const walk = (p: string, explicit: boolean) => {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new ManifestError(`${p}: no such file or directory`);
    }
    if (st.isDirectory()) {
      for (const e of readdirSync(p).sort()) if (!e.startsWith('.')) walk(join(p, e), false);
    } else if (explicit || YAML_EXT.has(extname(p).toLowerCase())) out.push(p);
  };
  for (const p of paths) walk(p, true);
  return out;
}

export function parseManifestText(text: string, file: string): LoadedObject[] {
  let docs: unknown[];
  try {
    docs = yaml.loadAll(text, undefined, { filename: file });
  } catch (err) {
    throw new ManifestError(`${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const out: LoadedObject[] = [];
  docs.forEach((d, i) => {
    if (d === null || d === undefined) return;
    if (!isObj(d))
      throw new ManifestError(
        `${file}: document ${i + 1} is not a Kubernetes object (got ${Array.isArray(d) ? 'a list' : typeof d})`,
      );
    if (typeof d.kind === 'string' && d.kind.endsWith('List') && Array.isArray(d.items)) {
      d.items.forEach((item, j) => {
        if (!isObj(item)) throw new ManifestError(`${file}: document ${i + 1}, items[${j}] is not an object`);
        out.push({ file, doc: i + 1, object: item });
      });
    } else out.push({ file, doc: i + 1, object: d });
  });
  return out;
}

export function loadManifests(paths: string[]): LoadedObject[] {
  return manifestFiles(paths).flatMap((f) => {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (err) {
      throw new ManifestError(`${f}: cannot read: ${(err as Error).message}`);
    }
    return parseManifestText(text, f);
  });
}
