// The reviewed allowlist of data-only globals: what PyTorch's weights_only unpickler, numpy,
// scipy.sparse and scikit-learn pickles import. An entry is not a blanket pass: it says in which
// opcode shapes the name may appear, the shapes its own library writes —
//   value   the name is only referenced (a class or function stored in the model, or handed to
//           another allowed call); always permitted for an allowlisted name;
//   newobj  instantiated without running __init__: NEWOBJ/NEWOBJ_EX, copyreg._reconstructor,
//           a numpy/sklearn `newObj` helper, or OBJ/INST without arguments;
//   reduce  called by REDUCE (or OBJ/INST with arguments) — only with the arguments `reduce` accepts;
//   build   BUILD may give its instances state — only state `build` accepts.
// A use outside these shapes is reported (pickle-disallowed-shape) even though the name is allowed.
// docs/scanning.md lists every entry and why it is safe.
import {
  SKLEARN_EXTENSION_TYPES,
  SKLEARN_METRIC_FUNCTIONS,
  SKLEARN_PYTHON_CLASSES,
  SKLEARN_SCORERS,
  SKLEARN_SPLITTERS,
} from './allowlist-sklearn.ts';
import {
  boundMethodProblem,
  distributionStateProblem,
  SCIPY_DISTRIBUTIONS,
  SCIPY_FROZEN,
} from './allowlist-scipy.ts';
import { lightgbmModelProblem, xgboostBufferProblem } from './boosters.ts';
import { predictorStateProblem, treeStateProblem } from './sklearn-tree.ts';
import { bytesOfValue, describeValue, textOfValue, type Value } from './pickle-values.ts';

/** Returns why the arguments (or state) do not fit, or undefined when they do. */
export type ValueCheck = (items: readonly Value[]) => string | undefined;

export interface AllowEntry {
  /** Library family, for reports and docs. */
  group: string;
  newobj?: boolean;
  reduce?: ValueCheck;
  build?: ValueCheck;
  /** How the result of a call is tracked: a numpy dtype, a joblib array wrapper, or an instance of the class in argument 0. */
  result?: 'dtype' | 'stringdtype' | 'joblib-array' | 'instance-of-arg0' | 'bytes' | 'ndarray' | 'frombuffer';
  /**
   * A function that only computes on the arrays it is given (numpy math, scikit-learn metrics and
   * validation): estimators keep it as a parameter, and `functools.partial` may bind arguments to it.
   */
  pure?: boolean;
  /**
   * The name may appear only as the callee of an admitted REDUCE (`builtins.getattr` of a scipy
   * distribution's method): never as data, and the pickle machine reports any reference of it that
   * no admitted call consumes.
   */
  callOnly?: boolean;
  /** Severity of a use outside the entry's shapes when that use runs code (default suspicious). */
  misuse?: 'dangerous';
}

// --- argument checks ----------------------------------------------------------------------------

/** Why `v` is not plain data (an allowed global referenced as a value counts as data). */
export function notData(v: Value, depth = 0): string | undefined {
  switch (v.t) {
    case 'global':
      return v.ref.classification === 'allowed' && v.ref.entry?.callOnly !== true
        ? undefined
        : `the global ${v.ref.name}`;
    case 'obj':
      if (v.indirect) return 'the result of an indirect call';
      return v.cls === undefined || v.cls.classification === 'allowed' ? undefined : `a ${v.cls.name} object`;
    case 'tuple':
      if (v.items === null) return depth === 0 ? undefined : undefined;
      if (depth > 8) return undefined;
      for (const x of v.items) {
        const r = notData(x, depth + 1);
        if (r !== undefined) return r;
      }
      return undefined;
    case 'unknown':
      return 'a value computed at load time';
    default:
      return undefined;
  }
}

/** Any number of plain-data arguments. */
export const data: ValueCheck = (items) => {
  for (const x of items) {
    const r = notData(x);
    if (r !== undefined) return `an argument is ${r}`;
  }
  return undefined;
};

/** Exactly these argument kinds (t values), then optional ones; every argument plain data. */
function args(required: Value['t'][][], optional: Value['t'][][] = []): ValueCheck {
  return (items) => {
    if (items.length < required.length || items.length > required.length + optional.length)
      return `takes ${required.length}${optional.length ? `-${required.length + optional.length}` : ''} arguments, got ${items.length}`;
    const kinds = [...required, ...optional];
    for (let i = 0; i < items.length; i++) {
      const x = items[i] as Value;
      if (!(kinds[i] as Value['t'][]).includes(x.t))
        return `argument ${i + 1} is a ${x.t}, expected ${(kinds[i] as string[]).join(' or ')}`;
    }
    return data(items);
  };
}

/** BUILD state: a dict (an instance __dict__), or (dict, slot-state dict) as object.__reduce_ex__ writes. */
const instanceState: ValueCheck = (items) => {
  const [s] = items;
  if (s === undefined) return 'no state';
  if (s.t === 'dict') return undefined;
  if (s.t === 'tuple' && s.items !== null && s.items.length === 2) {
    const [d, slots] = s.items as [Value, Value];
    if ((d.t === 'dict' || d.t === 'none') && (slots.t === 'dict' || slots.t === 'none')) return undefined;
  }
  return `state is ${s.t === 'tuple' ? 'a tuple' : `a ${s.t}`}, not an instance dict`;
};

/**
 * A Booster's state: an instance dict whose model (`key`) a native parser reads; the model must be one
 * its library writes (boosters.ts).
 */
function boosterState(keys: string[], problem: (v: Value) => string | undefined): ValueCheck {
  return (items) => {
    const basic = instanceState(items);
    if (basic !== undefined) return basic;
    const [s] = items;
    const d = s?.t === 'dict' ? s : s?.t === 'tuple' && s.items?.[0]?.t === 'dict' ? s.items[0] : undefined;
    if (d?.t !== 'dict') return undefined;
    if (d.entries === null) return 'state too large to check the model it carries';
    // `keys` in the order __setstate__ tries them (LightGBM: state.get("_handle", state.get("handle"))):
    // the first key present decides, with the last value given for it (dict assignment).
    let model: Value | undefined;
    for (const key of keys) {
      let found = false;
      for (const [k, v] of d.entries)
        if (k.t === 'str' && k.v === key) {
          model = v;
          found = true;
        }
      if (found) break;
    }
    if (model === undefined || model.t === 'none') return undefined;
    const why = problem(model);
    return why === undefined
      ? undefined
      : `the model its __setstate__ hands to the native parser is not one the library writes: ${why}`;
  };
}
const xgboostState = boosterState(['handle'], (v) => {
  const b = bytesOfValue(v);
  return b === undefined ? `handle is a ${v.t}, not a model buffer` : xgboostBufferProblem(b);
});
const lightgbmState = boosterState(['_handle', 'handle'], (v) => {
  const t = textOfValue(v);
  return t === undefined ? `_handle is a ${v.t}, not a model string` : lightgbmModelProblem(t);
});

/** Any BUILD state that is plain data (extension types define their own __setstate__). */
const dataState: ValueCheck = (items) => data(items);

/** A class in argument 0 that may itself be instantiated without __init__ (copyreg, newObj helpers). */
function instantiatesArg0(rest: ValueCheck = data): ValueCheck {
  return (items) => {
    const [cls] = items;
    if (cls?.t !== 'global' || cls.ref.entry?.newobj !== true)
      return `argument 1 must be an allowlisted class that may be instantiated, not ${cls?.t === 'global' ? cls.ref.name : `a ${cls?.t ?? 'missing value'}`}`;
    return rest(items.slice(1));
  };
}

// --- entries ------------------------------------------------------------------------------------

const ENTRIES = new Map<string, AllowEntry>();
function allow(group: string, names: readonly string[], shape: Omit<AllowEntry, 'group'>): void {
  for (const n of names) ENTRIES.set(n, { group, ...shape });
}

// Python builtins that only rebuild data (CPython's own pickles of these types, and torch's allowlist).
allow('python', ['builtins.bytes', 'builtins.bytearray'], { reduce: data, result: 'bytes' });
allow(
  'python',
  [
    'builtins.set',
    'builtins.frozenset',
    'builtins.complex',
    'builtins.slice',
    'builtins.range',
    'builtins.str',
    'builtins.int',
    'builtins.float',
    'builtins.bool',
    'builtins.tuple',
    'builtins.list',
    'builtins.dict',
  ],
  { reduce: data },
);
allow('python', ['builtins.object'], {});
// protocol 2 writes bytes as _codecs.encode(text, 'latin1')
allow('python', ['_codecs.encode'], { reduce: args([['str'], ['str']]), result: 'bytes' });
allow('python', ['collections.OrderedDict', 'collections.Counter'], {
  reduce: data,
  newobj: true,
  build: dataState,
});
// Values of the standard library that model metadata carries (a training timestamp, a version number):
// their constructors only parse the plain data CPython pickles for them.
allow(
  'python',
  [
    'collections.deque',
    'datetime.datetime',
    'datetime.date',
    'datetime.time',
    'datetime.timedelta',
    'datetime.timezone',
    'decimal.Decimal',
    'fractions.Fraction',
    'uuid.SafeUUID',
  ],
  { reduce: data },
);
allow('python', ['uuid.UUID'], { newobj: true, build: dataState });
// Attribute bags training scripts save beside the weights (`torch.save({'args': args, ...})`): an
// argparse.Namespace pickles as NEWOBJ + BUILD of its __dict__, a SimpleNamespace as REDUCE of the
// class with no arguments + BUILD. Neither runs anything of its own; types' other names stay denied.
allow('python', ['argparse.Namespace'], { newobj: true, build: instanceState });
allow('python', ['types.SimpleNamespace'], {
  reduce: (items) =>
    items.length === 0 || (items.length === 1 && items[0]?.t === 'dict')
      ? data(items)
      : 'takes no arguments or one mapping',
  build: instanceState,
});
// defaultdict(factory): the factory is called for missing keys, so only a container type may be it.
allow('python', ['collections.defaultdict'], {
  reduce: (items) => {
    const [f] = items;
    if (
      f !== undefined &&
      f.t !== 'none' &&
      !(
        f.t === 'global' &&
        [
          'builtins.dict',
          'builtins.list',
          'builtins.set',
          'builtins.int',
          'builtins.float',
          'builtins.str',
          'builtins.tuple',
          'collections.OrderedDict',
        ].includes(f.ref.name)
      )
    )
      return 'the default factory must be None or a builtin container type';
    return data(items);
  },
  newobj: true,
  build: dataState,
});
allow('python', ['copyreg._reconstructor'], {
  reduce: instantiatesArg0(args([['global'], ['none', 'tuple', 'dict', 'list', 'str', 'int']])),
  result: 'instance-of-arg0',
});
allow('python', ['copyreg.__newobj__'], { reduce: instantiatesArg0(), result: 'instance-of-arg0' });

// PyTorch: torch/_weights_only_unpickler.py `_get_allowed_globals` (tensor and storage rebuilds,
// dtypes, layouts, memory formats, devices); rebuild functions take storages (persistent ids), offsets,
// sizes, strides, flags and hook dicts.
const TORCH_STORAGES = [
  'Double',
  'Float',
  'Half',
  'Long',
  'Int',
  'Short',
  'Char',
  'Byte',
  'Bool',
  'BFloat16',
  'ComplexDouble',
  'ComplexFloat',
  'QUInt8',
  'QInt8',
  'QInt32',
  'QUInt4x2',
  'QUInt2x4',
  'Untyped',
];
const TORCH_DTYPES = [
  'float32',
  'float',
  'float64',
  'double',
  'float16',
  'half',
  'bfloat16',
  'uint8',
  'int8',
  'int16',
  'short',
  'int32',
  'int',
  'int64',
  'long',
  'bool',
  'complex32',
  'complex64',
  'complex128',
  'cfloat',
  'cdouble',
  'uint16',
  'uint32',
  'uint64',
  'quint8',
  'qint8',
  'qint32',
  'quint4x2',
  'quint2x4',
  'float8_e4m3fn',
  'float8_e5m2',
  'float8_e4m3fnuz',
  'float8_e5m2fnuz',
  'float8_e8m0fnu',
  'bits8',
  'bits16',
];
allow(
  'torch',
  [
    ...TORCH_STORAGES.map((s) => `torch.${s}Storage`),
    ...TORCH_STORAGES.map((s) => `torch.cuda.${s}Storage`),
    ...TORCH_DTYPES.map((d) => `torch.${d}`),
    'torch.storage.UntypedStorage',
    'torch.storage.TypedStorage',
    'torch.Tensor',
    'torch.strided',
    'torch.sparse_coo',
    'torch.sparse_csr',
    'torch.sparse_csc',
    'torch.sparse_bsr',
    'torch.sparse_bsc',
    'torch.contiguous_format',
    'torch.channels_last',
    'torch.channels_last_3d',
    'torch.preserve_format',
    'torch.per_tensor_affine',
    'torch.per_channel_affine',
    'torch.per_tensor_symmetric',
    'torch.per_channel_symmetric',
    'torch.per_channel_affine_float_qparams',
  ],
  {},
);
const TORCH_REBUILDS = [
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_tensor_v3',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  'torch._utils._rebuild_sparse_tensor',
  'torch._utils._rebuild_meta_tensor_no_storage',
  'torch._utils._rebuild_nested_tensor',
  'torch._utils._rebuild_qtensor',
  'torch._utils._rebuild_wrapper_subclass',
  'torch._utils._rebuild_device_tensor_from_numpy',
];
allow(
  'torch',
  [
    ...TORCH_REBUILDS,
    'torch.Size',
    'torch.device',
    'torch.serialization._get_layout',
    'torch.nn.parameter.Parameter',
    'torch.nn.parameter.Buffer',
  ],
  { reduce: data, build: dataState },
);
// _rebuild_from_type_v2(func, type, args, state) calls func(*args): func must be a torch rebuild.
allow('torch', ['torch._tensor._rebuild_from_type_v2'], {
  reduce: (items) => {
    const [fn, type] = items;
    if (fn?.t !== 'global' || !TORCH_REBUILDS.includes(fn.ref.name))
      return 'argument 1 must be a torch._utils rebuild function';
    if (
      type?.t !== 'global' ||
      !['torch.Tensor', 'torch.nn.parameter.Parameter', 'torch.nn.parameter.Buffer'].includes(type.ref.name)
    )
      return 'argument 2 must be torch.Tensor or a Parameter';
    return data(items);
  },
  build: dataState,
});

// numpy: array, dtype and scalar reconstruction under numpy.core (numpy 1) and numpy._core (numpy 2).
const NDARRAY_CLASSES = [
  'numpy.ndarray',
  'numpy.matrix',
  'numpy.memmap',
  'numpy.recarray',
  'numpy.matrixlib.defmatrix.matrix',
  'numpy.ma.core.MaskedArray',
  'numpy.ma.MaskedArray',
  'numpy.rec.recarray',
  'numpy.core.records.recarray',
  'numpy._core.records.recarray',
];
/** _reconstruct(subtype, shape, typecode): the subtype must be an ndarray class. */
const reconstructArgs: ValueCheck = (items) => {
  const [cls] = items;
  if (cls?.t !== 'global' || !NDARRAY_CLASSES.includes(cls.ref.name))
    return `argument 1 must be an ndarray class, not ${cls?.t === 'global' ? cls.ref.name : `a ${cls?.t ?? 'missing value'}`}`;
  return args([['global'], ['tuple'], ['bytes', 'str']])(items);
};
for (const core of ['numpy.core', 'numpy._core']) {
  allow('numpy', [`${core}.multiarray._reconstruct`], {
    reduce: reconstructArgs,
    build: args([['tuple']]),
    result: 'ndarray',
  });
  allow('numpy', [`${core}.multiarray.scalar`], {
    reduce: args([['obj'], ['bytes', 'str', 'obj', 'none', 'int', 'float', 'list', 'tuple']]),
  });
  allow('numpy', [`${core}.numeric._frombuffer`], {
    result: 'frombuffer',
    reduce: args([['bytes', 'bytearray', 'buffer'], ['obj'], ['tuple'], ['str']]),
  });
  allow('numpy', [`${core}._multiarray_umath._reconstruct`], {
    reduce: reconstructArgs,
    build: args([['tuple']]),
    result: 'ndarray',
  });
}
// StringDType arrays pickle their dtype through this constructor (coerce flag, optional NA object).
allow(
  'numpy',
  [
    'numpy._core._internal._convert_to_stringdtype_kwargs',
    'numpy.core._internal._convert_to_stringdtype_kwargs',
  ],
  { reduce: data, result: 'stringdtype' },
);
allow('numpy', ['numpy.dtype'], {
  reduce: args([['str'], ['bool', 'int'], ['bool', 'int']]),
  build: args([['tuple']]),
  result: 'dtype',
});
allow('numpy', NDARRAY_CLASSES, {});
allow('numpy', ['numpy.ma.core._mareconstruct'], {
  reduce: args([['global'], ['global'], ['tuple'], ['bytes', 'str']]),
  build: args([['tuple']]),
});
const NUMPY_SCALARS = [
  'bool_',
  'bool',
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'float16',
  'float32',
  'float64',
  'longdouble',
  'complex64',
  'complex128',
  'clongdouble',
  'str_',
  'bytes_',
  'void',
  'object_',
  'datetime64',
  'timedelta64',
  'intc',
  'uintc',
  'intp',
  'uintp',
  'longlong',
  'ulonglong',
  'half',
  'single',
  'double',
  'csingle',
  'cdouble',
  'int_',
  'uint',
  'float_',
  'complex_',
  'number',
  'integer',
  'floating',
  'generic',
];
allow(
  'numpy',
  NUMPY_SCALARS.map((s) => `numpy.${s}`),
  { reduce: data },
);
const NUMPY_DTYPE_CLASSES = [
  'Bool',
  'Int8',
  'Int16',
  'Int32',
  'Int64',
  'UInt8',
  'UInt16',
  'UInt32',
  'UInt64',
  'Float16',
  'Float32',
  'Float64',
  'LongDouble',
  'Complex64',
  'Complex128',
  'CLongDouble',
  'Bytes',
  'Str',
  'Void',
  'Object',
  'DateTime64',
  'TimeDelta64',
  'Byte',
  'UByte',
  'Short',
  'UShort',
  'Int',
  'UInt',
  'Long',
  'ULong',
  'LongLong',
  'ULongLong',
  'Half',
  'Float',
  'Double',
  'StringDType',
];
allow(
  'numpy',
  NUMPY_DTYPE_CLASSES.map((c) => `numpy.dtypes.${c}DType`),
  { reduce: data, newobj: true },
);
// Functions estimators keep as parameters (pooling_func=np.mean, func=np.log1p): referenced, never called at load.
const NUMPY_FUNCTIONS = [
  'mean',
  'median',
  'average',
  'sum',
  'prod',
  'max',
  'min',
  'amax',
  'amin',
  'std',
  'var',
  'nanmean',
  'nanmedian',
  'nansum',
  'nanmax',
  'nanmin',
  'log',
  'log1p',
  'log2',
  'log10',
  'exp',
  'expm1',
  'sqrt',
  'square',
  'abs',
  'absolute',
  'sign',
  'tanh',
  'sin',
  'cos',
  'arcsinh',
  'reciprocal',
  'clip',
  'round',
  'floor',
  'ceil',
  'argmax',
  'argmin',
];
allow(
  'numpy',
  NUMPY_FUNCTIONS.map((f) => `numpy.${f}`),
  { pure: true },
);
// numpy.random state (RandomState/Generator kept by estimators): constructors of bit generators by name.
allow(
  'numpy',
  [
    'numpy.random._pickle.__randomstate_ctor',
    'numpy.random._pickle.__generator_ctor',
    'numpy.random.__RandomState_ctor',
  ],
  { reduce: data, build: dataState },
);
// numpy >= 1.25 passes the bit generator class; 1.17-1.24 its name ('MT19937'); the state follows by BUILD.
allow('numpy', ['numpy.random._pickle.__bit_generator_ctor'], {
  reduce: (items) => (items[0]?.t === 'global' ? instantiatesArg0()(items) : data(items)),
  result: 'instance-of-arg0',
  build: dataState,
});
allow('numpy', ['numpy.random.bit_generator.__pyx_unpickle_SeedSequence'], {
  reduce: instantiatesArg0(),
  result: 'instance-of-arg0',
});
allow(
  'numpy',
  [
    'numpy.random.mtrand.RandomState',
    'numpy.random._generator.Generator',
    'numpy.random.bit_generator.SeedSequence',
    ...['MT19937', 'PCG64', 'PCG64DXSM', 'Philox', 'SFC64'].map(
      (g) => `numpy.random._${g === 'PCG64DXSM' ? 'pcg64' : g.toLowerCase()}.${g}`,
    ),
  ],
  { newobj: true, build: dataState },
);

// numpy.vectorize keeps the function it wraps: a scipy distribution's own method (getattr above, the
// rv_discrete vecentropy) or a pure numpy/scikit-learn function; no __setstate__, BUILD fills __dict__.
allow(
  'numpy',
  ['numpy.vectorize', 'numpy.lib._function_base_impl.vectorize', 'numpy.lib.function_base.vectorize'],
  {
    newobj: true,
    build: (items) => {
      const [s] = items;
      if (s?.t !== 'dict' || s.entries === null) return 'state is not an instance dict modelgate can check';
      for (const [k, v] of s.entries) {
        if (k.t !== 'str' || k.v !== 'pyfunc') continue;
        const bound = v.t === 'obj' && v.indirect !== true && v.cls?.entry?.callOnly === true;
        const pure = v.t === 'global' && v.ref.classification === 'allowed' && v.ref.entry?.pure === true;
        if (!bound && !pure)
          return `pyfunc is ${describeValue(v)}, not a scipy distribution method or an allowlisted data function`;
      }
      return data(items);
    },
  },
);

// pathlib paths are inert values (a model's data directory): the class called with its path parts.
// Constructing one touches no file; pathlib's file operations stay on the denylist.
allow(
  'python',
  ['PurePath', 'PurePosixPath', 'PureWindowsPath', 'Path', 'PosixPath', 'WindowsPath'].flatMap((c) => [
    `pathlib.${c}`,
    `pathlib._local.${c}`,
  ]),
  {
    reduce: (items) => {
      const i = items.findIndex((x) => x.t !== 'str');
      return i < 0 ? undefined : `path part ${i + 1} is ${describeValue(items[i])}, not a str`;
    },
  },
);

// joblib: its array wrapper; the array bytes follow the wrapper's BUILD in the stream (joblib.ts).
allow('joblib', ['joblib.numpy_pickle.NumpyArrayWrapper'], {
  newobj: true,
  build: instanceState,
  result: 'joblib-array',
});

// scipy: sparse matrices and arrays (NEWOBJ + BUILD of their arrays), B-splines (SplineTransformer).
const SPARSE = ['csr', 'csc', 'coo', 'bsr', 'dia', 'dok', 'lil'];
allow(
  'scipy',
  SPARSE.flatMap((k) => [
    `scipy.sparse._${k}.${k}_matrix`,
    `scipy.sparse._${k}.${k}_array`,
    `scipy.sparse.${k}.${k}_matrix`,
  ]),
  { newobj: true, build: instanceState },
);
allow('scipy', ['scipy.interpolate._bsplines.BSpline'], { newobj: true, build: instanceState });
// scipy.stats distributions (a fitted RandomizedSearchCV's param_distributions), allowlist-scipy.ts:
// a distribution's __setstate__ exec()s the argument parser in its state, which must be scipy's own;
// frozen distributions are plain instances.
for (const [module, classes] of Object.entries(SCIPY_DISTRIBUTIONS))
  allow(
    'scipy',
    classes.map((c) => `${module}.${c}`),
    {
      newobj: true,
      build: ([s]) => distributionStateProblem(s) ?? data([s as Value]),
      misuse: 'dangerous',
    },
  );
allow('scipy', SCIPY_FROZEN, { newobj: true, build: instanceState });
// rv_discrete keeps vecentropy = numpy.vectorize(self._entropy); the bound method pickles as
// getattr(distribution, '_entropy'). getattr is admitted in exactly that call and nowhere else.
allow('scipy', ['builtins.getattr', '__builtin__.getattr'], {
  reduce: boundMethodProblem,
  callOnly: true,
  misuse: 'dangerous',
});

allow('scipy', ['scipy._lib.array_api_compat.numpy._aliases.asarray'], {});

// scikit-learn (allowlist-sklearn.ts, generated from the library): Python classes are NEWOBJ + BUILD of
// their __dict__ (BaseEstimator.__setstate__ only checks the version and updates __dict__); Cython
// extension types are REDUCE of the type with plain-data arguments plus a BUILD their __setstate__
// validates. Module paths also match the pre-0.22 public spelling (sklearn.tree.tree for _tree's
// classes) and the package itself (sklearn.linear_model).
function sklearnPaths(module: string): string[] {
  const parts = module.split('.');
  const last = parts[parts.length - 1] ?? '';
  const paths = [module];
  if (last.startsWith('_')) paths.push([...parts.slice(0, -1), last.slice(1)].join('.'));
  if (parts.length > 2) paths.push(parts.slice(0, 2).join('.'));
  return paths;
}
for (const [module, names] of Object.entries(SKLEARN_PYTHON_CLASSES))
  for (const p of sklearnPaths(module))
    allow(
      'scikit-learn',
      names.map((n) => `${p}.${n}`),
      { newobj: true, build: instanceState },
    );
for (const [module, names] of Object.entries(SKLEARN_EXTENSION_TYPES))
  for (const p of sklearnPaths(module))
    allow(
      'scikit-learn',
      names.map((n) => `${p}.${n}`),
      { reduce: data, newobj: true, build: dataState },
    );
// Tree.__setstate__ copies the node records into C structures without checking the child indices
// prediction follows (sklearn-tree.ts).
for (const p of sklearnPaths('sklearn.tree._tree'))
  allow('scikit-learn', [`${p}.Tree`], {
    reduce: data,
    newobj: true,
    build: (items) => dataState(items) ?? treeStateProblem(items[0]),
  });
// TreePredictor's node records are followed unchecked by _predict_from_raw_data (sklearn-tree.ts).
for (const p of sklearnPaths('sklearn.ensemble._hist_gradient_boosting.predictor'))
  allow('scikit-learn', [`${p}.TreePredictor`], {
    newobj: true,
    // only the plain dict TreePredictor pickles: a (dict, slots) pair would set `nodes` past the check
    build: (items) =>
      items[0]?.t === 'dict'
        ? predictorStateProblem(items[0])
        : `state is a ${items[0]?.t ?? 'missing value'}, not the instance dict scikit-learn writes`,
  });
// newObj(cls) helpers of Cython modules: instantiate their own extension types.
allow(
  'scikit-learn',
  [
    'sklearn.neighbors._kd_tree.newObj',
    'sklearn.neighbors._ball_tree.newObj',
    'sklearn.neighbors._binary_tree.newObj',
    'sklearn.metrics._dist_metrics.newObj',
  ],
  { reduce: instantiatesArg0(), result: 'instance-of-arg0' },
);
// Functions estimators keep as parameters (score_func=f_classif), referenced only.
allow(
  'scikit-learn',
  ['f_classif', 'f_regression', 'chi2', 'r_regression', 'f_oneway'].flatMap((f) => [
    `sklearn.feature_selection._univariate_selection.${f}`,
    `sklearn.feature_selection.univariate_selection.${f}`,
  ]),
  { pure: true },
);
allow(
  'scikit-learn',
  ['mutual_info_classif', 'mutual_info_regression'].map((f) => `sklearn.feature_selection._mutual_info.${f}`),
  { pure: true },
);
// Metric functions scorers keep (`_Scorer._score_func`, `make_scorer(f1_score)`) and the input
// validation HistGradientBoosting binds with functools.partial: referenced, never called by the pickle.
allow(
  'scikit-learn',
  Object.entries(SKLEARN_METRIC_FUNCTIONS).flatMap(([m, fs]) => fs.map((f) => `${m}.${f}`)),
  { pure: true },
);
allow('scikit-learn', ['sklearn.utils.validation.check_array'], { pure: true });
// Cross-validation splitters and scorers a fitted search (GridSearchCV, RandomizedSearchCV,
// LogisticRegressionCV, ...) keeps: plain instances.
allow(
  'scikit-learn',
  [
    ...SKLEARN_SPLITTERS.flatMap((c) => [
      `sklearn.model_selection._split.${c}`,
      `sklearn.model_selection.${c}`,
    ]),
    ...SKLEARN_SCORERS.map((c) => `sklearn.metrics._scorer.${c}`),
    'sklearn.impute._iterative.IterativeImputer',
    'sklearn.impute._iterative._ImputerTriplet',
  ],
  { newobj: true, build: instanceState },
);
// _ImputerTriplet is a namedtuple: protocol 2+ rebuild it with NEWOBJ(cls, fields); 0-1 through
// copyreg._reconstructor(cls, tuple, fields).
ENTRIES.set('sklearn.impute._iterative._ImputerTriplet', {
  group: 'scikit-learn',
  newobj: true,
  reduce: data,
});
allow(
  'scikit-learn',
  ['_kmeans_single_lloyd', '_kmeans_single_elkan'].map((f) => `sklearn.cluster._kmeans.${f}`),
  {},
);

// Helper classes of earlier scikit-learn releases (removed or moved since 1.9, still in older pickles).
const SKLEARN_HISTORIC: Record<string, string[]> = {
  'sklearn.ensemble._gb_losses': [
    'LeastSquaresError',
    'LeastAbsoluteError',
    'HuberLossFunction',
    'QuantileLossFunction',
    'BinomialDeviance',
    'MultinomialDeviance',
    'ExponentialLoss',
  ],
  'sklearn.ensemble._hist_gradient_boosting.loss': [
    'LeastSquares',
    'LeastAbsoluteDeviation',
    'BinaryCrossEntropy',
    'CategoricalCrossEntropy',
    'Poisson',
  ],
  'sklearn.ensemble._hist_gradient_boosting._bitset': [],
  'sklearn.utils._bunch': ['Bunch'],
  'sklearn.compose._column_transformer': ['_RemainderColsList'],
};
for (const [module, names] of Object.entries(SKLEARN_HISTORIC))
  for (const p of sklearnPaths(module))
    allow(
      'scikit-learn',
      names.map((n) => `${p}.${n}`),
      { newobj: true, build: instanceState },
    );
const SKLEARN_HISTORIC_EXTENSION: Record<string, string[]> = {
  'sklearn.neighbors._dist_metrics': [
    'EuclideanDistance',
    'ManhattanDistance',
    'ChebyshevDistance',
    'MinkowskiDistance',
    'WMinkowskiDistance',
    'SEuclideanDistance',
    'MahalanobisDistance',
    'HammingDistance',
    'CanberraDistance',
    'BrayCurtisDistance',
    'JaccardDistance',
    'MatchingDistance',
    'DiceDistance',
    'KulsinskiDistance',
    'RogersTanimotoDistance',
    'RussellRaoDistance',
    'SokalMichenerDistance',
    'SokalSneathDistance',
    'HaversineDistance',
    'DistanceMetric',
  ],
  'sklearn.metrics._dist_metrics': [
    'EuclideanDistance',
    'ManhattanDistance',
    'ChebyshevDistance',
    'MinkowskiDistance',
    'SEuclideanDistance',
    'MahalanobisDistance',
    'HammingDistance',
    'CanberraDistance',
    'BrayCurtisDistance',
    'HaversineDistance',
  ],
  'sklearn.linear_model._sgd_fast': [
    'Hinge',
    'SquaredHinge',
    'Log',
    'ModifiedHuber',
    'SquaredLoss',
    'Huber',
    'EpsilonInsensitive',
    'SquaredEpsilonInsensitive',
  ],
};
for (const [module, names] of Object.entries(SKLEARN_HISTORIC_EXTENSION))
  for (const p of sklearnPaths(module))
    allow(
      'scikit-learn',
      names.map((n) => `${p}.${n}`),
      { reduce: data, newobj: true, build: dataState },
    );
allow('scikit-learn', ['sklearn.neighbors._dist_metrics.newObj'], {
  reduce: instantiatesArg0(),
  result: 'instance-of-arg0',
});

// Gradient-boosting libraries: sklearn-API wrappers are plain instances; Boosters carry a model that
// __setstate__ hands to the native parser, judged by boosters.ts.
allow(
  'xgboost',
  ['XGBClassifier', 'XGBRegressor', 'XGBRanker', 'XGBRFClassifier', 'XGBRFRegressor', 'XGBModel'].map(
    (c) => `xgboost.sklearn.${c}`,
  ),
  { newobj: true, build: instanceState },
);
allow('xgboost', ['xgboost.core.Booster'], { newobj: true, build: xgboostState });
allow(
  'lightgbm',
  ['LGBMClassifier', 'LGBMRegressor', 'LGBMRanker', 'LGBMModel'].map((c) => `lightgbm.sklearn.${c}`),
  { newobj: true, build: instanceState },
);
allow('lightgbm', ['lightgbm.basic.Booster'], { newobj: true, build: lightgbmState });

// functools.partial of a pure function (HistGradientBoosting keeps partial(check_array, ...)): REDUCE of
// partial with the function alone, then BUILD of (func, args, keywords, __dict__) as partial.__reduce__
// writes it. Calling the partial later is an indirect call, judged as such.
const pureFunction = (v: Value | undefined): string | undefined =>
  v?.t === 'global' && v.ref.classification === 'allowed' && v.ref.entry?.pure === true
    ? undefined
    : `the function must be an allowlisted data function (numpy math, scikit-learn metrics), not ${v?.t === 'global' ? v.ref.name : `a ${v?.t ?? 'missing value'}`}`;
allow('python', ['functools.partial'], {
  reduce: (items) => (items.length !== 1 ? `takes 1 argument, got ${items.length}` : pureFunction(items[0])),
  build: ([state]) => {
    if (state?.t !== 'tuple' || state.items === null || state.items.length !== 4)
      return 'state is not the (func, args, keywords, dict) tuple partial.__reduce__ writes';
    const [fn, a, kw, d] = state.items;
    return (
      pureFunction(fn) ??
      (a?.t !== 'tuple' ? 'args is not a tuple' : undefined) ??
      (kw?.t !== 'dict' && kw?.t !== 'none' ? 'keywords is not a dict' : undefined) ??
      (d?.t !== 'dict' && d?.t !== 'none' ? '__dict__ is not a dict' : undefined) ??
      data(state.items)
    );
  },
});

/** The allowlist entry for a resolved dotted name. */
export function allowEntry(name: string): AllowEntry | undefined {
  return ENTRIES.get(name);
}

/** Entry for names allowed by configuration (a user's own classes): data-only shapes of every kind. */
export const CONFIGURED: AllowEntry = { group: 'configured', newobj: true, reduce: data, build: dataState };

/** Every allowlisted name with its group and shapes, for docs and tests. */
export function allowlistTable(): { name: string; group: string; shapes: string[] }[] {
  return [...ENTRIES].map(([name, e]) => ({ name, group: e.group, shapes: entryShapes(e) }));
}

export function entryShapes(e: AllowEntry): string[] {
  return [
    'value',
    ...(e.newobj ? ['newobj'] : []),
    ...(e.reduce ? ['reduce'] : []),
    ...(e.build ? ['build'] : []),
  ];
}
