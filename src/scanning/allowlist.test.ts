import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { allowEntry, allowlistTable } from './allowlist.ts';
import { lightgbmModelProblem, xgboostBufferProblem } from './boosters.ts';
import { classifyGlobal } from './globals.ts';
import { scanBuffer } from './index.ts';
import { concat, enc, u32 } from './testing.test-support.ts';

const corpus = (p: string): Uint8Array =>
  readFileSync(fileURLToPath(new URL(`../../test/fixtures/model-scanning/corpus/${p}`, import.meta.url)));
const G = (m: string, n: string) => `c${m}\n${n}\n`;
const S = (s: string) => concat([0x8c, enc.encode(s).length], s);
const rules = async (b: Uint8Array) => (await scanBuffer(b, 'x.pkl')).findings.map((f) => f.rule);

describe('the allowlist decides first', () => {
  it('allows the data-only classes of the common ML stacks, across module paths', () => {
    for (const n of [
      'sklearn.linear_model._logistic.LogisticRegression',
      'sklearn.linear_model.logistic.LogisticRegression',
      'sklearn.tree._tree.Tree',
      'sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor',
      'numpy.core.multiarray._reconstruct',
      'numpy._core.multiarray._reconstruct',
      'scipy.sparse._csr.csr_matrix',
      'torch._utils._rebuild_tensor_v2',
      'numpy.random._pickle.__randomstate_ctor',
    ])
      expect(allowEntry(n), n).toBeDefined();
    expect(classifyGlobal('sklearn.linear_model._logistic', 'os', 4, new Set()).classification).toBe(
      'suspicious',
    );
  });

  it('flags every unknown global, and denylisted ones as dangerous', () => {
    for (const [m, n] of [
      ['codeop', 'compile_command'],
      ['compileall', 'compile_dir'],
      ['py_compile', 'compile'],
      ['ensurepip', '_run_pip'],
      ['pkgutil', 'resolve_name'],
    ] as const)
      expect(classifyGlobal(m, n, 2, new Set()).classification, `${m}.${n}`).toBe('dangerous');
    expect(classifyGlobal('mycompany.transformers', 'Clip', 2, new Set()).classification).toBe('suspicious');
    // one reviewed function inside a denied module; its neighbours stay denied
    expect(
      classifyGlobal('numpy._core._internal', '_convert_to_stringdtype_kwargs', 4, new Set()).classification,
    ).toBe('allowed');
    expect(classifyGlobal('numpy._core._internal', '_ctypes', 4, new Set()).classification).toBe('dangerous');
    expect(
      classifyGlobal('numpy._core', '_internal._convert_to_stringdtype_kwargs.__globals__', 4, new Set())
        .classification,
    ).toBe('dangerous');
    expect(
      classifyGlobal('mycompany.transformers', 'Clip', 2, new Set(['mycompany.transformers.Clip']))
        .classification,
    ).toBe('allowed');
  });

  it('lists every entry with its shapes (docs/scanning.md is generated from this)', () => {
    const table = allowlistTable();
    expect(table.length).toBeGreaterThan(500);
    expect(table.find((e) => e.name === 'sklearn.tree._tree.Tree')?.shapes).toEqual([
      'value',
      'newobj',
      'reduce',
      'build',
    ]);
    expect(table.find((e) => e.name === 'sklearn.pipeline.Pipeline')?.shapes).toEqual([
      'value',
      'newobj',
      'build',
    ]);
  });
});

describe('opcode shapes of allowlisted names', () => {
  it('refuses a scikit-learn class called by REDUCE with arguments', async () => {
    const b = concat([0x80, 0x02], G('sklearn.pipeline', 'Pipeline'), '(]t', 'R.');
    expect(await rules(b)).toContain('pickle-disallowed-shape');
  });
  it('accepts the NEWOBJ + BUILD shape sklearn writes', async () => {
    const b = concat(
      [0x80, 0x02],
      G('sklearn.pipeline', 'Pipeline'),
      ')',
      [0x81],
      '}',
      S('steps'),
      ']',
      's',
      'b.',
    );
    expect((await scanBuffer(b, 'x.pkl')).verdict).toBe('clean');
  });
  it('refuses numpy reconstruction of a non-ndarray class', async () => {
    const b = concat(
      [0x80, 0x02],
      G('numpy.core.multiarray', '_reconstruct'),
      G('collections', 'OrderedDict'),
      '(K',
      [0],
      't',
      S('b'),
      [0x87],
      'R.',
    );
    expect(await rules(b)).toContain('pickle-disallowed-shape');
  });
  it('refuses a defaultdict whose factory is not a container type', async () => {
    const b = concat([0x80, 0x02], G('collections', 'defaultdict'), G('numpy', 'mean'), [0x85], 'R.');
    expect(await rules(b)).toContain('pickle-disallowed-shape');
  });
  it('treats __setstate__ in BUILD state as dangerous (fickling evasion)', async () => {
    const b = concat(
      [0x80, 0x02],
      G('collections', 'OrderedDict'),
      ')R',
      '}',
      S('__setstate__'),
      G('collections', 'OrderedDict'),
      'sb',
      S('x'),
      'b.',
    );
    const r = await scanBuffer(b, 'x.pkl');
    expect(r.verdict).toBe('dangerous');
    expect(r.findings.map((f) => f.rule)).toContain('pickle-build-dunder-state');
  });
  it('sees a call whose result is popped (OBJ then POP)', async () => {
    const b = concat('(', G('os', 'system'), "S'id'\n", 'o0N.');
    expect((await scanBuffer(b, 'x.pkl')).verdict).toBe('dangerous');
  });
  it('follows pkgutil.resolve_name("os:system")(...)', async () => {
    const b = concat(
      [0x80, 0x02],
      G('pkgutil', 'resolve_name'),
      S('os:system'),
      [0x85],
      'R',
      S('id'),
      [0x85],
      'R.',
    );
    const r = await rules(b);
    expect(r).toEqual(expect.arrayContaining(['pickle-dangerous-import', 'pickle-indirect-call']));
  });
  it('allows configured globals in data-only shapes', async () => {
    const b = concat([0x80, 0x02], G('mycompany.transformers', 'Clip'), ')', [0x81], '}b.');
    expect((await scanBuffer(b, 'x.pkl')).verdict).toBe('suspicious');
    expect((await scanBuffer(b, 'x.pkl', { allowGlobals: ['mycompany.transformers.Clip'] })).verdict).toBe(
      'clean',
    );
  });
});

describe('boosters are judged on the model their native parser reads', () => {
  it('accepts the models xgboost and LightGBM write', async () => {
    expect((await scanBuffer(corpus('benign/boosters/xgboost_classifier.joblib'), 'x.joblib')).verdict).toBe(
      'clean',
    );
    expect((await scanBuffer(corpus('benign/boosters/lightgbm_classifier.joblib'), 'x.joblib')).verdict).toBe(
      'clean',
    );
  });
  it('refuses a LightGBM tree with an out-of-range child', async () => {
    expect(
      (await scanBuffer(corpus('malicious/boosters/lightgbm-bad-tree.joblib'), 'x.joblib')).verdict,
    ).not.toBe('clean');
    const model =
      'tree\nversion=v4\nmax_feature_idx=1\n\nTree=0\nnum_leaves=2\nnum_cat=0\nsplit_feature=0\nthreshold=1\ndecision_type=2\nleft_child=-1\nright_child=-2\nleaf_value=0.1 0.2\n\nend of trees\n';
    expect(lightgbmModelProblem(model)).toBeUndefined();
    expect(lightgbmModelProblem(model.replace('left_child=-1', 'left_child=7'))).toMatch(/left_child/);
    expect(lightgbmModelProblem(model.replace('split_feature=0', 'split_feature=9'))).toMatch(
      /split_feature/,
    );
    expect(lightgbmModelProblem(model.replace('leaf_value=0.1 0.2', 'leaf_value=0.1'))).toMatch(/leaf_value/);
  });
  it('refuses an xgboost buffer that is not a well-formed UBJSON model', () => {
    expect(xgboostBufferProblem(enc.encode('binf\0\0\0\0'))).toMatch(/neither/);
    expect(xgboostBufferProblem(Uint8Array.from([0x7b, 0x4c]))).toMatch(/does not parse/);
    const json = enc.encode(
      JSON.stringify({
        Config: {},
        Model: {
          learner: {
            gradient_booster: {
              model: {
                trees: [
                  {
                    tree_param: { num_nodes: '1' },
                    left_children: [5],
                    right_children: [-1],
                    parents: [0],
                    split_indices: [0],
                    split_conditions: [0],
                  },
                ],
              },
            },
          },
        },
      }),
    );
    expect(xgboostBufferProblem(json)).toMatch(/left_children/);
  });
});

describe('pickles found by content, not by name', () => {
  it('reports what a partial load ran, whatever the file is called', async () => {
    const p0 = enc.encode("cos\nsystem\n(S'id'\ntR");
    for (const name of ['model.sav', 'model.p', 'config.json', 'README', 'weights.model', 'x.txt'])
      expect((await scanBuffer(p0, name)).verdict, name).toBe('dangerous');
    expect((await scanBuffer(concat(p0, '.junk'), 'notes.txt')).verdict).toBe('dangerous');
  });
  it('keeps real text files clean', async () => {
    for (const text of [
      '[PAD]\n[UNK]\nthe\n',
      '#version: 0.2\nh e\n',
      '{"model": {"type": "BPE"}}',
      '---\nlicense: mit\n---\n# Model card\n',
      'N.B. this model is experimental.\n',
      'cat\ndog\nbird\n',
      'cos\nsystem\nThese two lines read as a GLOBAL opcode; nothing is called.\n',
      'MIT License\n\nCopyright (c) 2024\n',
    ])
      expect((await scanBuffer(enc.encode(text), 'vocab.txt')).verdict, text).toBe('clean');
  });
  it('probes files larger than 8 MiB', async () => {
    const big = concat(
      "(lp0\nS'",
      new Uint8Array(9 * 1024 * 1024).fill(0x61),
      "'\np1\na0",
      enc.encode("cos\nsystem\n(S'id'\ntR."),
    );
    expect((await scanBuffer(big, 'data')).verdict).toBe('dangerous');
  });
  it('finds a pickle before an image header or in an HDF5 user block', async () => {
    const gif = concat('GIF89a', [1, 0, 1], "cos\nsystem\n(S'id'\ntR.");
    const r = await scanBuffer(gif, 'image.gif');
    expect(r.verdict).toBe('dangerous');
    expect(r.findings.map((f) => f.rule)).toContain('polyglot-pickle');
    const h5 = concat(
      "cos\nsystem\n(S'id'\ntR.",
      new Uint8Array(512 - 22),
      [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a],
      new Uint8Array(64),
    );
    expect((await scanBuffer(h5, 'model.h5')).verdict).toBe('dangerous');
  });
  it('reports a binary payload truncated after its call', async () => {
    const b = concat([0x80, 0x02], G('os', 'system'), 'X', u32(2), 'id', [0x85], 'R');
    expect((await scanBuffer(b, 'model')).verdict).toBe('dangerous');
  });
});
