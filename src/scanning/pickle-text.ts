// Text forms of the pickle protocol: the argument lines of protocol-0 opcodes (INT, LONG, FLOAT,
// STRING, UNICODE, GET/PUT) decoded exactly as CPython's unpickler decodes them, and fast paths for the
// short ASCII strings that dominate real pickles.

export const utf8Strict = new TextDecoder('utf-8', { fatal: true });
export const latin1 = new TextDecoder('latin1');

/** Short ASCII strings dominate real pickles; TextDecoder's per-call cost dwarfs them. */
export function asciiOrUndefined(b: Uint8Array): string | undefined {
  if (b.length > 64) return undefined;
  let s = '';
  for (let i = 0; i < b.length; i++) {
    const c = b[i] ?? 0;
    if (c >= 0x80) return undefined;
    s += String.fromCharCode(c);
  }
  return s;
}

export function latin1Decode(b: Uint8Array): string {
  return asciiOrUndefined(b) ?? latin1.decode(b);
}

/** Does this look like the start of a binary pickle (PROTO 2-5)? */
export function looksLikeBinaryPickle(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x80 && (b[1] ?? 9) <= 5;
}

/**
 * Integer text as CPython's C unpickler reads INT/LONG: strtol in base 0 (0x.., 0o.., 0b.., and a
 * leading 0 meaning octal), falling back to int(text, 0) (which also allows `_` separators).
 * A scanner that parses base 10 desynchronises from the real loader here.
 */
export function parseIntBase0(text: string): bigint | undefined {
  const s = text.trim();
  // CPython refuses decimal strings over 4300 digits (sys.int_info.str_digits_check_threshold) and
  // BigInt parsing is quadratic: cap the length.
  if (s.length > 5000) return undefined;
  // strtol(s, 0): 0x hex, leading 0 octal, else decimal; no separators.
  const c = /^([+-]?)(?:0[xX]([0-9a-fA-F]+)|0([0-7]*)|([1-9][0-9]*))$/.exec(s);
  if (c) {
    const sign = c[1] === '-' ? -1n : 1n;
    if (c[2] !== undefined) return sign * BigInt('0x' + c[2]);
    if (c[3] !== undefined) return sign * (c[3] === '' ? 0n : BigInt('0o' + c[3]));
    return sign * BigInt(c[4] ?? '0');
  }
  // int(s, 0): prefixed literals and decimal with single `_` separators.
  const p =
    /^([+-]?)(?:0[xX]_?([0-9a-fA-F]+(?:_[0-9a-fA-F]+)*)|0[oO]_?([0-7]+(?:_[0-7]+)*)|0[bB]_?([01]+(?:_[01]+)*)|([1-9][0-9]*(?:_[0-9]+)*|0+(?:_0+)*))$/.exec(
      s,
    );
  if (!p) return undefined;
  const sign = p[1] === '-' ? -1n : 1n;
  const strip = (x: string): string => x.replace(/_/g, '');
  if (p[2] !== undefined) return sign * BigInt('0x' + strip(p[2]));
  if (p[3] !== undefined) return sign * BigInt('0o' + strip(p[3]));
  if (p[4] !== undefined) return sign * BigInt('0b' + strip(p[4]));
  return sign * BigInt(strip(p[5] ?? '0'));
}

/**
 * Python `float()` syntax for the FLOAT opcode. Unambiguous pattern (no nested optional digit runs),
 * and a length cap, so a hostile line cannot make the check itself slow.
 */
const FLOAT_TEXT =
  /^[+-]?(?:(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*|\d(?:_?\d)*\.?)(?:[eE][+-]?\d(?:_?\d)*)?|inf|infinity|nan)$/i;
export function isPythonFloat(text: string): boolean {
  const s = text.trim();
  return s.length <= 1000 && FLOAT_TEXT.test(s);
}

/** codecs.escape_decode, as the protocol-0 STRING opcode applies it. */
export function escapeDecode(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  let o = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i] ?? 0;
    if (c !== 0x5c || i + 1 >= b.length) {
      out[o++] = c;
      continue;
    }
    const n = String.fromCharCode(b[++i] ?? 0);
    const simple: Record<string, number> = {
      n: 10,
      t: 9,
      r: 13,
      '\\': 92,
      "'": 39,
      '"': 34,
      a: 7,
      b: 8,
      f: 12,
      v: 11,
      '\n': -1,
    };
    if (n in simple) {
      const v = simple[n] ?? -1;
      if (v >= 0) out[o++] = v;
    } else if (n === 'x') {
      const hex = latin1.decode(b.subarray(i + 1, i + 3));
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new Error('invalid \\x escape');
      out[o++] = parseInt(hex, 16);
      i += 2;
    } else if (n >= '0' && n <= '7') {
      let j = i;
      let v = 0;
      while (j < b.length && j < i + 3 && (b[j] ?? 0) >= 0x30 && (b[j] ?? 0) <= 0x37)
        v = v * 8 + ((b[j++] ?? 0) - 0x30);
      out[o++] = v & 0xff;
      i = j - 1;
    } else {
      out[o++] = 0x5c;
      out[o++] = b[i] ?? 0;
    }
  }
  return out.subarray(0, o);
}

/** raw-unicode-escape, as the protocol-0 UNICODE opcode decodes its line. */
export function rawUnicodeEscape(b: Uint8Array): string {
  const s = latin1.decode(b);
  return s.replace(
    /\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g,
    (_m, u4: string | undefined, u8: string | undefined) => {
      const cp = parseInt(u4 ?? u8 ?? '0', 16);
      if (cp > 0x10ffff) throw new Error('\\U escape out of range');
      return String.fromCodePoint(cp);
    },
  );
}
