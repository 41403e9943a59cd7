// A minimal RFC 6902 applier (add/remove/replace on objects and arrays), to apply webhook patches in tests
// the way the API server does.
import type { JsonPatchOperation } from './json-patch.ts';

type Container = Record<string, unknown> | unknown[];

export function applyJsonPatch<T>(doc: T, ops: readonly JsonPatchOperation[]): T {
  const out = structuredClone(doc) as unknown;
  for (const op of ops) {
    const parts = op.path
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop();
    if (last === undefined) throw new Error(`bad path ${op.path}`);
    let parent = out as Container;
    for (const p of parts) parent = (Array.isArray(parent) ? parent[Number(p)] : parent[p]) as Container;
    if (parent === undefined || parent === null) throw new Error(`path ${op.path} does not exist`);
    if (Array.isArray(parent)) {
      const i = last === '-' ? parent.length : Number(last);
      if (op.op === 'add') parent.splice(i, 0, op.value);
      else if (op.op === 'remove') parent.splice(i, 1);
      else parent[i] = op.value;
    } else if (op.op === 'remove') delete parent[last];
    else parent[last] = op.value;
  }
  return out as T;
}
