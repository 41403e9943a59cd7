// Renders the allowlist section of docs/scanning.md from the allowlist itself, so the documentation
// lists every entry and cannot drift (allowlist-doc.test.ts compares; `npx tsx
// src/scanning/allowlist-doc.test-support.ts --write` rewrites the section).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { allowlistTable } from './allowlist.ts';
import {
  SKLEARN_EXTENSION_TYPES,
  SKLEARN_METRIC_FUNCTIONS,
  SKLEARN_PYTHON_CLASSES,
  SKLEARN_SCORERS,
  SKLEARN_SPLITTERS,
} from './allowlist-sklearn.ts';

export const START =
  '<!-- allowlist:start (generated from src/scanning/allowlist.ts; do not edit by hand) -->';
export const END = '<!-- allowlist:end -->';

/** Why each group is data, in the words a reviewer checks it by. */
const WHY: Record<string, string> = {
  python:
    'Builtin containers and scalars rebuilt from plain data (what CPython writes for them); `_codecs.encode` turns a latin-1 str back into bytes (protocol 2); `copyreg._reconstructor` / `__newobj__` instantiate an allowlisted class without running `__init__`; `collections.defaultdict` only with a container type as its factory (the factory is called for missing keys); `builtins.object` only as the base argument of `_reconstructor`; `datetime`, `decimal.Decimal`, `fractions.Fraction`, `uuid.UUID` and `collections.deque` rebuilt from the plain data CPython pickles for them (model metadata: timestamps, versions); `argparse.Namespace` and `types.SimpleNamespace` (the attribute bags training scripts save beside the weights) as NEWOBJ or an argument-less REDUCE + BUILD of their attribute dict; `pathlib` path classes (also under `pathlib._local`, Python 3.13+) only called with str path parts (constructing a path touches no file; the pathlib methods stay denied); `functools.partial` only of a pure data function (numpy math, scikit-learn metrics, `check_array`), as REDUCE with that function alone and BUILD of the (func, args, keywords, dict) tuple `partial.__reduce__` writes — calling the partial later is an indirect call and flagged.',
  torch:
    "PyTorch's own `weights_only` allowlist (`torch/_weights_only_unpickler.py`): storage classes, dtypes, layouts and memory formats are referenced, never called; the `torch._utils._rebuild_*` functions rebuild tensors from storages (persistent ids), offsets, sizes, strides and flags; `_rebuild_from_type_v2` only with a rebuild function and `torch.Tensor`/`Parameter` as its first two arguments (it calls the first).",
  numpy:
    '`_reconstruct` only of an ndarray class with a shape and a type code, then BUILD of (version, shape, dtype, order, data); `numpy.dtype` only from a type string; `scalar` from a dtype and its bytes; `_frombuffer` from bytes; numpy.random bit generators and their state dicts (what RandomState/Generator pickles); `numpy.vectorize` as NEWOBJ + BUILD whose `pyfunc` is a scipy distribution bound method (above) or an allowlisted data function; scalar types and the math functions estimators keep as parameters are referenced only.',
  joblib:
    "joblib's array wrapper: NEWOBJ + BUILD of its `__dict__`; the array bytes that follow it are skipped exactly, or scanned as the nested pickle they are when the dtype holds objects (decided as numpy decides `hasobject`).",
  scipy:
    "scipy.sparse matrices and arrays and `BSpline`: NEWOBJ + BUILD of an instance `__dict__` of arrays and shapes; no `__setstate__` of their own. scipy.stats distributions (a fitted `RandomizedSearchCV`'s `param_distributions`): frozen distributions are plain instances; a distribution's `rv_generic.__setstate__` updates `__dict__` from a dict (only a dict: a tuple of two-key dicts would set arbitrary attributes) and then `exec()`s its `_parse_arg_template`, which must be exactly the argument parser scipy generates (identifier shapes, one of the two loc/scale signatures); the state may not shadow the vectorized methods. `builtins.getattr` only as the REDUCE `getattr(<distribution instance>, <method>)` that pickles the bound method `rv_discrete` keeps in `vecentropy` (methods `_entropy`, `_cdf_single`, `_ppf_single`, `_mom0_sc`, `_mom1_sc`); any other use of getattr in the file, even as a value, is dangerous.",
  'scikit-learn':
    "Estimators and transformers (every class of `sklearn.utils.all_estimators()`) and the helper classes fitted estimators pickle: Python classes only as NEWOBJ (no `__init__` runs) + BUILD of an instance dict (`BaseEstimator.__setstate__` checks the version and updates `__dict__`); Cython extension types (trees, criteria, splitters, losses, distance metrics, KD/Ball trees) as REDUCE of the type with plain-data arguments and BUILD, whose `__setstate__` checks the arrays' dtype and shape before copying them into C structures; the modules' `newObj(cls)` helpers only instantiate an allowlisted class; `Tree` and HistGradientBoosting's `TreePredictor` node records are checked (children inside the tree and after their parent, categorical bitset indices inside the bitsets), since prediction follows them unchecked. Each class is allowed under its defining module, the same module without its leading underscore (the pre-0.22 spelling) and its public package.",
  xgboost:
    "sklearn-API wrappers are plain instances (NEWOBJ + BUILD). `xgboost.core.Booster.__setstate__` hands `handle` to the native XGBoosterUnserializeFromBuffer: the buffer must be a complete UBJSON (or JSON) model with its Config and Model sections whose trees' child, parent and split arrays match `num_nodes` and point inside the tree.",
  lightgbm:
    "sklearn-API wrappers are plain instances (NEWOBJ + BUILD). `lightgbm.basic.Booster.__setstate__` hands `_handle` to the native LGBM_BoosterLoadModelFromString: the string must be a LightGBM text model whose trees' arrays have `num_leaves` - 1 splits and `num_leaves` leaves, children inside the tree, split features within `max_feature_idx` and consistent categorical boundaries (the shape of CVE-2024-43598).",
};

const SHAPES_TEXT: Record<string, string> = {
  value: 'value',
  newobj: 'NEWOBJ',
  reduce: 'REDUCE',
  build: 'BUILD',
};

export function renderAllowlistMarkdown(): string {
  const table = allowlistTable().filter((e) => e.group !== 'scikit-learn');
  const lines: string[] = [START, ''];
  const groups = [...new Set(table.map((e) => e.group)), 'scikit-learn'];
  for (const group of groups) {
    lines.push(`#### ${group}`, '', WHY[group] ?? '', '');
    if (group === 'scikit-learn') {
      lines.push('| module | shapes | classes |', '| --- | --- | --- |');
      for (const [mods, shapes] of [
        [SKLEARN_PYTHON_CLASSES, 'value, NEWOBJ, BUILD'],
        [SKLEARN_EXTENSION_TYPES, 'value, NEWOBJ, REDUCE, BUILD'],
      ] as const)
        for (const [m, names] of Object.entries(mods))
          lines.push(`| \`${m}\` | ${shapes} | ${names.join(', ')} |`);
      lines.push(
        '',
        'Functions referenced as parameters (value only): `sklearn.feature_selection._univariate_selection.{f_classif, f_regression, chi2, r_regression, f_oneway}`, `sklearn.feature_selection._mutual_info.{mutual_info_classif, mutual_info_regression}`, `sklearn.cluster._kmeans.{_kmeans_single_lloyd, _kmeans_single_elkan}`, `sklearn.utils.validation.check_array`; `newObj` of `sklearn.neighbors._kd_tree`, `_ball_tree`, `_binary_tree` and `sklearn.metrics._dist_metrics` (REDUCE, instantiates its allowlisted argument).',
        '',
        `Metric functions scorers keep as \`_score_func\` (value only): ${Object.entries(
          SKLEARN_METRIC_FUNCTIONS,
        )
          .map(([m, fs]) => `\`${m}.{${fs.join(', ')}}\``)
          .join('; ')}.`,
        '',
        `Cross-validation splitters a fitted search keeps as \`cv\` (value, NEWOBJ, BUILD), under \`sklearn.model_selection._split\` and \`sklearn.model_selection\`: ${SKLEARN_SPLITTERS.join(', ')}. Scorers (value, NEWOBJ, BUILD) in \`sklearn.metrics._scorer\`: ${SKLEARN_SCORERS.join(', ')}. \`sklearn.impute._iterative.IterativeImputer\` (value, NEWOBJ, BUILD) and its namedtuple \`_ImputerTriplet\` (value, NEWOBJ, REDUCE with plain data).`,
        '',
      );
      continue;
    }
    const bySig = new Map<string, string[]>();
    for (const e of table.filter((x) => x.group === group)) {
      const sig = e.shapes.map((s) => SHAPES_TEXT[s] ?? s).join(', ');
      bySig.set(sig, [...(bySig.get(sig) ?? []), e.name]);
    }
    lines.push('| shapes | names |', '| --- | --- |');
    for (const [sig, names] of bySig) lines.push(`| ${sig} | ${names.map((n) => `\`${n}\``).join(', ')} |`);
    lines.push('');
  }
  lines.push(END);
  return lines.join('\n');
}

const DOC = fileURLToPath(new URL('../../docs/scanning.md', import.meta.url));

/** The section as it stands in docs/scanning.md. */
export function documentedAllowlist(): string | undefined {
  const doc = readFileSync(DOC, 'utf8');
  const a = doc.indexOf(START);
  const b = doc.indexOf(END);
  return a < 0 || b < 0 ? undefined : doc.slice(a, b + END.length);
}

if (process.argv.includes('--write')) {
  const doc = readFileSync(DOC, 'utf8');
  const a = doc.indexOf(START);
  const b = doc.indexOf(END);
  if (a < 0 || b < 0) throw new Error(`docs/scanning.md has no ${START} ... ${END} section`);
  writeFileSync(DOC, doc.slice(0, a) + renderAllowlistMarkdown() + doc.slice(b + END.length));
}
