// Loader paths an outside attacker found after the first hardening round (issue 15, round 2): each test
// pins the class, the corpus (scripts/scan-corpus/variants.py) has the variants.
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { chatTemplateFindings } from './chat-template.ts';
import { scanBuffer } from './index.ts';
import type { Value } from './pickle-values.ts';
import { treeStateProblem } from './sklearn-tree.ts';
import { buildGguf, concat, enc, pbBytes, pbVarint } from './testing.test-support.ts';

const rules = async (b: Uint8Array, name: string) => (await scanBuffer(b, name)).findings.map((f) => f.rule);
const verdict = async (b: Uint8Array, name: string) => (await scanBuffer(b, name)).verdict;
/** A short unicode string (SHORT_BINUNICODE). */
const s = (x: string) => concat([0x8c, enc.encode(x).length], x);
/** Protocol-0 payload body: os.system('id'), no STOP. */
const EVIL = "cos\nsystem\n(S'id'\ntR";
const WRAPPER = 'cjoblib.numpy_pickle\nNumpyArrayWrapper\n';
/** numpy.dtype('u1', False, True) */
const U1 = concat('cnumpy\ndtype\n(', s('u1'), [0x89, 0x88], 'tR');

function wrapperState(shape: number, dtype: Uint8Array = U1): Uint8Array {
  return concat(
    '}(',
    s('subclass'),
    'cnumpy\nndarray\n',
    s('shape'),
    'K',
    [shape],
    [0x85],
    s('order'),
    s('C'),
    s('dtype'),
    dtype,
    s('allow_mmap'),
    [0x89],
    s('numpy_array_alignment_bytes'),
    'N',
    'u',
  );
}

describe('pickle: attributes the unpickler calls', () => {
  it('flags BUILD state that stores an object under append, extend or add', async () => {
    for (const [attr, tail] of [
      ['append', concat(s('id'), 'a')],
      ['extend', concat('(', s('id'), 'e')],
      ['add', concat('(', s('id'), [0x90])],
    ] as const) {
      const b = concat(
        [0x80, 0x04],
        'csklearn.preprocessing._data\nStandardScaler\n)',
        [0x81],
        '}',
        s(attr),
        'cnumpy\nmemmap\ns',
        'b',
        tail,
        '.',
      );
      expect(await rules(b, 'm.pkl'), attr).toContain('pickle-build-dunder-state');
    }
  });

  it('leaves plain data under those names alone', async () => {
    const b = concat(
      [0x80, 0x04],
      'csklearn.preprocessing._data\nStandardScaler\n)',
      [0x81],
      '}',
      s('add'),
      [0x88],
      's',
      'b.',
    );
    expect(await verdict(b, 'm.pkl')).toBe('clean');
  });
});

describe('joblib files read by plain pickle.load', () => {
  it('reports opcodes hidden where joblib reads array bytes', async () => {
    const b = concat([0x80, 0x02], WRAPPER, ')', [0x81], wrapperState(EVIL.length), 'b', EVIL, '0N.');
    const r = await scanBuffer(b, 'model.pkl');
    expect(r.verdict).toBe('dangerous');
    expect(r.findings.map((f) => f.detail).join('\n')).toMatch(/plain pickle\.load.*os\.system/);
  });

  it('reads a nested object-array pickle as pickle.load does (no array bytes after a wrapper inside it)', async () => {
    const inner = concat([0x80, 0x02], WRAPPER, ')', [0x81], wrapperState(EVIL.length), 'b', EVIL, '0.');
    const objDtype = concat('cnumpy\ndtype\n(', s('O8'), [0x89, 0x88], 'tR');
    const b = concat([0x80, 0x02], WRAPPER, ')', [0x81], wrapperState(1, objDtype), 'b', inner, '0N.');
    expect(await verdict(b, 'model.joblib')).toBe('dangerous');
  });

  it('keeps real array bytes quiet', async () => {
    const data = Uint8Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff);
    const b = concat([0x80, 0x02], WRAPPER, ')', [0x81], wrapperState(64), 'b', data, '0N.');
    expect(await verdict(b, 'model.joblib')).toBe('clean');
  });

  it("scans joblib's legacy ZF container (ZF, hex length, zlib stream)", async () => {
    const payload = concat([0x80, 0x02], EVIL, '.');
    const zf = concat('ZF', `0x${payload.length.toString(16)}`.padEnd(19), deflateSync(payload));
    expect(await verdict(zf, 'model.joblib')).toBe('dangerous');
    expect(await verdict(zf, 'model.pkl')).toBe('dangerous');
  });
});

describe('raw data named .bin', () => {
  it('is data when pickle.load fails on it before importing anything', async () => {
    const floats = new Uint8Array(new Float32Array([0, 0.5, -1, 2, 3.25, -0.125]).buffer);
    expect(await verdict(floats, 'weights.bin')).toBe('clean');
    // 0x82 (EXT1) then garbage: no process registers extension codes, so this is not a pickle either
    expect(await verdict(concat([0x82, 0x89, 0xb7, 0x01], new Uint8Array(60)), 'w.bin')).toBe('clean');
  });

  it('is refused when it starts as a pickle that fails at an import', async () => {
    expect(await verdict(concat('cmod\n', [0xf8], '\n'), 'x.bin')).toBe('rejected');
  });
});

describe('ONNX external data in training_info', () => {
  it('walks the initialization graph of TrainingInfoProto', async () => {
    const entry = concat(pbBytes(1, 'location'), pbBytes(2, '../../etc/passwd'));
    const tensor = concat(
      pbVarint(1, 4),
      pbVarint(2, 1),
      pbBytes(8, 'w'),
      pbBytes(13, entry),
      pbVarint(14, 1),
    );
    const init = concat(pbBytes(2, 'init'), pbBytes(5, tensor));
    const model = concat(pbVarint(1, 8), pbBytes(20, pbBytes(1, init)), pbBytes(8, pbVarint(2, 17)));
    expect(await rules(model, 'm.onnx')).toContain('onnx-external-data-traversal');
  });
});

describe('TensorFlow ops that touch files', () => {
  const node = (op: string, attrs: Uint8Array = new Uint8Array(0)) =>
    pbBytes(1, concat(pbBytes(1, 'n'), pbBytes(2, op), attrs));
  const streamAttr = (v: string) =>
    pbBytes(5, concat(pbBytes(1, 'output_stream'), pbBytes(2, pbBytes(2, v))));

  it('flags summary writers and tf.data file sinks, not the saver', async () => {
    expect(await rules(node('DatasetToTFRecord'), 'frozen.pb')).toContain('tf-file-op');
    expect(await rules(node('CreateSummaryFileWriter'), 'frozen.pb')).toContain('tf-file-op');
    expect(await verdict(concat(node('SaveV2'), node('MergeV2Checkpoints')), 'frozen.pb')).toBe('clean');
  });

  it('flags PrintV2 only when it prints to a file', async () => {
    expect(await rules(node('PrintV2', streamAttr('file:///tmp/x')), 'frozen.pb')).toContain('tf-file-op');
    expect(await verdict(node('PrintV2', streamAttr('stderr')), 'frozen.pb')).toBe('clean');
  });
});

describe('chat templates: round-2 spellings', () => {
  const bad = (t: string) => chatTemplateFindings(t, 'tpl').some((f) => f.severity === 'dangerous');
  it.each([
    ["{% macro m(n) %}{{ ()[n] }}{% endmacro %}{{ m('__class__') }}"],
    ["{% set d = {'k': '__class__'} %}{{ ()[d.k] }}"],
    ['{{ ()[dict(__class__=1)|list|first] }}'],
    ["{% set ns = namespace(a='__cla' ~ 'ss__') %}{{ ()[ns.a] }}"],
    ["{{ [()]|map(attribute='__cla' ~ 'ss__')|list }}"],
    ["{{ messages|selectattr('__class__')|list }}"],
    ["{{ ()|attr(('_' * 2) ~ 'class' ~ ('_' * 2)) }}"],
  ])('flags %s', (t) => {
    expect(bad(t)).toBe(true);
  });

  it('reports templates that load other templates by name', async () => {
    const r = await scanBuffer(
      buildGguf({ kv: { 'tokenizer.chat_template': "{% include '/etc/passwd' %}" } }),
      'm.gguf',
    );
    expect(r.findings.map((f) => f.rule)).toContain('chat-template-load');
    expect(r.verdict).toBe('suspicious');
  });

  it('keeps ordinary templates with empty calls clean', () => {
    expect(
      bad("{% for m in messages %}{{ m['content'].strip() }}{{ loop.cycle('a', 'b') }}{% endfor %}"),
    ).toBe(false);
  });
});

describe('standard-library values in model metadata', () => {
  it('rebuilds datetime, Decimal, UUID and deque as data', async () => {
    // pickle.dumps({'at': datetime(2024,1,2,3,4,5,tzinfo=utc), 'v': Decimal('1.5'), 'id': UUID(int=5),
    //               'q': deque([1])}, protocol=2)
    const b = Uint8Array.from(
      Buffer.from(
        '80027d710028580200000061747101636461746574696d650a6461746574696d650a7102635f636f646563730a656e636f64650a7103580b00000007c3a80102030405000000710458060000006c6174696e317105867106527107636461746574696d650a74696d657a6f6e650a7108636461746574696d650a74696d6564656c74610a71094b004b004b0087710a52710b85710c52710d86710e52710f580100000076711063646563696d616c0a446563696d616c0a71115803000000312e35711285711352711458020000006964711563757569640a555549440a7116298171177d71185803000000696e7471194b057362580100000071711a63636f6c6c656374696f6e730a64657175650a711b2952711c4b0161752e',
        'hex',
      ),
    );
    expect(await scanBuffer(b, 'meta.pkl')).toMatchObject({ verdict: 'clean' });
  });
});

describe('ONNX custom operators', () => {
  const model = (nodes: Uint8Array[], functions: Uint8Array[] = []) =>
    concat(
      pbVarint(1, 8),
      pbBytes(7, concat(...nodes.map((n) => pbBytes(1, n)), pbBytes(2, 'g'))),
      pbBytes(8, pbVarint(2, 17)),
      ...functions.map((f) => pbBytes(25, f)),
    );
  const node = (op: string, domain = '') =>
    concat(pbBytes(1, 'x'), pbBytes(2, 'y'), pbBytes(4, op), ...(domain ? [pbBytes(7, domain)] : []));

  it('flags Python ops and operators of unknown domains, not the standard ones or model functions', async () => {
    expect(await rules(model([node('PyOp', 'ai.onnx.contrib')]), 'm.onnx')).toContain('onnx-python-op');
    expect(await rules(model([node('RunShell', 'com.attacker')]), 'm.onnx')).toContain('onnx-custom-op');
    expect(
      await verdict(
        model([node('Relu'), node('TreeEnsembleClassifier', 'ai.onnx.ml'), node('Gelu', 'com.microsoft')]),
        'm.onnx',
      ),
    ).toBe('clean');
    const fn = concat(pbBytes(1, 'Block'), pbBytes(10, 'pkg.local'));
    expect(await verdict(model([node('Block', 'pkg.local')], [fn]), 'm.onnx')).toBe('clean');
  });
});

describe('TensorFlow text format', () => {
  it('reads PrintV2 output_stream from attr entries', async () => {
    const graph = (stream: string) =>
      enc.encode(
        `node {\n  name: "p"\n  op: "PrintV2"\n  attr {\n    key: "output_stream"\n    value {\n      s: "${stream}"\n    }\n  }\n}\n`,
      );
    expect(await rules(graph('file:///root/.bashrc'), 'graph.pbtxt')).toContain('tf-file-op');
    expect(await verdict(graph('stderr'), 'graph.pbtxt')).toBe('clean');
  });
});

describe('scikit-learn Tree node arrays', () => {
  const nodes = (children: [number, number][]) => {
    const b = new Uint8Array(children.length * 64);
    const dv = new DataView(b.buffer);
    children.forEach(([l, r], i) => {
      dv.setBigInt64(i * 64, BigInt(l), true);
      dv.setBigInt64(i * 64 + 8, BigInt(r), true);
    });
    return b;
  };
  const state = (children: [number, number][], count = children.length): Value => ({
    t: 'dict',
    entries: [
      [
        { t: 'str', v: 'node_count' },
        { t: 'int', v: BigInt(count) },
      ],
      [
        { t: 'str', v: 'nodes' },
        { t: 'obj', cls: undefined, array: { rows: children.length, itemsize: 64, bytes: nodes(children) } },
      ],
    ],
  });

  it('accepts children inside the tree and leaves', () => {
    expect(
      treeStateProblem(
        state([
          [1, 2],
          [-1, -1],
          [-1, -1],
        ]),
      ),
    ).toBeUndefined();
  });

  it('refuses children outside the tree, self loops and a node_count past the array', () => {
    expect(
      treeStateProblem(
        state([
          [1, 9],
          [-1, -1],
          [-1, -1],
        ]),
      ),
    ).toMatch(/child 9/);
    expect(
      treeStateProblem(
        state([
          [0, 1],
          [-1, -1],
        ]),
      ),
    ).toMatch(/child 0/);
    expect(treeStateProblem(state([[-1, -1]], 5))).toMatch(/node_count 5/);
    expect(
      treeStateProblem({
        t: 'dict',
        entries: [
          [
            { t: 'str', v: 'nodes' },
            { t: 'obj', cls: undefined },
          ],
        ],
      }),
    ).toMatch(/not one modelgate can read/);
  });
});
