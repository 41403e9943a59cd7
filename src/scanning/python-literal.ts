// A reader for Python literal expressions, as `ast.literal_eval` accepts them: what numpy's `.npy`
// header is (numpy/lib/format.py parses it with literal_eval, after an optional Python-2 `L`-suffix
// filter). A regular expression over that text disagrees with numpy on escapes (`'|\x4f'` is 'O'),
// implicit concatenation (`'<' 'O'`), comments, parentheses and duplicate keys (the last one wins),
// which is how object arrays were hidden from scanners.
// https://docs.python.org/3/library/ast.html#ast.literal_eval

export type PyValue =
  | { t: 'str'; v: string }
  | { t: 'bytes'; v: Uint8Array }
  | { t: 'int'; v: bigint }
  | { t: 'float'; v: number }
  | { t: 'complex' }
  | { t: 'bool'; v: boolean }
  | { t: 'none' }
  | { t: 'tuple'; items: PyValue[] }
  | { t: 'list'; items: PyValue[] }
  | { t: 'set'; items: PyValue[] }
  | { t: 'dict'; entries: [PyValue, PyValue][] };

export class PyLiteralError extends Error {}

const MAX_DEPTH = 100;

export interface PyLiteralOptions {
  /** Accept Python 2 long literals (`3L`), as numpy's `_filter_header` does for format 1.0/2.0 files. */
  longSuffix?: boolean;
}

/** Parse `text` as one Python literal expression. Throws PyLiteralError where literal_eval would fail. */
export function parsePyLiteral(text: string, options: PyLiteralOptions = {}): PyValue {
  let i = 0;
  let parens = 0;
  const err = (m: string): never => {
    throw new PyLiteralError(`${m} at character ${i}`);
  };
  /** Skip blanks and comments; newlines are only blank inside brackets (or after a backslash). */
  const ws = (): void => {
    for (;;) {
      const c = text[i];
      if (c === ' ' || c === '\t' || c === '\f') i++;
      else if (c === '\\' && (text[i + 1] === '\n' || (text[i + 1] === '\r' && text[i + 2] === '\n')))
        i += text[i + 1] === '\n' ? 2 : 3;
      else if (parens > 0 && (c === '\n' || c === '\r')) i++;
      else if (c === '#') {
        while (i < text.length && text[i] !== '\n') i++;
      } else return;
    }
  };

  const stringAt = (): PyValue | undefined => {
    const m = /^([rRbBuU]{0,2})(['"])/.exec(text.slice(i, i + 3));
    if (!m) return undefined;
    const prefix = (m[1] ?? '').toLowerCase();
    if (!['', 'r', 'b', 'u', 'br', 'rb'].includes(prefix)) return undefined;
    const raw = prefix.includes('r');
    const bytes = prefix.includes('b');
    i += prefix.length;
    const q = text[i] ?? '';
    const triple = text.startsWith(q.repeat(3), i);
    const close = triple ? q.repeat(3) : q;
    i += close.length;
    let out = '';
    for (;;) {
      if (i >= text.length) err('unterminated string');
      if (text.startsWith(close, i)) {
        i += close.length;
        break;
      }
      const c = text[i] as string;
      if (!triple && (c === '\n' || c === '\r')) err('newline in a single-quoted string');
      if (c !== '\\') {
        if (bytes && c.charCodeAt(0) > 0x7f) err('bytes literal with a non-ASCII character');
        out += c;
        i++;
        continue;
      }
      const n = text[i + 1];
      if (n === undefined) err('unterminated string');
      if (raw) {
        out += c + n;
        i += 2;
        continue;
      }
      i += 2;
      out += escape(n as string, bytes);
    }
    return bytes ? { t: 'bytes', v: Uint8Array.from(out, (ch) => ch.charCodeAt(0)) } : { t: 'str', v: out };
  };

  const escape = (n: string, bytes: boolean): string => {
    const simple: Record<string, string> = {
      '\n': '',
      '\\': '\\',
      "'": "'",
      '"': '"',
      a: '\x07',
      b: '\b',
      f: '\f',
      n: '\n',
      r: '\r',
      t: '\t',
      v: '\v',
    };
    if (n in simple) return simple[n] as string;
    if (n === '\r') {
      if (text[i] === '\n') i++;
      return '';
    }
    if (n >= '0' && n <= '7') {
      let s = n;
      while (s.length < 3 && /[0-7]/.test(text[i] ?? '')) s += text[i++];
      const v = parseInt(s, 8);
      if (bytes && v > 0xff) err('octal escape out of range in bytes');
      return String.fromCharCode(v);
    }
    const hexLen = n === 'x' ? 2 : !bytes && n === 'u' ? 4 : !bytes && n === 'U' ? 8 : 0;
    if (hexLen > 0) {
      const h = text.slice(i, i + hexLen);
      if (!new RegExp(`^[0-9a-fA-F]{${hexLen}}$`).test(h)) err(`truncated \\${n} escape`);
      i += hexLen;
      const cp = parseInt(h, 16);
      if (cp > 0x10ffff) err('\\U escape out of range');
      return String.fromCodePoint(cp);
    }
    // \N{NAME} needs the Unicode name database: refuse rather than guess.
    if (!bytes && n === 'N') return err('\\N{...} escapes are not supported');
    return '\\' + n; // unknown escapes keep the backslash (with a DeprecationWarning in Python)
  };

  const numberAt = (): PyValue | undefined => {
    const m =
      /^(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|(?:\d(?:_?\d)*)?\.?(?:\d(?:_?\d)*)?(?:[eE][+-]?\d(?:_?\d)*)?)([jJ]|[lL])?/.exec(
        text.slice(i, i + 5000),
      );
    const body = m?.[0] ?? '';
    if (!/\d/.test(body)) return undefined;
    i += body.length;
    const suffix = m?.[1];
    const digits = (suffix ? body.slice(0, -1) : body).replace(/_/g, '');
    if (suffix === 'j' || suffix === 'J') return { t: 'complex' };
    const isFloat = /^[0-9]*\.|[eE]/.test(digits) && !/^0[xXoObB]/.test(digits);
    if (isFloat) {
      if (suffix) err('L suffix on a float');
      return { t: 'float', v: Number(digits) };
    }
    if (suffix && !options.longSuffix) err('Python 2 long literal');
    if (/^0\d/.test(digits) && /[1-9]/.test(digits)) err('leading zeros in a decimal integer');
    return { t: 'int', v: BigInt(digits) };
  };

  const atom = (depth: number): PyValue => {
    if (depth > MAX_DEPTH) err('nesting too deep');
    ws();
    const c = text[i];
    if (c === '(' || c === '[' || c === '{') {
      i++;
      parens++;
      const close = c === '(' ? ')' : c === '[' ? ']' : '}';
      const items: PyValue[] = [];
      const entries: [PyValue, PyValue][] = [];
      let comma = false;
      let isDict = false;
      ws();
      while (text[i] !== close) {
        const k = expr(depth + 1);
        ws();
        if (c === '{' && text[i] === ':' && (items.length === 0 || isDict)) {
          if (items.length > 0) err('mixed set and dict');
          isDict = true;
          i++;
          entries.push([k, expr(depth + 1)]);
          ws();
        } else if (isDict) err('expected ":" in a dict');
        else items.push(k);
        if (text[i] === ',') {
          comma = true;
          i++;
          ws();
        } else if (text[i] !== close) err(`expected "," or "${close}"`);
      }
      i++;
      parens--;
      if (c === '[') return { t: 'list', items };
      if (c === '{') return isDict || items.length === 0 ? { t: 'dict', entries } : { t: 'set', items };
      if (items.length === 1 && !comma) return items[0] as PyValue;
      return { t: 'tuple', items };
    }
    const s = stringAt();
    if (s !== undefined) {
      // implicit concatenation: 'a' 'b'; str and bytes do not mix
      for (;;) {
        const save = i;
        ws();
        const next = stringAt();
        if (next === undefined) {
          i = save;
          return s;
        }
        if (next.t !== s.t) err('cannot mix bytes and str literals');
        if (s.t === 'str' && next.t === 'str') s.v += next.v;
        else if (s.t === 'bytes' && next.t === 'bytes') s.v = Uint8Array.from([...s.v, ...next.v]);
      }
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i, i + 64))?.[0];
    if (word === 'True' || word === 'False' || word === 'None') {
      i += word.length;
      return word === 'None' ? { t: 'none' } : { t: 'bool', v: word === 'True' };
    }
    if (word !== undefined) return err(`name ${word} is not a literal`);
    const num = numberAt();
    if (num !== undefined) return num;
    return err(c === undefined ? 'unexpected end' : `unexpected character ${JSON.stringify(c)}`);
  };

  // literal_eval allows unary +/- on numbers and complex sums/differences (1+2j).
  const expr = (depth: number): PyValue => {
    ws();
    let sign = 1n;
    let signed = false;
    while (text[i] === '-' || text[i] === '+') {
      if (text[i] === '-') sign = -sign;
      signed = true;
      i++;
      ws();
    }
    let v = atom(depth);
    if (signed) {
      if (v.t === 'int') v = { t: 'int', v: v.v * sign };
      else if (v.t === 'float') v = { t: 'float', v: sign < 0n ? -v.v : v.v };
      else if (v.t !== 'complex') err('unary sign on a non-number');
    }
    ws();
    if ((text[i] === '+' || text[i] === '-') && (v.t === 'int' || v.t === 'float')) {
      i++;
      const rhs = atom(depth);
      if (rhs.t !== 'complex') err('only complex numbers may be added in a literal');
      return { t: 'complex' };
    }
    return v;
  };

  const value = expr(0);
  ws();
  while (i < text.length && /[\s]/.test(text[i] as string)) i++;
  if (i !== text.length) err('trailing characters');
  return value;
}

/** The value of `key` in a dict literal, last occurrence winning as in Python. */
export function dictGet(d: PyValue, key: string): PyValue | undefined {
  if (d.t !== 'dict') return undefined;
  let found: PyValue | undefined;
  for (const [k, v] of d.entries) if (k.t === 'str' && k.v === key) found = v;
  return found;
}

/** The distinct keys of a dict literal (string keys as strings, others described). */
export function dictKeys(d: PyValue): string[] {
  if (d.t !== 'dict') return [];
  return [...new Set(d.entries.map(([k]) => (k.t === 'str' ? k.v : `<${k.t}>`)))];
}
