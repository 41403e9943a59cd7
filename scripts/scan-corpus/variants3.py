"""Round-3 corpus variants for generate.py: what the third adversarial round admitted and attacked.

Benign, from the real libraries: a fitted RandomizedSearchCV over scipy.stats distributions (joblib and
pickle protocols 2 and 5), models saved beside pathlib paths, HistGradientBoosting with categorical
splits; TensorFlow Lite models from TFLiteConverter and real TensorFlow SavedModels (tf_models.py, run
with the TensorFlow virtualenv of run.sh). Malicious: the same objects turned hostile before pickling
(an exec payload in a distribution's argument-parser template, getattr on other objects and names,
predictor nodes pointing outside the tree), zip layouts (data descriptors, overlapping and hidden
members, method mismatch, tar in zip), protocol-5 buffers after a payload, more chat-template gadgets.

Nothing is loaded or run. Called from generate.main() with the generate module as `g`.
"""

import copy
import io
import json
import os
import pathlib
import pickle
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
import zlib

import joblib
import numpy as np

import pickle_asm as pa
from pickle_asm import call

EVIL = call("os", "system", "id", protocol=2)


class Hostile:
    """Pickles as callable(*args) with real objects as arguments; pickling calls nothing."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)

    def __call__(self, *a):  # pickle requires a callable; never called
        raise RuntimeError("never called")


# ------------------------------------------------------------------------------------------------------
# scipy.stats distributions, pathlib values, HistGradientBoosting predictors
# ------------------------------------------------------------------------------------------------------


def search_with_distributions():
    from scipy import stats
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import RandomizedSearchCV

    rng = np.random.RandomState(0)
    X = rng.rand(60, 3)
    y = (X[:, 0] > 0.5).astype(int)
    dists = {
        "C": stats.loguniform(1e-2, 1e2),
        "tol": stats.uniform(1e-4, 1e-3),
        "max_iter": stats.randint(50, 200),
        "intercept_scaling": stats.norm(1.0, 0.1),
    }
    search = RandomizedSearchCV(LogisticRegression(), dists, n_iter=3, cv=2, random_state=0)
    return search.fit(X, y)


def pickled(obj, protocol):
    return pickle.dumps(obj, protocol=protocol)


def joblib_bytes(obj):
    buf = io.BytesIO()
    joblib.dump(obj, buf)
    return buf.getvalue()


def write_scipy(g):
    from scipy import stats

    w = g.write
    search = search_with_distributions()
    w("benign", "sklearn3/randomized_search_scipy.joblib", joblib_bytes(search), "scipy", "CLEAN: RandomizedSearchCV over scipy.stats distributions (loguniform, uniform, randint, norm), joblib.dump", False)
    w("benign", "sklearn3/randomized_search_scipy.p2.pkl", pickled(search, 2), "scipy", "CLEAN: the same search, pickle protocol 2", False)
    w("benign", "sklearn3/randomized_search_scipy.p5.pkl", pickled(search, 5), "scipy", "CLEAN: the same search, pickle protocol 5", False)
    w("benign", "sklearn3/frozen_distributions.pkl", pickled({"prior": stats.gamma(2.0, scale=3.0), "counts": stats.poisson(4), "noise": stats.t(5), "share": stats.beta(2, 5)}, 4), "scipy", "CLEAN: frozen scipy.stats distributions in a dict, protocol 4", False)

    # hostile: the argument-parser template that rv_generic.__setstate__ exec()s
    d = stats.randint(1, 5)
    d.dist._parse_arg_template += "\n__import__('os').system('id')\n"
    w("malicious", "scipy3/parse-arg-template-exec.pkl", pickled({"n": d}, 4), "scipy", "DANGEROUS: scipy.stats — a distribution whose _parse_arg_template (exec()d by __setstate__) runs os.system", False)
    d2 = stats.norm()
    d2.dist._parse_arg_template = "import os\nos.system('id')\n"
    w("malicious", "scipy3/parse-arg-template-replaced.joblib", joblib_bytes({"x": d2}), "scipy", "DANGEROUS: scipy.stats — _parse_arg_template replaced by code, joblib", False)
    d3 = stats.uniform()
    d3.dist._parse_arg_template = d3.dist._parse_arg_template.replace("loc=0, scale=1", "loc=__import__('os').system('id'), scale=1", 1)
    w("malicious", "scipy3/parse-arg-template-default-arg.pkl", pickled(d3, 2), "scipy", "DANGEROUS: scipy.stats — a default argument in the parser template calls os.system", False)
    # getattr beyond the bound method scipy pickles
    dist = stats.randint(1, 5).dist
    w("malicious", "scipy3/getattr-dunder.pkl", pickled({"f": Hostile(getattr, dist, "__class__")}, 2), "scipy", "DANGEROUS: builtins.getattr — getattr(distribution, '__class__')", False)
    w("malicious", "scipy3/getattr-other-object.pkl", pickled({"f": Hostile(getattr, pathlib.PurePosixPath("/tmp"), "_entropy")}, 2), "scipy", "DANGEROUS: builtins.getattr — getattr on a path, not a distribution", False)
    w("malicious", "scipy3/getattr-module-function.pkl", pickled(Hostile(getattr, Hostile(getattr, dist, "_entropy"), "__globals__"), 2), "scipy", "DANGEROUS: builtins.getattr — getattr of a bound method's __globals__", False)
    w("malicious", "scipy3/getattr-as-value.pkl", pickled({"getter": getattr, "d": dist}, 4), "scipy", "DANGEROUS: builtins.getattr — kept as a value", False)
    w("malicious", "scipy3/getattr-then-call.pkl", pickled([Hostile(Hostile(getattr, dist, "_entropy"))], 2), "scipy", "DANGEROUS: builtins.getattr — the bound method called at load", False)
    shadow = stats.randint(1, 5)
    shadow.dist.__dict__["_entropy"] = np.log
    w("malicious", "scipy3/state-shadows-method.pkl", pickled(shadow, 2), "scipy", "FLAGGED: scipy.stats — distribution state shadows the _entropy method getattr fetches", False)
    vec = np.vectorize(np.log)
    vec.pyfunc = getattr
    w("malicious", "scipy3/vectorize-getattr.pkl", pickled(vec, 2), "scipy", "DANGEROUS: builtins.getattr — numpy.vectorize wrapping getattr itself", False)


def write_pathlib(g):
    from sklearn.linear_model import LinearRegression

    w = g.write
    rng = np.random.RandomState(1)
    X = rng.rand(20, 2)
    model = LinearRegression().fit(X, X @ [1.0, 2.0])
    bundle = {
        "model": model,
        "train_dir": pathlib.PurePosixPath("/data/train"),
        "checkpoint": pathlib.Path("runs/7/model.joblib"),
        "windows_export": pathlib.PureWindowsPath("C:\\models\\lr"),
    }
    w("benign", "sklearn3/model_with_paths.joblib", joblib_bytes(bundle), "pathlib", "CLEAN: a LinearRegression saved with pathlib paths in its bundle, joblib.dump", False)
    w("benign", "sklearn3/model_with_paths.p0.pkl", pickled(bundle, 0), "pathlib", "CLEAN: the same bundle, pickle protocol 0", False)
    import argparse
    import types

    sd, _ = g.torch_state_dict()
    ckpt = {"state_dict": sd, "args": argparse.Namespace(lr=0.1, arch="mlp", layers=[2, 3]), "cfg": types.SimpleNamespace(epochs=3), "epoch": 3}
    w("benign", "torch3/checkpoint_with_args.pt", g.torch_zip(ckpt), "torch", "CLEAN: a training checkpoint (state_dict, argparse.Namespace args, SimpleNamespace config) in torch.save's zip layout")
    w("malicious", "torch3/namespace-holding-os-system.pkl", pickled({"args": argparse.Namespace(hook=os.system)}, 2), "pickle", "DANGEROUS: posix.system — an argparse.Namespace whose attribute is os.system")
    w("malicious", "scipy3/pathlib-write-text.pkl", pa.proto(2) + pa.glob("pathlib", "Path.write_text") + pa.MARK + pa.glob("pathlib", "PosixPath") + pa.MARK + pa.ustr("/tmp/x") + pa.TUPLE + pa.REDUCE + pa.ustr("id") + pa.TUPLE + pa.REDUCE + pa.STOP, "pathlib", "DANGEROUS: pathlib.Path.write_text — writes a file at load")
    w("malicious", "scipy3/pathlib-stack-global-method.pkl", pa.proto(4) + pa.stack_global("pathlib", "PosixPath.unlink") + pa.MARK + pa.glob("pathlib", "PosixPath") + pa.MARK + pa.ustr("model.bin") + pa.TUPLE + pa.REDUCE + pa.TUPLE + pa.REDUCE + pa.STOP, "pathlib", "DANGEROUS: pathlib.PosixPath.unlink — deletes a file at load")


def write_hgb(g):
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    w = g.write
    rng = np.random.RandomState(0)
    X = rng.rand(200, 4)
    X[:, 3] = rng.randint(0, 5, 200)
    y = ((X[:, 0] + (X[:, 3] == 2)) > 0.8).astype(int)
    clf = HistGradientBoostingClassifier(max_iter=5, categorical_features=[3], random_state=0).fit(X, y)
    reg = HistGradientBoostingRegressor(max_iter=5, random_state=0).fit(X[:, :3], X[:, 0])
    w("benign", "sklearn3/hgb_categorical.joblib", joblib_bytes(clf), "sklearn", "CLEAN: HistGradientBoostingClassifier with a categorical feature, joblib.dump", False)
    w("benign", "sklearn3/hgb_categorical.p5.pkl", pickled(clf, 5), "sklearn", "CLEAN: the same classifier, pickle protocol 5", False)
    w("benign", "sklearn3/hgb_regressor.p2.pkl", pickled(reg, 2), "sklearn", "CLEAN: HistGradientBoostingRegressor, pickle protocol 2", False)

    def hostile(model, edit):
        m = copy.deepcopy(model)
        edit(m)
        return m

    def set_node(field, value, node=0):
        def edit(m):
            m._predictors[0][0].nodes[field][node] = value

        return edit

    def bad_bitset(m):
        for p in m._predictors[0]:
            idx = np.where(p.nodes["is_categorical"] == 1)[0]
            if len(idx):
                p.nodes["bitset_idx"][idx[0]] = 77
                return
        raise AssertionError("no categorical split")

    w("malicious", "sklearn-tree3/hgb-left-out-of-range.joblib", joblib_bytes(hostile(reg, set_node("left", 100000))), "sklearn", "FLAGGED: HistGradientBoosting predictor node whose left child is outside the node array (out-of-bounds read in predict)", False)
    w("malicious", "sklearn-tree3/hgb-left-out-of-range.p5.pkl", pickled(hostile(reg, set_node("left", 100000)), 5), "sklearn", "FLAGGED: the same predictor, protocol 5 (_frombuffer)", False)
    w("malicious", "sklearn-tree3/hgb-right-cycle.p2.pkl", pickled(hostile(reg, set_node("right", 0)), 2), "sklearn", "FLAGGED: HistGradientBoosting predictor node whose right child is itself (predict loops forever)", False)
    w("malicious", "sklearn-tree3/hgb-bitset-out-of-range.joblib", joblib_bytes(hostile(clf, bad_bitset)), "sklearn", "FLAGGED: HistGradientBoosting categorical split whose bitset index is outside the bitsets", False)


# ------------------------------------------------------------------------------------------------------
# zip layouts
# ------------------------------------------------------------------------------------------------------


class Unseekable(io.RawIOBase):
    """A write-only stream without tell/seek: zipfile then writes data descriptors."""

    def __init__(self):
        self.buf = bytearray()

    def writable(self):
        return True

    def write(self, b):
        self.buf += b
        return len(b)


def descriptor_zip(members):
    out = Unseekable()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            with z.open(info, "w") as f:
                f.write(data)
    return bytes(out.buf)


def local_header(name, data, method=0, flags=0):
    nb = name.encode()
    return struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, method, 0, 0x21, zlib.crc32(data), len(data), len(data), len(nb), 0) + nb + data


def central(name, data, offset, method=0, flags=0):
    nb = name.encode()
    return struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, flags, method, 0, 0x21, zlib.crc32(data), len(data), len(data), len(nb), 0, 0, 0, 0, 0o644 << 16, offset) + nb


def end_record(count, cd, cd_off):
    return struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(cd), cd_off, 0)


def write_zip_layouts(g):
    w = g.write
    sd, _ = g.torch_state_dict()
    storages: list = []
    good = g.torch_pickle(sd, storages)
    w("benign", "torch3/data-descriptors.pt", descriptor_zip([("archive/data.pkl", good), ("archive/byteorder", b"little"), ("archive/version", b"3\n")]), "torch", "CLEAN: torch-layout zip written by zipfile to an unseekable stream (data descriptors)")
    w("malicious", "torch3/data-descriptors.pt", descriptor_zip([("archive/data.pkl", EVIL), ("archive/version", b"3\n")]), "torch", "DANGEROUS: os.system — data.pkl behind a data descriptor (sizes only after the data)")
    # tensors first, data.pkl last (as large checkpoints stream their storages)
    w("malicious", "torch3/data-pkl-last.pt", g.zip_bytes([("archive/data/0", b"\0" * 4096), ("archive/data/1", b"\1" * 4096), ("archive/version", b"3\n"), ("archive/data.pkl", EVIL)]), "torch", "DANGEROUS: os.system — data.pkl after the storages")
    # two central-directory entries on one local header
    lh = local_header("archive/data.pkl", EVIL)
    ver = local_header("archive/version", b"3\n")
    cd = central("archive/data.pkl", EVIL, 0) + central("archive/version", b"3\n", len(lh)) + central("archive/extra.pkl", EVIL, 0)
    body = lh + ver
    w("malicious", "torch3/overlapping-entries.pt", body + cd + end_record(3, cd, len(body)), "torch", "FLAGGED or REJECT: os.system — two central-directory entries share one local header")
    # a member whose local header sits inside another member's stored data
    inner = local_header("archive/data.pkl", EVIL)
    outer_data = b"\0" * 32 + inner + b"\0" * 32
    outer = local_header("archive/data/0", outer_data)
    inner_at = 30 + len("archive/data/0") + 32
    cd = central("archive/data/0", outer_data, 0) + central("archive/data.pkl", EVIL, inner_at)
    w("malicious", "torch3/member-inside-member.pt", outer + cd + end_record(2, cd, len(outer)), "torch", "DANGEROUS: os.system — data.pkl's local header lies inside a storage member's data")
    # a member only a streaming reader sees (no central-directory entry)
    hidden = local_header("archive/data.pkl", EVIL)
    shown = local_header("archive/version", b"3\n")
    cd = central("archive/version", b"3\n", len(hidden))
    w("malicious", "torch3/local-only-member.pt", hidden + shown + cd + end_record(1, cd, len(hidden + shown)), "torch", "FLAGGED or REJECT: os.system — a member in a local header the central directory does not list")
    # central directory says stored, local header says deflated
    lh = local_header("archive/data.pkl", EVIL, method=8)
    cd = central("archive/data.pkl", EVIL, 0, method=0)
    w("malicious", "torch3/method-mismatch.pt", lh + cd + end_record(1, cd, len(lh)), "torch", "DANGEROUS: os.system — local header claims deflate, central directory stored")
    # a tar inside a zip, a zip inside a tar member named like tensor data
    tar = g.tar_bytes([("archive/data.pkl", EVIL, tarfile.REGTYPE)])
    w("malicious", "nested3/tar-in-zip.zip", g.zip_bytes([("bundle/model.tar", tar)]), "nested", "DANGEROUS: os.system — a tar holding data.pkl inside a zip")
    w("malicious", "nested3/zip-in-tar-data-name.tar", g.tar_bytes([("archive/data/0", g.zip_bytes([("archive/data.pkl", EVIL)]), tarfile.REGTYPE)]), "nested", "DANGEROUS: os.system — a torch zip stored as a tar member named like a storage")
    # a directory entry carrying data
    lh = local_header("archive/", EVIL)
    cd = central("archive/", EVIL, 0)
    w("malicious", "torch3/directory-entry-with-data.pt", lh + cd + end_record(1, cd, len(lh)), "torch", "FLAGGED or REJECT: os.system — a directory entry ('archive/') whose data is a pickle")


# ------------------------------------------------------------------------------------------------------
# pickles, templates
# ------------------------------------------------------------------------------------------------------


NEXT_BUFFER, READONLY_BUFFER, BYTEARRAY8 = b"\x97", b"\x98", b"\x96"


def write_pickle3(g):
    w = g.write
    body = pa.body(EVIL)
    w("malicious", "pickle3/payload-then-next-buffer.pkl", pa.proto(5) + body + pa.POP + NEXT_BUFFER + pa.STOP, "pickle", "DANGEROUS: os.system — protocol 5, NEXT_BUFFER (out-of-band data) after the payload")
    w("malicious", "pickle3/payload-in-readonly-buffer-list.pkl", pa.proto(5) + pa.EMPTY_LIST + BYTEARRAY8 + struct.pack("<Q", 3) + b"abc" + READONLY_BUFFER + pa.APPEND + body + pa.APPEND + pa.STOP, "pickle", "DANGEROUS: os.system — protocol 5 bytearray made read-only beside the payload")
    # a vectorize admitted shape abused: pyfunc is a denied function
    w("malicious", "pickle3/vectorize-os-system.pkl", pa.proto(2) + pa.glob("numpy", "vectorize") + pa.EMPTY_TUPLE + pa.NEWOBJ + pa.EMPTY_DICT + pa.MARK + pa.ustr("pyfunc") + pa.glob("os", "system") + pa.SETITEMS + pa.BUILD + pa.STOP, "pickle", "DANGEROUS: os.system — numpy.vectorize whose pyfunc is os.system")
    w("malicious", "pickle3/inert-dunder-then-setstate.pkl", pa.proto(2) + pa.glob("collections", "OrderedDict") + pa.EMPTY_TUPLE + pa.NEWOBJ + pa.EMPTY_DICT + pa.MARK + pa.ustr("__doc__") + pa.ustr("x") + pa.ustr("__setstate__") + pa.glob("os", "system") + pa.SETITEMS + pa.BUILD + pa.ustr("id") + pa.BUILD + pa.STOP, "pickle", "DANGEROUS: os.system — an inert __doc__ beside __setstate__ in one BUILD state")
    # payload pickled inside a numpy object array inside a scipy frozen distribution's args
    from scipy import stats

    d = stats.norm(0, 1)
    d.args = (np.array([Hostile(eval, "1")], dtype=object),)
    w("malicious", "pickle3/object-array-in-frozen-args.pkl", pickled(d, 2), "pickle", "DANGEROUS: builtins.eval — inside an object array in a frozen distribution's args", False)


TEMPLATES3 = {
    "sum-attribute.gguf": "{{ messages|sum(attribute='__class__') }}",
    "sort-attribute-concat.gguf": "{{ messages|sort(attribute='__cla' ~ 'ss__') }}",
    "unique-attribute.gguf": "{% set n = '__init__' %}{{ messages|unique(attribute=n) }}",
    "min-attribute.gguf": "{{ messages|min(attribute='_private') }}",
    "dictsort-then-attr.gguf": "{% for k, v in {'a': 1}|dictsort %}{{ v|attr('__class__') }}{% endfor %}",
    "macro-default-arg.gguf": "{% macro m(a='__globals__') %}{{ m|attr(a) }}{% endmacro %}{{ m() }}",
    "filter-chain-join.gguf": "{{ messages|attr(['_', '_class_', '_']|join) }}",
    "string-slice-step.gguf": "{{ messages|attr('x__ssalc__'[1:][::-1]) }}",
    "call-block.gguf": "{% call(x) messages|map(attribute='__class__') %}{{ x }}{% endcall %}",
}


def write_templates3(g):
    for name, t in TEMPLATES3.items():
        g.write("malicious", f"gguf3/{name}", g.gguf_bytes({"tokenizer.chat_template": t}), "gguf", "DANGEROUS: chat-template injection — reaches Python internals", True)


# ------------------------------------------------------------------------------------------------------
# TensorFlow Lite and SavedModel (TensorFlow's virtualenv)
# ------------------------------------------------------------------------------------------------------


def write_tensorflow(g):
    python = os.environ.get("TF_PYTHON")
    if not python:
        raise SystemExit("TF_PYTHON is not set: run the generator through scripts/scan-corpus/run.sh")
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, KERAS_BACKEND="tensorflow")
        out = subprocess.run([python, "-W", "ignore", os.path.join(os.path.dirname(__file__), "tf_models.py"), tmp], check=True, capture_output=True, text=True, env=env).stdout
        for line in out.splitlines():
            if not line.startswith("["):
                continue
            path, cls, expect, stable = json.loads(line)
            kind, _, name = path.partition("/")
            with open(os.path.join(tmp, path), "rb") as f:
                g.write(kind, name, f.read(), cls, expect, stable)


def write_all(g):
    write_scipy(g)
    write_pathlib(g)
    write_hgb(g)
    write_zip_layouts(g)
    write_pickle3(g)
    write_templates3(g)
    write_tensorflow(g)
