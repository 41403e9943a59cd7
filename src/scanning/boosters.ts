// Gradient-boosting models whose pickled state is handed to a native parser by __setstate__:
// xgboost.core.Booster passes `handle` (a UBJSON model buffer) to XGBoosterUnserializeFromBuffer,
// lightgbm.basic.Booster passes `_handle` (the text model) to LGBM_BoosterLoadModelFromString. The
// pickle opcodes around them are plain data; the risk is the native parser (LightGBM's tree parser
// had memory-safety bugs: CVE-2024-43598). So the buffer itself is judged: it must be a complete,
// well-formed model whose trees are internally consistent (array lengths agree with the node and leaf
// counts, child indices point inside the tree, split features exist) — what a crafted buffer breaks.

import { isObj as isPlainObject } from '../json/shape.ts';

// --- xgboost: UBJSON (https://ubjson.org/type-reference/) -------------------------------------------

type Ub = null | boolean | number | string | Ub[] | { [k: string]: Ub };

class UbError extends Error {}

function parseUbjson(b: Uint8Array): Ub {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let p = 0;
  let budget = 50_000_000;
  const need = (n: number): number => {
    if (n < 0 || p + n > b.length) throw new UbError('buffer ends inside a value');
    const at = p;
    p += n;
    return at;
  };
  const int = (marker: number): number => {
    switch (marker) {
      case 0x69:
        return dv.getInt8(need(1)); // i
      case 0x55:
        return dv.getUint8(need(1)); // U
      case 0x49:
        return dv.getInt16(need(2)); // I
      case 0x6c:
        return dv.getInt32(need(4)); // l
      case 0x4c: {
        // L
        const v = dv.getBigInt64(need(8));
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER))
          throw new UbError('integer out of range');
        return Number(v);
      }
      default:
        throw new UbError(`expected an integer type, got 0x${marker.toString(16)}`);
    }
  };
  const str = (): string => {
    const n = int(b[need(1)] ?? 0);
    const at = need(n);
    return new TextDecoder().decode(b.subarray(at, at + n));
  };
  const value = (marker: number, depth: number): Ub => {
    if (--budget < 0) throw new UbError('too many values');
    if (depth > 64) throw new UbError('nested too deeply');
    switch (marker) {
      case 0x5a:
        return null; // Z
      case 0x4e:
        return value(b[need(1)] ?? 0, depth); // N no-op
      case 0x54:
        return true;
      case 0x46:
        return false;
      case 0x69:
      case 0x55:
      case 0x49:
      case 0x6c:
      case 0x4c:
        return int(marker);
      case 0x64:
        return dv.getFloat32(need(4)); // d
      case 0x44:
        return dv.getFloat64(need(8)); // D
      case 0x43:
        return String.fromCharCode(b[need(1)] ?? 0); // C
      case 0x53:
      case 0x48:
        return str(); // S, H
      case 0x5b:
      case 0x7b:
        return container(marker === 0x7b, depth);
      default:
        throw new UbError(`unknown type marker 0x${marker.toString(16)}`);
    }
  };
  const container = (object: boolean, depth: number): Ub => {
    let type: number | undefined;
    let count: number | undefined;
    if (b[p] === 0x24) {
      p++;
      type = b[need(1)];
    }
    if (b[p] === 0x23) {
      p++;
      count = int(b[need(1)] ?? 0);
      if (count < 0 || count > b.length) throw new UbError('bad count');
    } else if (type !== undefined) throw new UbError('typed container without a count');
    const arr: Ub[] = [];
    const obj: Record<string, Ub> = Object.create(null) as Record<string, Ub>;
    for (let i = 0; count === undefined || i < count; i++) {
      if (count === undefined && b[p] === (object ? 0x7d : 0x5d)) {
        p++;
        break;
      }
      if (object) {
        const k = str();
        obj[k] = value(type ?? b[need(1)] ?? 0, depth + 1);
      } else arr.push(value(type ?? b[need(1)] ?? 0, depth + 1));
    }
    return object ? obj : arr;
  };
  const root = value(b[need(1)] ?? 0, 0);
  if (p !== b.length) throw new UbError(`${b.length - p} bytes after the model`);
  return root;
}

// The one object test (json/shape.ts), narrowed to UBJSON values.
const isObj = (v: Ub | undefined): v is { [k: string]: Ub } => isPlainObject(v);
const nums = (v: Ub | undefined): number[] | undefined =>
  Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as number[]) : undefined;

function xgboostTrees(model: Ub): string | undefined {
  if (!isObj(model)) return 'Model is not an object';
  const learner = model.learner;
  const gb = isObj(learner) ? learner.gradient_booster : undefined;
  const inner = isObj(gb) ? gb.model : undefined;
  const trees = isObj(inner) ? inner.trees : undefined;
  if (trees === undefined) return undefined; // gblinear and others: no trees
  if (!Array.isArray(trees)) return 'trees is not a list';
  for (const [i, t] of trees.entries()) {
    if (!isObj(t)) return `tree ${i} is not an object`;
    const param = t.tree_param;
    const n = isObj(param) ? Number(param.num_nodes) : NaN;
    if (!Number.isInteger(n) || n < 1) return `tree ${i} has no valid num_nodes`;
    for (const k of ['left_children', 'right_children', 'parents', 'split_indices', 'split_conditions']) {
      const a = nums(t[k]);
      if (a === undefined || a.length !== n)
        return `tree ${i}: ${k} has ${Array.isArray(t[k]) ? (t[k] as Ub[]).length : 'no'} entries for ${n} nodes`;
    }
    for (const k of ['left_children', 'right_children']) {
      const bad = nums(t[k])?.find((c) => c !== -1 && (c < 1 || c >= n || !Number.isInteger(c)));
      if (bad !== undefined) return `tree ${i}: ${k} points to node ${bad}, outside the ${n} nodes`;
    }
  }
  return undefined;
}

/** Why an xgboost Booster buffer is not a model xgboost itself writes (undefined when it is). */
export function xgboostBufferProblem(buf: Uint8Array): string | undefined {
  let root: Ub;
  try {
    if (buf[0] === 0x7b && buf[1] === 0x22)
      root = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf)) as Ub;
    else if (buf[0] === 0x7b) root = parseUbjson(buf);
    else
      return 'the buffer is neither UBJSON nor JSON (a legacy binary model, which modelgate does not validate)';
  } catch (e) {
    return `the buffer does not parse (${(e as Error).message})`;
  }
  if (!isObj(root) || !isObj(root.Config) || !isObj(root.Model))
    return 'the buffer lacks its Config and Model sections';
  return xgboostTrees(root.Model);
}

// --- LightGBM: the text model format (src/boosting/gbdt_model_text.cpp, src/io/tree.cpp) -------------

function ints(s: string | undefined): number[] | undefined {
  if (s === undefined) return undefined;
  if (s.trim() === '') return [];
  const out = s.trim().split(/\s+/).map(Number);
  return out.every((x) => Number.isInteger(x)) ? out : undefined;
}
function count(s: string | undefined): number {
  return s === undefined || s.trim() === '' ? 0 : s.trim().split(/\s+/).length;
}

/** Why a LightGBM model string is not one LightGBM writes (undefined when it is consistent). */
export function lightgbmModelProblem(text: string): string | undefined {
  if (!/^tree\r?\nversion=v\d/.test(text))
    return 'the model string does not start with "tree" and a version line';
  const maxFeature = Number(/^max_feature_idx=(-?\d+)\s*$/m.exec(text)?.[1]);
  if (!Number.isInteger(maxFeature) || maxFeature < 0) return 'max_feature_idx is missing';
  const blocks = text.split(/^Tree=/m).slice(1);
  for (const [i, block] of blocks.entries()) {
    const body = block.split(/^end of trees/m)[0] ?? '';
    const kv = new Map<string, string>();
    for (const line of body.split(/\r?\n/).slice(1)) {
      const eq = line.indexOf('=');
      if (eq > 0) kv.set(line.slice(0, eq), line.slice(eq + 1));
    }
    const leaves = Number(kv.get('num_leaves'));
    const numCat = Number(kv.get('num_cat') ?? '0');
    if (!Number.isInteger(leaves) || leaves < 1) return `tree ${i} has no valid num_leaves`;
    if (!Number.isInteger(numCat) || numCat < 0) return `tree ${i} has an invalid num_cat`;
    if (count(kv.get('leaf_value')) !== leaves)
      return `tree ${i}: leaf_value has ${count(kv.get('leaf_value'))} entries for ${leaves} leaves`;
    if (leaves === 1) continue;
    for (const k of ['split_feature', 'threshold', 'decision_type', 'left_child', 'right_child']) {
      if (count(kv.get(k)) !== leaves - 1)
        return `tree ${i}: ${k} has ${count(kv.get(k))} entries for ${leaves - 1} splits`;
    }
    for (const k of ['left_child', 'right_child']) {
      const bad = ints(kv.get(k))?.find((c) => c >= leaves - 1 || c < -leaves);
      if (bad !== undefined || ints(kv.get(k)) === undefined)
        return `tree ${i}: ${k} has an index outside the tree (${bad})`;
    }
    const bad = ints(kv.get('split_feature'))?.find((f) => f < 0 || f > maxFeature);
    if (bad !== undefined) return `tree ${i}: split_feature ${bad} is outside 0..${maxFeature}`;
    if (numCat > 0) {
      const bounds = ints(kv.get('cat_boundaries'));
      if (bounds === undefined || bounds.length !== numCat + 1)
        return `tree ${i}: cat_boundaries does not have num_cat + 1 entries`;
      if (bounds.some((x, j) => j > 0 && x < (bounds[j - 1] ?? 0)) || bounds[0] !== 0)
        return `tree ${i}: cat_boundaries is not increasing from 0`;
      if (count(kv.get('cat_threshold')) !== bounds[bounds.length - 1])
        return `tree ${i}: cat_threshold does not match cat_boundaries`;
    }
  }
  return undefined;
}
