// Protocol Buffers text format (what saved_model.pbtxt and graph.pbtxt hold), read as protobuf's
// TextFormat parser reads it: `name: value` and `name { ... }` / `name < ... >` fields, `[a, b]`
// lists, `#` comments, `,`/`;` separators, and strings in single or double quotes with C escapes
// (\n, three octal digits, \x with two hex digits, \u with four, \U with eight) where adjacent literals
// concatenate ('Py' "Func").
// https://protobuf.dev/reference/protobuf/textformat-spec/

export interface TextMessage {
  /** Fields in order; repeated fields appear once per value. */
  fields: [string, TextValue][];
}
export type TextValue = string | TextMessage;

export class TextProtoError extends Error {}

const MAX_DEPTH = 100;

export function parseTextProto(text: string): TextMessage {
  let i = 0;
  const err = (m: string): never => {
    throw new TextProtoError(`${m} at character ${i}`);
  };
  const ws = (): void => {
    for (;;) {
      const c = text[i];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') i++;
      else if (c === '#') while (i < text.length && text[i] !== '\n') i++;
      else return;
    }
  };
  const name = (): string => {
    ws();
    if (text[i] === '[') {
      const close = text.indexOf(']', i);
      if (close < 0) err('unclosed extension name');
      const n = text.slice(i, close + 1);
      i = close + 1;
      return n;
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i, i + 256));
    if (!m) return err('expected a field name');
    i += m[0].length;
    return m[0];
  };
  const oneString = (): string => {
    const q = text[i];
    i++;
    let out = '';
    for (;;) {
      if (i >= text.length) err('unterminated string');
      const c = text[i] as string;
      if (c === q) {
        i++;
        return out;
      }
      if (c === '\n') err('newline in a string');
      if (c !== '\\') {
        out += c;
        i++;
        continue;
      }
      const n = text[i + 1] ?? '';
      i += 2;
      const simple: Record<string, string> = {
        a: '\x07',
        b: '\b',
        f: '\f',
        n: '\n',
        r: '\r',
        t: '\t',
        v: '\v',
        '\\': '\\',
        "'": "'",
        '"': '"',
        '?': '?',
      };
      if (n in simple) out += simple[n];
      else if (/[0-7]/.test(n)) {
        let s = n;
        while (s.length < 3 && /[0-7]/.test(text[i] ?? '')) s += text[i++];
        out += String.fromCharCode(parseInt(s, 8) & 0xff);
      } else if (n === 'x' || n === 'X') {
        const hex = /^[0-9a-fA-F]{1,2}/.exec(text.slice(i, i + 2))?.[0];
        if (hex === undefined) return err('bad \\x escape');
        out += String.fromCharCode(parseInt(hex, 16));
        i += hex.length;
      } else if (n === 'u' || n === 'U') {
        const len = n === 'u' ? 4 : 8;
        const h = text.slice(i, i + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(h)) err(`bad \\${n} escape`);
        const cp = parseInt(h, 16);
        if (cp > 0x10ffff) err('escape out of range');
        out += String.fromCodePoint(cp);
        i += len;
      } else err(`unknown escape \\${n}`);
    }
  };
  const scalar = (): string => {
    ws();
    const c = text[i];
    if (c === '"' || c === "'") {
      let s = oneString();
      for (;;) {
        ws();
        if (text[i] !== '"' && text[i] !== "'") return s;
        s += oneString();
      }
    }
    const m = /^-?[A-Za-z0-9_.+-]+/.exec(text.slice(i, i + 512));
    if (!m) return err('expected a value');
    i += m[0].length;
    return `\u0000${m[0]}`; // non-string scalar (number, enum, bool): never an op name
  };
  const message = (close: string | undefined, depth: number): TextMessage => {
    if (depth > MAX_DEPTH) err('messages nested too deeply');
    const fields: [string, TextValue][] = [];
    for (;;) {
      ws();
      if (i >= text.length) {
        if (close !== undefined) err(`missing "${close}"`);
        return { fields };
      }
      if (close !== undefined && text[i] === close) {
        i++;
        return { fields };
      }
      const key = name();
      ws();
      let colon = false;
      if (text[i] === ':') {
        colon = true;
        i++;
        ws();
      }
      const c = text[i];
      if (c === '{' || c === '<') {
        i++;
        fields.push([key, message(c === '{' ? '}' : '>', depth + 1)]);
      } else if (c === '[') {
        i++;
        ws();
        while (text[i] !== ']') {
          ws();
          const d = text[i];
          if (d === '{' || d === '<') {
            i++;
            fields.push([key, message(d === '{' ? '}' : '>', depth + 1)]);
          } else fields.push([key, scalar()]);
          ws();
          if (text[i] === ',') i++;
          else if (text[i] !== ']') err('expected "," or "]"');
          ws();
        }
        i++;
      } else {
        if (!colon) err(`field ${key} needs ":" before a scalar value`);
        fields.push([key, scalar()]);
      }
      ws();
      if (text[i] === ',' || text[i] === ';') i++;
    }
  };
  return message(undefined, 0);
}

/** Top-level field names that mark a text-format SavedModel or GraphDef. */
export function textProtoKind(head: string): 'savedmodel' | 'graphdef' | undefined {
  const m = /^(?:\s|#[^\n]*\n)*([A-Za-z_][A-Za-z0-9_]*)\s*[:{<]/.exec(head);
  const first = m?.[1];
  if (first === 'saved_model_schema_version' || first === 'meta_graphs') return 'savedmodel';
  if (first === 'node' || first === 'library' || first === 'versions') return 'graphdef';
  return undefined;
}
