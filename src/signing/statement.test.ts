import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pythonBytesRepr, preAuthEncoding } from './dsse.ts';
import { buildStatement, parseStatement, validName } from './statement.ts';
import { rootDigest } from '../hashing/manifest.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const D1 = 'a'.repeat(64);
const D2 = 'b'.repeat(64);

function statement(
  over: {
    resources?: unknown;
    serialization?: Record<string, unknown>;
    digest?: string;
    predicateType?: string;
  } = {},
) {
  const resources = over.resources ?? [
    { name: 'w.bin', algorithm: 'sha256', digest: D1 },
    { name: 'x/y', algorithm: 'sha256', digest: D2 },
  ];
  const digest = over.digest ?? rootDigest(resources as { digest: string }[]);
  return enc(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'm', digest: { sha256: digest } }],
      predicateType: over.predicateType ?? 'https://model_signing/signature/v1.0',
      predicate: {
        serialization: { method: 'files', hash_type: 'sha256', allow_symlinks: false, ...over.serialization },
        resources,
      },
    }),
  );
}

describe('DSSE encodings', () => {
  it('PAE counts bytes', () => {
    expect(new TextDecoder().decode(preAuthEncoding('t', enc('é')))).toBe('DSSEv1 1 t 2 é');
  });
  it('reproduces Python bytes repr (for model_signing 0.2)', () => {
    // Expected values printed by CPython 3.11.
    expect(pythonBytesRepr(enc(''))).toBe("b''");
    expect(pythonBytesRepr(enc("a'b"))).toBe(`b"a'b"`);
    expect(pythonBytesRepr(enc('a"b'))).toBe(`b'a"b'`);
    expect(pythonBytesRepr(enc(`'"`))).toBe(`b'\\'"'`);
    expect(pythonBytesRepr(new Uint8Array([0, 0x7f, 0x80, 0xff, 9, 10, 13, 0x5c, 0x20, 0x7e]))).toBe(
      "b'\\x00\\x7f\\x80\\xff\\t\\n\\r\\\\ ~'",
    );
    expect(pythonBytesRepr(enc('é'))).toBe("b'\\xc3\\xa9'");
  });
});

describe('parseStatement', () => {
  it('accepts a consistent statement', () => {
    const s = parseStatement(statement());
    expect(s.resources).toHaveLength(2);
    expect(s.subjectDigest.hex).toBe(rootDigest([{ digest: D1 }, { digest: D2 }]));
  });
  it.each([
    ['an inconsistent root digest', { digest: 'c'.repeat(64) }, /inconsistent/],
    ['a wrong predicate', { predicateType: 'https://example.com/x' }, /not a model_signing predicate/],
    [
      'a duplicate resource',
      {
        resources: [
          { name: 'a', algorithm: 'sha256', digest: D1 },
          { name: 'a', algorithm: 'sha256', digest: D2 },
        ],
      },
      /appears twice/,
    ],
    [
      'a label not matching the serialization',
      { resources: [{ name: 'a', algorithm: 'blake3', digest: D1 }] },
      /does not match serialization/,
    ],
    [
      'a traversal name',
      { resources: [{ name: '../etc/passwd', algorithm: 'sha256', digest: D1 }] },
      /not a valid file name/,
    ],
    [
      'an upper-case digest',
      { resources: [{ name: 'a', algorithm: 'sha256', digest: D1.toUpperCase() }] },
      /hex digest/,
    ],
    [
      'a short digest',
      { resources: [{ name: 'a', algorithm: 'sha256', digest: D1.slice(1) }] },
      /hex digest/,
    ],
    ['a long digest', { resources: [{ name: 'a', algorithm: 'sha256', digest: `${D1}0` }] }, /hex digest/],
    [
      'a digest with a non-hex character',
      { resources: [{ name: 'a', algorithm: 'sha256', digest: `${D1.slice(1)}g` }] },
      /hex digest/,
    ],
    [
      'a bad shard name',
      {
        serialization: { method: 'shards', shard_size: 8 },
        resources: [{ name: 'a:8:8', algorithm: 'sha256-sharded-8', digest: D1 }],
      },
      /not a valid shard name/,
    ],
    ['an unknown hash', { serialization: { hash_type: 'md5' } }, /hash_type/],
    ['shards without a size', { serialization: { method: 'shards' } }, /shard_size/],
  ] as const)('rejects %s', (_what, over, reason) => {
    expect(() => parseStatement(statement(over))).toThrow(reason);
  });
  it('reads shard statements, with a float shard size as Python writes it', () => {
    const text = new TextDecoder()
      .decode(
        statement({
          serialization: { method: 'shards', shard_size: 8 },
          resources: [{ name: 'a:0:8', algorithm: 'sha256-sharded-8', digest: D1 }],
        }),
      )
      .replace('"shard_size":8', '"shard_size":8.0');
    expect(parseStatement(enc(text)).serialization).toEqual({
      method: 'shards',
      hashType: 'sha256',
      shardSize: 8,
      allowSymlinks: false,
    });
  });
  it('round-trips what buildStatement writes', () => {
    const resources = [{ name: 'w.bin', algorithm: 'sha256', digest: D1 }];
    const built = buildStatement(
      { modelName: 'm', resources, rootDigest: rootDigest(resources) },
      { method: 'files', hashType: 'sha256', allowSymlinks: false },
      ['.git'],
    );
    const parsed = parseStatement(enc(JSON.stringify(built, null, 2)));
    expect(parsed.resources).toEqual(resources);
    expect(parsed.ignorePaths).toEqual(['.git']);
  });
});

describe('manifest names', () => {
  /** The rule, spelled out: "." or a relative path of non-empty components other than "." and "..". */
  const reference = (name: string) =>
    name === '.' ||
    (name !== '' &&
      !name.startsWith('/') &&
      !name.includes('\0') &&
      name.split('/').every((p) => p !== '' && p !== '.' && p !== '..'));
  it('accepts exactly the relative paths without empty, "." or ".." components', () => {
    const name = fc
      .array(fc.constantFrom('a', 'b', '.', '/', '\0', ':'), { maxLength: 8 })
      .map((c) => c.join(''));
    fc.assert(
      fc.property(name, (n) => {
        expect(validName(n)).toBe(reference(n));
      }),
      { numRuns: 5000 },
    );
    for (const ok of ['.', 'a', 'a/b', '.a', '..a', 'a..', 'a/.b/c']) expect(validName(ok)).toBe(true);
    for (const bad of ['', '/', '/a', 'a/', 'a//b', './a', 'a/..', '..', 'a/./b', 'a\0b'])
      expect(validName(bad)).toBe(false);
  });
});
