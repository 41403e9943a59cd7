// Leftovers and loader paths of the third adversarial round: scipy.stats distributions (their
// __setstate__ exec()s a template from the pickle, and a bound method pickles through getattr), pathlib
// values, HistGradientBoosting predictor nodes. Each hostile variant is refused with a reason; the real
// files are in the corpus (scripts/scan-corpus/variants3.py).
import { describe, expect, it } from 'vitest';
import { argParserProblem } from './allowlist-scipy.ts';
import { decodeFlexOptions } from './tflite.ts';
import { scanBuffer } from './index.ts';
import { concat, enc } from './testing.test-support.ts';

/** A short unicode string (SHORT_BINUNICODE). */
const s = (x: string) => concat([0x8c, enc.encode(x).length], x);
/** A unicode string of any length (BINUNICODE). */
const u = (x: string) => {
  const b = enc.encode(x);
  return concat([0x58, b.length & 0xff, (b.length >> 8) & 0xff, 0, 0], b);
};
const scan = async (b: Uint8Array, name = 'model.pkl') => await scanBuffer(b, name);

/** scipy's parse_arg_template for randint (shapes low, high; rv_discrete's loc only). */
const RANDINT_PARSER = `
def _parse_args(self, low, high,  loc=0):
    return (low, high, ), loc, 1

def _parse_args_rvs(self, low, high,  loc=0, size=None):
    return self._argcheck_rvs(low, high,  loc, 1, size=size)

def _parse_args_stats(self, low, high,  loc=0, moments='mv'):
    return (low, high, ), loc, 1, moments
`;

const DIST = 'cscipy.stats._discrete_distns\nrandint_gen\n';

/**
 * randint_gen() memoised as 0, then BUILD of its state: the parser template, the name, __doc__, and
 * `vecentropy = numpy.vectorize` whose pyfunc is `pyfunc` (bytes that push a value; default
 * getattr(memo 0, '_entropy')), as scipy pickles a discrete distribution.
 */
function distribution(opts: {
  template?: string;
  extra?: Uint8Array;
  pyfunc?: Uint8Array;
  state?: (dict: Uint8Array) => Uint8Array;
}): Uint8Array {
  const pyfunc = opts.pyfunc ?? concat('c__builtin__\ngetattr\n', 'h', [0], s('_entropy'), [0x86], 'R');
  const vectorize = concat(
    'cnumpy\nvectorize\n)',
    [0x81],
    '}(',
    s('pyfunc'),
    pyfunc,
    s('otypes'),
    'N',
    s('__name__'),
    s('_entropy'),
    s('__doc__'),
    'N',
    'ub',
  );
  const dict = concat(
    '}(',
    s('_parse_arg_template'),
    u(opts.template ?? RANDINT_PARSER),
    s('name'),
    s('randint'),
    s('__doc__'),
    u('A uniform discrete random variable.'),
    s('vecentropy'),
    vectorize,
    opts.extra ?? new Uint8Array(0),
    'u',
  );
  return concat([0x80, 2], DIST, ')', [0x81], 'q', [0], (opts.state ?? ((d) => d))(dict), 'b.');
}

describe('scipy.stats distributions (RandomizedSearchCV param_distributions)', () => {
  it('admits a distribution with scipy’s own argument parser and vecentropy = vectorize(getattr(dist, "_entropy"))', async () => {
    const r = await scan(distribution({}));
    expect(r.findings).toEqual([]);
    expect(r.verdict).toBe('clean');
  });

  it('refuses a parser template that is not scipy’s (its __setstate__ exec()s it)', async () => {
    const evil = RANDINT_PARSER + "__import__('os').system('id')\n";
    const r = await scan(distribution({ template: evil }));
    expect(r.verdict).toBe('dangerous');
    expect(r.findings.map((f) => f.detail).join('\n')).toMatch(/_parse_arg_template .*exec/);
    for (const t of [
      RANDINT_PARSER.replace('loc=0)', 'loc=__import__("os").system("id"))'),
      RANDINT_PARSER.replace('low, high,  loc', 'low=print(1), high,  loc'),
      '',
    ])
      expect(argParserProblem(t)).toBeDefined();
    expect(argParserProblem(RANDINT_PARSER)).toBeUndefined();
  });

  it('refuses a missing template, a tuple state and a state that shadows the vectorized methods', async () => {
    const noTemplate = concat([0x80, 2], DIST, ')', [0x81], '}(', s('name'), s('randint'), 'ub.');
    expect((await scan(noTemplate)).verdict).toBe('dangerous');
    // __dict__.update((d1, d2)) iterates each two-key dict as a (name, value) pair
    const tuple = distribution({ state: (d) => concat(d, '}', [0x86]) });
    expect((await scan(tuple)).verdict).toBe('dangerous');
    const shadow = distribution({ extra: concat(s('_entropy'), 'cnumpy\nlog\n') });
    expect((await scan(shadow)).verdict).toBe('dangerous');
  });

  it('admits getattr only on a distribution instance, only for a vectorized method, only as that call', async () => {
    const variants: Record<string, Uint8Array> = {
      'another attribute': concat('c__builtin__\ngetattr\n', 'h', [0], s('__class__'), [0x86], 'R'),
      'a private attribute': concat('c__builtin__\ngetattr\n', 'h', [0], s('_parse_args'), [0x86], 'R'),
      'on a class, not an instance': concat('c__builtin__\ngetattr\n', DIST, s('_entropy'), [0x86], 'R'),
      'on another object': concat(
        'c__builtin__\ngetattr\n',
        'ccollections\nOrderedDict\n)R',
        s('_entropy'),
        [0x86],
        'R',
      ),
      nested: concat(
        'c__builtin__\ngetattr\n',
        'c__builtin__\ngetattr\n',
        'h',
        [0],
        s('_entropy'),
        [0x86],
        'R',
        s('__globals__'),
        [0x86],
        'R',
      ),
      'getattr itself as pyfunc': concat('c__builtin__\ngetattr\n'),
      'three arguments': concat('c__builtin__\ngetattr\n', '(h', [0], s('_entropy'), 'Nt', 'R'),
      'the bound method called at load': concat(
        'c__builtin__\ngetattr\n',
        'h',
        [0],
        s('_entropy'),
        [0x86],
        'R',
        ')R',
      ),
    };
    for (const [what, pyfunc] of Object.entries(variants)) {
      const r = await scan(distribution({ pyfunc }));
      expect(r.verdict, what).toBe('dangerous');
    }
  });

  it('refuses getattr kept as a value, memoised for later, or called with STACK_GLOBAL-computed names', async () => {
    const asValue = concat([0x80, 2], ']', 'cbuiltins\ngetattr\n', 'a.');
    expect((await scan(asValue)).verdict).toBe('dangerous');
    const memoised = concat(
      [0x80, 4],
      s('builtins'),
      s('getattr'),
      [0x93, 0x94],
      '0',
      DIST,
      ')',
      [0x81, 0x94],
      '0',
      'h',
      [0],
      'h',
      [1],
      s('_entropy'),
      [0x86],
      'R',
      '0',
      'h',
      [0],
      '.',
    );
    expect((await scan(memoised)).verdict).toBe('dangerous');
    const osGetattr = concat([0x80, 2], 'cbuiltins\ngetattr\n', 'cos\n_exit\n', s('__call__'), [0x86], 'R.');
    expect((await scan(osGetattr)).verdict).toBe('dangerous');
  });

  it('keeps Python internals in BUILD state dangerous; only str/None __doc__/__name__ are inert', async () => {
    const asObject = concat(
      [0x80, 2],
      'csklearn.linear_model._logistic\nLogisticRegression\n)',
      [0x81],
      '}(',
      s('__doc__'),
      'ccollections\nOrderedDict\n)R',
      'ub.',
    );
    expect((await scan(asObject)).verdict).toBe('dangerous');
    const setstate = concat(
      [0x80, 2],
      'csklearn.linear_model._logistic\nLogisticRegression\n)',
      [0x81],
      '}(',
      s('__setstate__'),
      'N',
      'ub.',
    );
    expect((await scan(setstate)).verdict).toBe('dangerous');
  });
});

describe('pathlib values', () => {
  it('admits a path class called with its str parts (protocols 0 and 2, pathlib and pathlib._local)', async () => {
    for (const p of [
      concat([0x80, 2], 'cpathlib\nPosixPath\n(', s('data'), s('train.csv'), 'tR.'),
      concat('cpathlib\nPurePosixPath\n(Vdata\nVx\ntR.'),
      concat([0x80, 4], s('pathlib._local'), s('PureWindowsPath'), [0x93], '(', s('c:\\'), s('x'), 'tR.'),
    ])
      expect((await scan(p)).verdict).toBe('clean');
  });

  it('refuses other arguments and every pathlib function or method', async () => {
    const objectArg = concat([0x80, 2], 'cpathlib\nPosixPath\n(', 'ccollections\nOrderedDict\n)R', 'tR.');
    expect((await scan(objectArg)).verdict).not.toBe('clean');
    const method = concat([0x80, 2], 'cpathlib\nPath.write_text\n(', s('x'), s('y'), 'tR.');
    expect((await scan(method)).verdict).toBe('dangerous');
    const readText = concat([0x80, 4], s('pathlib'), s('Path.read_text'), [0x93], '.');
    expect((await scan(readText)).verdict).toBe('dangerous');
  });
});

/** A TFLite FlatBuffer written forward: the model's operator codes and buffers (what the scanner reads). */
function tflite(
  codes: { builtin?: number; deprecated?: number; custom?: string }[],
  buffers: { offset?: number; size?: number; data?: number }[] = [],
): Uint8Array {
  const out: number[] = [];
  const u32 = (at: number, v: number) => {
    for (let i = 0; i < 4; i++) out[at + i] = (v >>> (8 * i)) & 0xff;
  };
  const u16 = (at: number, v: number) => {
    out[at] = v & 0xff;
    out[at + 1] = v >> 8;
  };
  const alloc = (n: number) => {
    while (out.length % 4 !== 0) out.push(0);
    const at = out.length;
    for (let i = 0; i < n; i++) out.push(0);
    return at;
  };
  /** vtable + table with `slots` (field -> byte offset in the table), returns the table position. */
  const table = (slots: number[], size: number) => {
    const vt = alloc(4 + 2 * slots.length);
    u16(vt, 4 + 2 * slots.length);
    u16(vt + 2, size);
    slots.forEach((s, i) => u16(vt + 4 + 2 * i, s));
    const t = alloc(size);
    u32(t, t - vt);
    return t;
  };
  const ref = (from: number, to: number) => u32(from, to - from);
  alloc(8);
  out.splice(4, 4, 0x54, 0x46, 0x4c, 0x33);
  const model = table([4, 8, 0, 0, 12], 16);
  u32(0, model);
  u32(model + 4, 3);
  const vec = (n: number) => {
    const v = alloc(4 + 4 * n);
    u32(v, n);
    return v;
  };
  const cv = vec(codes.length);
  ref(model + 8, cv);
  codes.forEach((c, i) => {
    const t = table([4, c.custom === undefined ? 0 : 8, 0, 12], 16);
    out[t + 4] = (c.deprecated ?? Math.min(c.builtin ?? 0, 127)) & 0xff;
    u32(t + 12, c.builtin ?? 0);
    ref(cv + 4 + 4 * i, t);
    if (c.custom !== undefined) {
      const b = enc.encode(c.custom);
      const sAt = alloc(4 + b.length + 1);
      u32(sAt, b.length);
      b.forEach((x, j) => (out[sAt + 4 + j] = x));
      ref(t + 8, sAt);
    }
  });
  const bv = vec(buffers.length);
  ref(model + 12, bv);
  buffers.forEach((b, i) => {
    const t = table([b.data === undefined ? 0 : 4, 8, 12], 20);
    if (b.data !== undefined) {
      const d = alloc(4);
      u32(d, b.data);
      ref(t + 4, d);
    }
    u32(t + 8, b.offset ?? 0);
    u32(t + 12, b.size ?? 0);
    ref(bv + 4 + 4 * i, t);
  });
  return Uint8Array.from(out);
}

describe('TFLite models', () => {
  it('passes builtin operators and the custom kernels TFLite’s own resolver registers', async () => {
    const r = await scan(
      tflite(
        [{ builtin: 3 }, { builtin: 150 }, { builtin: 32, custom: 'TFLite_Detection_PostProcess' }],
        [{}],
      ),
      'model.tflite',
    );
    expect(r.format).toBe('tflite');
    expect(r.verdict).toBe('clean');
    // A policy can name the format, alone or as part of the tensorflow group.
    for (const deny of [['tflite'], ['tensorflow']]) {
      const denied = await scanBuffer(tflite([{ builtin: 3 }], [{}]), 'model.tflite', { denyFormats: deny });
      expect(denied.verdict, deny.join()).not.toBe('clean');
    }
  });

  it('flags custom operators and Flex file ops; a Flex Python op is dangerous', async () => {
    const custom = await scan(tflite([{ builtin: 32, custom: 'MyNativeKernel' }]), 'model.tflite');
    expect(custom.verdict).toBe('suspicious');
    expect(custom.findings[0]?.rule).toBe('tflite-custom-op');
    // a Flex code no operator uses runs nothing: judged by its name only (the corpus has real Flex
    // models whose NodeDefs are decoded: scripts/scan-corpus/tf_models.py)
    const flex = await scan(tflite([{ builtin: 32, custom: 'FlexAddV2' }]), 'model.tflite');
    expect(flex.verdict).toBe('clean');
    const file = await scan(tflite([{ builtin: 32, custom: 'FlexWriteFile' }]), 'model.tflite');
    expect(file.findings.map((f) => f.rule)).toEqual(['tflite-flex-op']);
    const py = await scan(tflite([{ builtin: 32, custom: 'FlexEagerPyFunc' }]), 'm.bin');
    expect(py.verdict).toBe('dangerous');
    // CUSTOM spelled through the deprecated byte, and through builtin_code with the placeholder byte
    const dep = await scan(tflite([{ deprecated: 32, builtin: 0, custom: 'X' }]), 'model.tflite');
    expect(dep.verdict).toBe('suspicious');
    const placeholder = await scan(tflite([{ deprecated: 127, builtin: 32, custom: 'X' }]), 'model.tflite');
    expect(placeholder.verdict).toBe('suspicious');
  });

  it('refuses offsets outside the file and truncated FlatBuffers', async () => {
    const oob = await scan(tflite([{ builtin: 3 }], [{ offset: 1 << 30, size: 16 }]), 'model.tflite');
    expect(oob.verdict).toBe('rejected');
    const good = tflite([{ builtin: 32, custom: 'FlexWriteFile' }]);
    for (let cut = 8; cut < good.length; cut += 7) {
      const r = await scan(good.subarray(0, cut), 'model.tflite');
      expect(r.verdict, `cut at ${cut}`).not.toBe('clean');
    }
    const huge = tflite([{ builtin: 3 }]);
    new DataView(huge.buffer).setUint32(0, 0xfffffff0, true);
    expect((await scan(huge, 'model.tflite')).verdict).toBe('rejected');
  });
});

describe('attribute bags in checkpoints', () => {
  it('admits argparse.Namespace and types.SimpleNamespace holding data, nothing else of types', async () => {
    const ns = concat(
      [0x80, 2],
      '}(',
      s('args'),
      'cargparse\nNamespace\n)',
      [0x81],
      '}(',
      s('lr'),
      'G',
      [0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a],
      'ub',
      s('cfg'),
      'ctypes\nSimpleNamespace\n)R}(',
      s('a'),
      'K',
      [1],
      'ub',
      'u.',
    );
    expect((await scan(ns)).verdict).toBe('clean');
    const withCode = concat([0x80, 2], 'ctypes\nSimpleNamespace\n)R}(', s('f'), 'cos\nsystem\n', 'ub.');
    expect((await scan(withCode)).verdict).toBe('dangerous');
    const fn = concat([0x80, 2], 'ctypes\nFunctionType\n', '(NNtR.');
    expect((await scan(fn)).verdict).toBe('dangerous');
    const called = concat([0x80, 2], 'ctypes\nSimpleNamespace\n(', s('x'), 'tR.');
    expect((await scan(called)).verdict).not.toBe('clean');
  });
});

describe('TFLite Flex options (FlexBuffer [op name, NodeDef])', () => {
  /** The layout the converter writes: strings, then an untyped vector of two, then the root (widths 4). */
  function flexbuffer(name: string, nodeDef: Uint8Array, width = 4): Uint8Array {
    const out: number[] = [];
    const int = (v: number, w: number) => {
      for (let i = 0; i < w; i++) out.push((v >>> (8 * i)) & 0xff);
    };
    const pad = () => {
      while (out.length % width) out.push(0);
    };
    const str = (b: Uint8Array) => {
      int(b.length, width);
      const at = out.length;
      out.push(...b, 0);
      pad();
      return at;
    };
    const s0 = str(enc.encode(name));
    const s1 = str(nodeDef);
    int(2, width);
    const vec = out.length;
    int(vec - s0, width);
    int(vec + width - s1, width);
    const w = Math.log2(width);
    out.push((5 << 2) | w, (5 << 2) | w);
    pad();
    const root = out.length;
    int(root - vec, width);
    out.push((10 << 2) | w, width);
    return Uint8Array.from(out);
  }
  const nodeDef = concat([0x0a, 1], 'n', [0x12, 11], 'EagerPyFunc');

  it('decodes the op name and the NodeDef bytes', () => {
    for (const width of [1, 4]) {
      const d = decodeFlexOptions(flexbuffer('MatrixInverse', nodeDef, width));
      expect(typeof d === 'string' ? d : d.name).toBe('MatrixInverse');
      expect(typeof d === 'string' ? d : Array.from(d.nodeDef)).toEqual(Array.from(nodeDef));
    }
  });

  it('says why for anything else, never reading outside the options', () => {
    const good = flexbuffer('MatrixInverse', nodeDef);
    for (let cut = 0; cut < good.length; cut++)
      expect(typeof decodeFlexOptions(good.subarray(good.length - cut)), `last ${cut} bytes`).toBe('string');
    const corrupt = Uint8Array.from(good);
    corrupt[corrupt.length - 3] = 0xff; // root offset
    expect(typeof decodeFlexOptions(corrupt)).toBe('string');
  });
});

describe('HistGradientBoosting TreePredictor state', () => {
  const predictor = 'csklearn.ensemble._hist_gradient_boosting.predictor\nTreePredictor\n)';
  it('refuses a (dict, slots) state, which would set nodes past the node check', async () => {
    const slots = concat([0x80, 2], predictor, [0x81], 'N}(', s('nodes'), 'N', 'u', [0x86], 'b.');
    expect((await scan(slots)).verdict).toBe('suspicious');
  });
  it('refuses node arrays it cannot read (the real files are in the corpus, sklearn-tree3/)', async () => {
    const unreadable = concat([0x80, 2], predictor, [0x81], '}(', s('nodes'), 'N', 'ub.');
    expect((await scan(unreadable)).findings.map((f) => f.detail).join()).toMatch(/node array/);
  });
});

describe('TFLite detection next to weak magics', () => {
  /** The same model with its root table moved to `root` (the root offset's bytes read as other magics). */
  function rootAt(root: number): Uint8Array {
    const m = tflite([{ builtin: 3 }, { builtin: 32, custom: 'TFLite_Detection_PostProcess' }], [{}]);
    const old = new DataView(m.buffer).getUint32(0, true);
    const out = new Uint8Array(m.length + (root - old));
    out.set(m.subarray(0, 8));
    out.set(m.subarray(8), 8 + (root - old));
    new DataView(out.buffer).setUint32(0, root, true);
    return out;
  }
  it('reads a root offset of 128 (PROTO) and 376 (a zlib header) as TFLite', async () => {
    for (const root of [128, 376]) {
      const r = await scan(rootAt(root), 'model.tflite');
      expect(r.format, `root ${root}`).toBe('tflite');
      expect(r.verdict, `root ${root}`).toBe('clean');
    }
  });
  it('still runs a pickle that carries the identifier at bytes 4-7', async () => {
    const polyglot = concat([0x80, 2], 'U', [4], 'TFL3', '0', "cos\nsystem\n(S'id'\ntR.");
    const r = await scan(polyglot, 'model.tflite');
    expect(r.verdict).toBe('dangerous');
  });
});
