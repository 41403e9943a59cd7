// A strict JSON reader for untrusted headers: integers stay exact (bigint), duplicate keys and deep
// nesting are errors. JSON.parse would round 2**64-sized offsets and silently keep the last duplicate.

import { isObj as isPlainObject } from '../json/shape.ts';

export type Json = null | boolean | number | bigint | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

export class JsonError extends Error {}

// eslint-disable-next-line no-control-regex -- JSON forbids raw control characters in strings
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const LITERAL = /true|false|null/y;
const PY_CONSTANT = /NaN|-?Infinity/y;
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

export interface JsonOptions {
  /**
   * Read as Python's json.loads does (what Keras and transformers use): NaN, Infinity and -Infinity
   * are numbers, and a duplicate key keeps its last value. The default is strict JSON (duplicates refused).
   */
  python?: boolean;
}

export function parseJsonStrict(text: string, maxDepth = 256, options: JsonOptions = {}): Json {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r'))
      i++;
  };
  const err = (m: string): never => {
    throw new JsonError(`${m} at character ${i}`);
  };
  const str = (): string => {
    STRING.lastIndex = i;
    const m = STRING.exec(text);
    if (!m) return err('bad string');
    i += m[0].length;
    return JSON.parse(m[0]) as string;
  };
  const value = (depth: number): Json => {
    if (depth > maxDepth) err('nesting too deep');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const o: JsonObject = Object.create(null) as JsonObject;
      ws();
      if (text[i] === '}') return (i++, o);
      for (;;) {
        ws();
        if (text[i] !== '"') err('expected a key');
        const k = str();
        if (!options.python && Object.prototype.hasOwnProperty.call(o, k))
          err(`duplicate key ${JSON.stringify(k)}`);
        ws();
        if (text[i++] !== ':') err('expected ":"');
        o[k] = value(depth + 1);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return (i++, o);
        else err('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const a: Json[] = [];
      ws();
      if (text[i] === ']') return (i++, a);
      for (;;) {
        a.push(value(depth + 1));
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return (i++, a);
        else err('expected "," or "]"');
      }
    }
    if (c === '"') return str();
    LITERAL.lastIndex = i;
    const lit = LITERAL.exec(text);
    if (lit) {
      i += lit[0].length;
      return lit[0] === 'null' ? null : lit[0] === 'true';
    }
    if (options.python) {
      PY_CONSTANT.lastIndex = i;
      const k = PY_CONSTANT.exec(text);
      if (k) {
        i += k[0].length;
        return k[0] === 'NaN' ? NaN : k[0].startsWith('-') ? -Infinity : Infinity;
      }
    }
    NUMBER.lastIndex = i;
    const num = NUMBER.exec(text);
    if (!num) return err('unexpected character');
    i += num[0].length;
    return num[1] === undefined && num[2] === undefined ? BigInt(num[0]) : Number(num[0]);
  };
  const v = value(0);
  ws();
  if (i !== text.length) err('trailing characters');
  return v;
}

/** Python json.loads semantics (see JsonOptions.python). */
export function parsePythonJson(text: string, maxDepth = 256): Json {
  return parseJsonStrict(text, maxDepth, { python: true });
}

/** The one object test (json/shape.ts), narrowed to this parser's values. */
export function isObject(v: Json | undefined): v is JsonObject {
  return isPlainObject(v);
}
