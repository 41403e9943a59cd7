import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { classifyGlobal, resolveGlobalName } from './globals.ts';
import { scanBuffer } from './index.ts';
import { parseIntBase0, runPickle } from './pickle.ts';
import { buildZip, concat, reducePickle, stackGlobalPickle, u32 } from './testing.test-support.ts';
import { DEFAULT_LIMITS } from './types.ts';

const fixture = (p: string): Uint8Array =>
  readFileSync(fileURLToPath(new URL(`../../test/fixtures/model-scanning/${p}`, import.meta.url)));
const run = (b: Uint8Array) =>
  runPickle(b, 0, { limits: DEFAULT_LIMITS, allowGlobals: new Set(), budget: { opcodes: 0 } });
const rules = async (b: Uint8Array, name = 'x.pkl') =>
  (await scanBuffer(b, name)).findings.map((f) => f.rule);

describe('pickle VM', () => {
  it('records GLOBAL, INST, STACK_GLOBAL imports with resolved names', () => {
    expect(run(reducePickle('os', 'system')).imports.map((i) => i.resolved)).toEqual(['os.system']);
    expect(run(stackGlobalPickle('posix', 'system')).imports[0]?.opcode).toBe('STACK_GLOBAL');
    const inst = run(concat("(S'ls'\nios\nsystem\n."));
    expect(inst.imports[0]).toMatchObject({ resolved: 'os.system', opcode: 'INST' });
  });

  it('records call sites: REDUCE, NEWOBJ, OBJ, INST', () => {
    expect(run(reducePickle('os', 'system')).calls).toEqual([
      { callee: 'os.system', opcode: 'REDUCE', offset: 20 },
    ]);
    const newobj = concat([0x80, 0x02], 'cmod\nCls\n', ')', [0x81], '.');
    expect(run(newobj).calls[0]).toMatchObject({ callee: 'mod.Cls', opcode: 'NEWOBJ' });
    const obj = concat('(cmod\nCls\no.');
    expect(run(obj).calls[0]).toMatchObject({ callee: 'mod.Cls', opcode: 'OBJ' });
  });

  it('resolves STACK_GLOBAL operands fetched from the memo (GET after PUT)', () => {
    // protocol 0 strings memoised with PUT, read back with GET, then STACK_GLOBAL
    const b = concat('Vos\np0\n0Vsystem\np1\n0g0\ng1\n', [0x93], '.');
    expect(run(b).imports[0]?.resolved).toBe('os.system');
  });

  it('maps Python 2 names below protocol 3 and not above', () => {
    expect(resolveGlobalName('__builtin__', 'eval', 2)).toBe('builtins.eval');
    expect(resolveGlobalName('commands', 'getoutput', 0)).toBe('subprocess.getoutput');
    expect(resolveGlobalName('__builtin__', 'xrange', 1)).toBe('builtins.range');
    expect(resolveGlobalName('__builtin__', 'eval', 4)).toBe('__builtin__.eval');
    expect(classifyGlobal('commands', 'getoutput', 2, new Set()).classification).toBe('dangerous');
  });

  it('allowlists exactly, flags unknown as suspicious, and cannot be talked out of the denylist', () => {
    expect(classifyGlobal('torch._utils', '_rebuild_tensor_v2', 2, new Set()).classification).toBe('allowed');
    expect(classifyGlobal('collections', 'OrderedDict', 2, new Set()).classification).toBe('allowed');
    expect(classifyGlobal('torch.nn.modules.linear', 'Linear', 2, new Set()).classification).toBe(
      'suspicious',
    );
    expect(
      classifyGlobal('torch.nn.modules.linear', 'Linear', 2, new Set(['torch.nn.modules.linear.Linear']))
        .classification,
    ).toBe('allowed');
    expect(classifyGlobal('os', 'system', 2, new Set(['os.system'])).classification).toBe('dangerous');
  });

  it('parses INT/LONG text the way CPython does (base 0)', () => {
    expect(parseIntBase0('0x10')).toBe(16n);
    expect(parseIntBase0('010')).toBe(8n); // strtol octal
    expect(parseIntBase0('0o17')).toBe(15n);
    expect(parseIntBase0('0b101')).toBe(5n);
    expect(parseIntBase0('1_000')).toBe(1000n);
    expect(parseIntBase0('-42')).toBe(-42n);
    expect(parseIntBase0('1__0')).toBeUndefined();
    expect(parseIntBase0('abc')).toBeUndefined();
  });

  it('rejects hostile numeric text', () => {
    expect(run(concat('F', '1'.repeat(200_000), 'x\n.')).error).toBeDefined();
    expect(run(concat('I', '1'.repeat(200_000), '\n.')).error).toBeDefined();
    expect(run(concat('F1.5e10\n.')).error).toBeUndefined();
    expect(run(concat('F.5\n.')).error).toBeUndefined();
    expect(run(concat('F1_0.0_1\n.')).error).toBeUndefined();
    expect(run(concat('F-inf\n.')).error).toBeUndefined();
    expect(run(concat('F1..2\n.')).error).toBeDefined();
  });

  it('handles marks, POP of a mark, DUP, and the memo index of MEMOIZE', () => {
    const b = concat([0x80, 0x04], '(', '0', ']', [0x94], '2', '0', [0x68, 0x00], '.');
    const r = run(b);
    expect(r.error).toBeUndefined();
    expect(r.result?.t).toBe('list');
  });

  it('fails closed on truncation, bad opcodes and stack underflow', () => {
    expect(run(concat([0x80, 0x02], 'X', u32(100), 'ab')).error?.truncated).toBe(true);
    expect(run(Uint8Array.from([0xff])).error).toBeDefined();
    expect(run(Uint8Array.from([0x52, 0x2e])).error?.message).toMatch(/underflow/);
    expect(run(Uint8Array.from([0x80, 0x09, 0x2e])).error?.message).toMatch(/protocol/);
  });
});

describe('known scanner bypasses', () => {
  it('base-0 integer desync: INT 0x10 before the payload does not stop the scan', async () => {
    // pickletools-style scanners parse INT in base 10, choke on "0x10" and stop before os.system.
    const b = concat(
      [0x80, 0x02],
      'I0x10\n',
      '0',
      'I1_0\n',
      '0',
      'cos\nsystem\nX',
      u32(2),
      'id',
      [0x85],
      'R.',
    );
    const r = await scanBuffer(b, 'desync.pkl');
    expect(r.verdict).toBe('dangerous');
    expect(r.findings.map((f) => f.rule)).not.toContain('pickle-malformed');
  });

  it('pickle-then-zip polyglot: a malicious pickle in front of a benign zip', async () => {
    const zip = buildZip([
      { name: 'archive/data.pkl', data: fixture('picklescan/data/benign0_v4.pkl') },
      { name: 'archive/version', data: '3\n' },
    ]);
    const r = await scanBuffer(concat(reducePickle('os', 'system'), zip), 'model.pt');
    expect(r.verdict).toBe('dangerous');
    expect(r.findings.map((f) => f.rule)).toContain('polyglot-zip');
  });

  it('pickle-then-zip polyglot: a benign pickle in front of a malicious zip', async () => {
    const zip = buildZip([{ name: 'archive/data.pkl', data: reducePickle('builtins', 'eval') }]);
    const r = await scanBuffer(concat(fixture('picklescan/data/benign0_v3.pkl'), zip), 'model.pt');
    expect(r.verdict).toBe('dangerous');
    expect(
      r.findings.some((f) => f.detail.includes('builtins.eval') && f.member === 'archive/data.pkl'),
    ).toBe(true);
  });

  it('EXT1/EXT2/EXT4 extension codes are dangerous (copyreg registry imports)', async () => {
    for (const ext of [
      [0x82, 0x01],
      [0x83, 0x01, 0x00],
      [0x84, 0x01, 0x00, 0x00, 0x00],
    ]) {
      const b = concat([0x80, 0x02], ext, 'X', u32(2), 'id', [0x85], 'R.');
      expect(await rules(b)).toContain('pickle-extension-code');
      expect((await scanBuffer(b, 'x.pkl')).verdict).toBe('dangerous');
    }
  });

  it('dotted names through builtins and allowed roots are resolved in full', async () => {
    expect(
      (await scanBuffer(stackGlobalPickle('builtins', 'str.__class__.__base__.__subclasses__'), 'x.pkl'))
        .verdict,
    ).toBe('dangerous');
    expect(
      (await scanBuffer(stackGlobalPickle('torch', '_utils._rebuild_tensor_v2.__globals__'), 'x.pkl'))
        .verdict,
    ).toBe('dangerous');
    expect(
      (await scanBuffer(stackGlobalPickle('numpy', 'testing._private.utils.runstring'), 'x.pkl')).verdict,
    ).toBe('dangerous');
    expect(
      (await scanBuffer(stackGlobalPickle('collections', 'OrderedDict.fromkeys'), 'x.pkl')).verdict,
    ).toBe('suspicious');
    expect((await scanBuffer(stackGlobalPickle('bdb', 'Bdb.run'), 'x.pkl')).verdict).toBe('dangerous');
  });

  it('STACK_GLOBAL over values computed at load time is dangerous', async () => {
    expect(await rules(fixture('picklescan/data/sys_module_override_sploit.pkl'))).toEqual(
      expect.arrayContaining(['pickle-build-on-global', 'pickle-unresolved-import']),
    );
  });

  it('a pickle hidden in a zip member with a non-pickle name is found by content', async () => {
    const zip = buildZip([{ name: 'notes.txt', data: reducePickle('subprocess', 'run'), deflate: true }]);
    expect((await scanBuffer(zip, 'bundle.zip')).verdict).toBe('dangerous');
  });

  it('a protocol-0 pickle in a file with no model extension is still found', async () => {
    expect((await scanBuffer(fixture('picklescan/data/malicious1_v0.pkl'), 'README')).verdict).toBe(
      'dangerous',
    );
  });
});

describe('limits', () => {
  it('rejects when the opcode budget is exhausted', async () => {
    const r = await scanBuffer(fixture('modelaudit/samples/pickles/safe_large_model.pkl'), 'x.pkl', {
      limits: { maxOpcodes: 1000 },
    });
    expect(r.verdict).toBe('rejected');
    expect(r.findings[0]?.rule).toBe('limit-exceeded');
  });

  it('rejects an over-large memo and too-deep archives', async () => {
    const b = concat([0x80, 0x04], ']', ...Array.from({ length: 20 }, () => Uint8Array.from([0x94])), '.');
    expect((await scanBuffer(b, 'x.pkl', { limits: { maxMemoEntries: 10 } })).verdict).toBe('rejected');
    let nested = buildZip([{ name: 'a.pkl', data: fixture('picklescan/data/benign0_v4.pkl') }]);
    for (let i = 0; i < 6; i++) nested = buildZip([{ name: `level${i}.zip`, data: nested }]);
    const r = await scanBuffer(nested, 'deep.zip');
    expect(r.verdict).toBe('rejected');
    expect(r.findings.some((f) => f.rule === 'limit-exceeded')).toBe(true);
  });

  it('rejects when the time budget is gone', async () => {
    const r = await scanBuffer(fixture('modelaudit/samples/pickles/safe_large_model.pkl'), 'x.pkl', {
      limits: { maxMillis: -1 },
    });
    expect(r.verdict).toBe('rejected');
  });
});
