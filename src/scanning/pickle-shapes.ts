// Judges each call and BUILD of an allowlisted global against the opcode shapes its entry permits
// (allowlist.ts). Imports of names that are not allowlisted are already reported by the import
// itself; here only the allowed ones are held to their shapes, plus the BUILD rule every object
// obeys: a state that sets dunder attributes (`__setstate__`, `__reduce__`, `__class__`) turns the
// next BUILD into a call of whatever was stored there.
import { entryShapes, type AllowEntry } from './allowlist.ts';
import { describeValue, isDunder, type ImportRef, type Value } from './pickle-values.ts';
import type { Severity } from './types.ts';

export type CallKind = 'REDUCE' | 'NEWOBJ' | 'NEWOBJ_EX' | 'OBJ' | 'INST';

export interface ShapeFinding {
  rule: string;
  severity: Severity;
  detail: string;
}

export interface CallJudgement {
  finding?: ShapeFinding;
  /** A fresh result value (dtype, joblib wrapper). */
  result?: Value;
  /** The result is an instance of this class (copyreg._reconstructor, newObj helpers). */
  instanceOf?: ImportRef;
}

const SHAPE_NAMES: Record<string, string> = {
  value: 'referenced as a value',
  newobj: 'instantiated without __init__ (NEWOBJ)',
  reduce: 'called by REDUCE with plain data',
  build: 'given state by BUILD',
};

function shapesText(e: AllowEntry): string {
  return entryShapes(e)
    .map((s) => SHAPE_NAMES[s] ?? s)
    .join(', ');
}

function violation(ref: ImportRef, use: string, why?: string): ShapeFinding {
  const entry = ref.entry as AllowEntry;
  return {
    rule: 'pickle-disallowed-shape',
    severity: entry.misuse ?? 'suspicious',
    detail: `${ref.name} is allowlisted only as ${shapesText(entry)}; here ${use}${why ? ` (${why})` : ''}. Its library never pickles it this way, so the file was crafted or comes from code modelgate does not know`,
  };
}

function items(v: Value): readonly Value[] | undefined {
  if (v.t === 'tuple') return v.items ?? undefined;
  return undefined;
}

export function judgeCall(ref: ImportRef, kind: CallKind, args: Value, kwargs?: Value): CallJudgement {
  const entry = ref.entry;
  if (ref.classification !== 'allowed' || entry === undefined) return {};
  const argItems = items(args);
  const instantiation =
    kind === 'NEWOBJ' ||
    kind === 'NEWOBJ_EX' ||
    ((kind === 'OBJ' || kind === 'INST') && argItems?.length === 0);
  if (instantiation) {
    if (!entry.newobj) return { finding: violation(ref, `${kind} instantiates it`) };
    if (argItems === undefined)
      return { finding: violation(ref, `${kind} instantiates it`, 'arguments too long to check') };
    const all = kwargs === undefined ? [...argItems] : [...argItems, kwargs];
    for (const a of all) {
      if (a.t === 'global' && a.ref.classification !== 'allowed')
        return {
          finding: violation(ref, `${kind} instantiates it`, `an argument is the global ${a.ref.name}`),
        };
    }
    return resultOf(ref, entry, argItems);
  }
  if (entry.reduce === undefined)
    return { finding: violation(ref, `${kind} calls it with ${describeValue(args)}`) };
  if (argItems === undefined)
    return {
      finding: violation(
        ref,
        `${kind} calls it with ${describeValue(args)}`,
        'arguments are not a tuple modelgate can check',
      ),
    };
  const why = entry.reduce(argItems);
  if (why !== undefined)
    return { finding: violation(ref, `${kind} calls it with ${describeValue(args)}`, why) };
  return resultOf(ref, entry, argItems);
}

function resultOf(ref: ImportRef, entry: AllowEntry, argItems: readonly Value[]): CallJudgement {
  switch (entry.result) {
    case 'dtype': {
      const code = argItems[0];
      return { result: { t: 'obj', cls: ref, dtype: { code: code?.t === 'str' ? code.v : '\0' } } };
    }
    case 'bytes': {
      // bytes(b) / bytearray(b) keep the bytes; protocol 2 rebuilds them from a latin-1 str
      const a = argItems[0];
      if (a?.t === 'bytes') return { result: a };
      return { result: { t: 'bytes', v: new Uint8Array(0), ...(a?.t === 'str' ? { text: a } : {}) } };
    }
    case 'stringdtype':
      return { result: { t: 'obj', cls: ref, dtype: { code: 'T' } } };
    case 'joblib-array':
      return { result: { t: 'obj', cls: ref, joblib: true } };
    case 'ndarray':
      return { result: { t: 'obj', cls: ref, array: {} } };
    case 'frombuffer':
      return { result: { t: 'obj', cls: ref, array: { frombuffer: argItems } } };
    case 'instance-of-arg0': {
      const cls = argItems[0];
      return cls?.t === 'global' ? { instanceOf: cls.ref } : {};
    }
    default:
      return {};
  }
}

/** Dunder keys of a BUILD state (a dict, or a (dict, slots) pair). */
function dunderKey(state: Value): string | undefined {
  if (state.t === 'dict') return state.dunder;
  if (state.t === 'tuple' && state.items !== null) {
    for (const s of state.items) {
      const d = s.t === 'dict' ? dunderKey(s) : undefined;
      if (d !== undefined) return d;
    }
  }
  return undefined;
}

export function judgeBuild(target: Value, state: Value): ShapeFinding | undefined {
  const dunder = dunderKey(state);
  if (dunder !== undefined) {
    return {
      rule: 'pickle-build-dunder-state',
      severity: 'dangerous',
      detail: isDunder(dunder)
        ? `BUILD sets the attribute ${dunder} on ${describeValue(target)}: a later BUILD or call then runs whatever was stored there (the __setstate__ evasion of "safe" calls)`
        : `BUILD stores an object as the attribute ${dunder} of ${describeValue(target)}: APPEND, APPENDS or ADDITEMS on it then call that object instead of a list or set method`,
    };
  }
  if (target.t !== 'obj' || target.cls === undefined) return undefined;
  const ref = target.cls;
  const entry = ref.entry;
  if (ref.classification !== 'allowed' || entry === undefined) return undefined;
  if (entry.build === undefined) return violation(ref, `BUILD gives an instance ${describeValue(state)}`);
  const why = entry.build([state]);
  return why === undefined ? undefined : violation(ref, 'BUILD gives an instance state', why);
}
