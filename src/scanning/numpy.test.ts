import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dtypeFromDescr, dtypeFromString } from './numpy-dtype.ts';
import { parseNpyHeader } from './numpy.ts';
import { dictGet, parsePyLiteral, PyLiteralError } from './python-literal.ts';
import { concat, u16 } from './testing.test-support.ts';

function npy(header: string, major = 1): Uint8Array {
  const body = new TextEncoder().encode(header + '\n');
  const len = major === 1 ? u16(body.length) : [body.length & 0xff, (body.length >> 8) & 0xff, 0, 0];
  return concat([0x93], 'NUMPY', [major, 0], len, body);
}

describe('Python literals (ast.literal_eval)', () => {
  it('reads escapes, implicit concatenation, comments and parentheses as Python does', () => {
    expect(parsePyLiteral(String.raw`'|\x4f'`)).toEqual({ t: 'str', v: '|O' });
    expect(parsePyLiteral(String.raw`'\117'`)).toEqual({ t: 'str', v: 'O' });
    expect(parsePyLiteral(String.raw`'\u004f'`)).toEqual({ t: 'str', v: 'O' });
    expect(parsePyLiteral(`'|' "O"`)).toEqual({ t: 'str', v: '|O' });
    expect(parsePyLiteral(`('|O')`)).toEqual({ t: 'str', v: '|O' });
    expect(parsePyLiteral(`{'a': # comment\n 1}`)).toEqual({
      t: 'dict',
      entries: [
        [
          { t: 'str', v: 'a' },
          { t: 'int', v: 1n },
        ],
      ],
    });
    expect(parsePyLiteral(`r'\\x4f'`)).toEqual({ t: 'str', v: '\\x4f' });
    expect(parsePyLiteral('(1,)')).toEqual({ t: 'tuple', items: [{ t: 'int', v: 1n }] });
    expect(parsePyLiteral('(1)')).toEqual({ t: 'int', v: 1n });
    expect(parsePyLiteral('-0x10')).toEqual({ t: 'int', v: -16n });
  });

  it('keeps the last of duplicate dict keys', () => {
    const d = parsePyLiteral(`{'descr': '<f8', 'descr': '|O'}`);
    expect(dictGet(d, 'descr')).toEqual({ t: 'str', v: '|O' });
  });

  it('refuses what literal_eval refuses', () => {
    for (const bad of [
      '__import__("os")',
      "{'a': b}",
      "f'{x}'",
      "'unterminated",
      '1 + 2',
      "'\\N{LOW LINE}'",
      '(1L,)',
    ])
      expect(() => parsePyLiteral(bad), bad).toThrow(PyLiteralError);
    expect(parsePyLiteral('(1L,)', { longSuffix: true })).toEqual({
      t: 'tuple',
      items: [{ t: 'int', v: 1n }],
    });
  });

  it('round-trips strings written with Python escapes (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        const py = `'${[...s]
          .map((c) => {
            const cp = c.codePointAt(0) ?? 0;
            if (c === "'" || c === '\\') return `\\${c}`;
            if (cp < 0x20 || cp === 0x7f) return `\\x${cp.toString(16).padStart(2, '0')}`;
            if (cp > 0xffff) return `\\U${cp.toString(16).padStart(8, '0')}`;
            if (cp > 0x7e) return `\\u${cp.toString(16).padStart(4, '0')}`;
            return c;
          })
          .join('')}'`;
        expect(parsePyLiteral(py)).toEqual({ t: 'str', v: s });
      }),
    );
  });
});

describe('numpy dtypes (hasobject as numpy decides it)', () => {
  it.each([
    ['O', true],
    ['|O', true],
    ['<O8', true],
    ['object', true],
    ['object_', true],
    ['i4,O', true],
    ['(2,)O', true],
    ['T', true],
    ['<f8', false],
    ['V16', false],
    ['U10', false],
    ['M8[ns]', false],
    ['float64', false],
    ['i4,f8', false],
  ])('%s hasobject=%s', (s, obj) => {
    expect(dtypeFromString(s)?.hasObject).toBe(obj);
  });

  it('sizes elements exactly', () => {
    expect(dtypeFromString('<f8')?.itemsize).toBe(8);
    expect(dtypeFromString('U3')?.itemsize).toBe(12);
    expect(dtypeFromString('i4,f8')?.itemsize).toBe(12);
    expect(dtypeFromString('(2,3)i2')?.itemsize).toBe(12);
  });

  it('refuses codes numpy refuses (fail closed)', () => {
    for (const bad of ['O16', 'Q7', 'Float64', 'foo', ' f8', 'f3'])
      expect(dtypeFromString(bad), bad).toBeUndefined();
  });

  it('follows structured descrs and subarray tuples', () => {
    const fields = parsePyLiteral("[('a', '<i8'), ('b', [('c', '|O')])]");
    expect(dtypeFromDescr(fields)?.hasObject).toBe(true);
    expect(dtypeFromDescr(parsePyLiteral("('|O', (2,))"))?.hasObject).toBe(true);
    expect(dtypeFromDescr(parsePyLiteral("[('a', '<f4', (2, 2))]"))?.itemsize).toBe(16);
  });
});

describe('.npy headers', () => {
  const object = (h: string, major = 1) => {
    const r = parseNpyHeader(npy(h, major));
    return 'rule' in r ? r.rule : r.objectDtype;
  };
  it('finds object arrays however the header spells them', () => {
    expect(object("{'descr': '|\\x4f', 'fortran_order': False, 'shape': (1,), }")).toBe(true);
    expect(object("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'descr': 'object'}")).toBe(true);
    expect(object("{'descr': [('a', '<i8'), ('b', '|O')], 'fortran_order': False, 'shape': (1,)}")).toBe(
      true,
    );
    expect(object("{'descr': # '<f8'\n '|O', 'fortran_order': False, 'shape': (1,)}")).toBe(true);
    expect(object("{'descr': '|O', 'fortran_order': False, 'shape': (1L,)}")).toBe(true);
    expect(object("{'descr': '|O', 'fortran_order': False, 'shape': (1,)}", 3)).toBe(true);
    expect(object("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)}")).toBe(false);
  });
  it('refuses headers numpy refuses', () => {
    expect(object("{'descr': '<f8', 'fortran_order': 0, 'shape': (1,)}")).toBe('numpy-malformed-header');
    expect(object("{'descr': '<f8', 'shape': (1,)}")).toBe('numpy-malformed-header');
    expect(object("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'extra': 1}")).toBe(
      'numpy-malformed-header',
    );
    expect(object("{'descr': 'Q7', 'fortran_order': False, 'shape': (1,)}")).toBe('numpy-malformed-header');
    expect(object("{'descr': '<f8', 'fortran_order': False, 'shape': (1L,)}", 3)).toBe(
      'numpy-malformed-header',
    );
  });
  it('computes the data size of plain arrays', () => {
    const r = parseNpyHeader(npy("{'descr': '<f4', 'fortran_order': True, 'shape': (3, 4), }"));
    expect('rule' in r ? undefined : r.dataBytes).toBe(48);
  });
});
