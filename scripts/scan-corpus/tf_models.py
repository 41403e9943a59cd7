"""TensorFlow files for the scanner corpus: TensorFlow Lite models written by TensorFlow's own converter
and its flatbuffer tools (tensorflow/lite/tools/flatbuffer_utils.py), and SavedModels written by
tf.saved_model.save; run by variants3.py with the TensorFlow
virtualenv of run.sh (TensorFlow pins an h5py the main corpus venv does not). Writes each file into
OUT_DIR and prints one JSON row per file: [name, kind, class, expectation, stable].

Nothing is executed: the malicious variants only name custom or Flex kernels (a loader would look them
up and run them).
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.lite.python import schema_py_generated as schema  # noqa: E402
from tensorflow.lite.tools import flatbuffer_utils as fbu  # noqa: E402

OUT = sys.argv[1]
ROWS = []
CUSTOM = schema.BuiltinOperator.CUSTOM


def emit(kind, name, data, cls, expect, stable=False):
    path = os.path.join(OUT, kind, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    ROWS.append([f"{kind}/{name}", cls, expect, stable])


def convert(fn, specs, select=False, custom=False, optimize=None, representative=None):
    concrete = tf.function(fn, input_signature=specs).get_concrete_function()
    conv = tf.lite.TFLiteConverter.from_concrete_functions([concrete], fn)
    if select:
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS, tf.lite.OpsSet.SELECT_TF_OPS]
    if custom:
        conv.allow_custom_ops = True
    if optimize:
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
    if representative is not None:
        conv.representative_dataset = representative
    return conv.convert()


tf.random.set_seed(0)
rng = np.random.RandomState(0)
W1 = tf.constant(rng.rand(4, 8).astype("float32"))
W2 = tf.constant(rng.rand(8, 2).astype("float32"))
K = tf.constant(rng.rand(3, 3, 1, 4).astype("float32"))


def mlp(x):
    return tf.nn.softmax(tf.matmul(tf.nn.relu(tf.matmul(x, W1)), W2))


def cnn(x):
    y = tf.nn.relu(tf.nn.conv2d(x, K, strides=1, padding="SAME"))
    y = tf.nn.max_pool2d(y, 2, 2, "VALID")
    return tf.reduce_mean(y, axis=[1, 2])


def lstm_like(x):
    return tf.math.cumsum(tf.tanh(x), axis=1)


def needs_flex(x):
    # MatrixInverse has no TFLite builtin kernel: SELECT_TF_OPS keeps it as a Flex op
    return tf.linalg.inv(x) * 2.0


def needs_custom(x):
    # neither does Svd; allow_custom_ops writes it as a custom op for the runtime to provide
    return tf.linalg.svd(x, compute_uv=False) * 2.0


def rep():
    for _ in range(4):
        yield [rng.rand(1, 4).astype("float32")]


vec = [tf.TensorSpec([1, 4], tf.float32)]
img = [tf.TensorSpec([1, 8, 8, 1], tf.float32)]
seq = [tf.TensorSpec([1, 5, 3], tf.float32)]
mat = [tf.TensorSpec([3, 3], tf.float32)]

mlp_bytes = convert(mlp, vec)
emit("benign", "tflite/mlp.tflite", mlp_bytes, "tflite", "CLEAN: TFLite MLP (builtin FULLY_CONNECTED, RELU, SOFTMAX) from TFLiteConverter")
emit("benign", "tflite/cnn.tflite", convert(cnn, img), "tflite", "CLEAN: TFLite CNN (CONV_2D, MAX_POOL_2D, MEAN) from TFLiteConverter")
emit("benign", "tflite/cumsum.tflite", convert(lstm_like, seq), "tflite", "CLEAN: TFLite TANH + CUMSUM (a builtin code above 127, stored in builtin_code)")
emit("benign", "tflite/mlp_dynamic_range.tflite", convert(mlp, vec, optimize=True), "tflite", "CLEAN: TFLite MLP with dynamic-range quantization")
emit("benign", "tflite/mlp_int8.tflite", convert(mlp, vec, optimize=True, representative=rep), "tflite", "CLEAN: TFLite MLP with full-integer quantization (QUANTIZE/DEQUANTIZE)")
flex_bytes = convert(needs_flex, mat, select=True)
emit("benign", "tflite/select_tf_ops_matrix_inverse.tflite", flex_bytes, "tflite", "CLEAN: TFLite with a Flex op (FlexMatrixInverse, SELECT_TF_OPS): its NodeDef runs MatrixInverse")
emit("malicious", "tflite/custom_op_converter.tflite", convert(needs_custom, mat, custom=True), "tflite", "FLAGGED: TFLite custom op Svd (allow_custom_ops): native code registered by the serving process")


def with_codes(data, edit):
    model = fbu.read_model_from_bytearray(bytearray(data))
    edit(model)
    return bytes(fbu.convert_object_to_bytearray(model))


def rename_custom(new):
    def edit(m):
        for oc in m.operatorCodes:
            if oc.builtinCode == CUSTOM or oc.deprecatedBuiltinCode == CUSTOM:
                oc.customCode = new

    return edit


def make_custom(new, deprecated=CUSTOM, builtin=CUSTOM):
    def edit(m):
        oc = m.operatorCodes[0]
        oc.deprecatedBuiltinCode = deprecated
        oc.builtinCode = builtin
        oc.customCode = new

    return edit


emit("malicious", "tflite/flex_eager_pyfunc.tflite", with_codes(flex_bytes, rename_custom("FlexEagerPyFunc")), "tflite", "DANGEROUS: TFLite Flex op FlexEagerPyFunc (runs Python in the serving process)")
emit("malicious", "tflite/flex_write_file.tflite", with_codes(flex_bytes, rename_custom("FlexWriteFile")), "tflite", "FLAGGED: TFLite Flex op FlexWriteFile (writes a file named at run time)")
emit("malicious", "tflite/custom_op_renamed_builtin.tflite", with_codes(mlp_bytes, make_custom("FULLY_CONNECTED")), "tflite", "FLAGGED: TFLite builtin replaced by a custom op spelled like a builtin")
emit("malicious", "tflite/custom_op_deprecated_byte.tflite", with_codes(mlp_bytes, make_custom("MyKernel", deprecated=CUSTOM, builtin=0)), "tflite", "FLAGGED: TFLite custom op marked only in deprecated_builtin_code")
emit("malicious", "tflite/custom_op_placeholder.tflite", with_codes(mlp_bytes, make_custom("MyKernel", deprecated=127, builtin=CUSTOM)), "tflite", "FLAGGED: TFLite custom op behind the PLACEHOLDER_FOR_GREATER_OP_CODES byte")
emit("malicious", "tflite/flex_as_model.bin", with_codes(flex_bytes, rename_custom("FlexEagerPyFunc")), "tflite", "DANGEROUS: TFLite Flex EagerPyFunc op named .bin")
emit("malicious", "tflite/flex_pyfunc_named.onnx", with_codes(flex_bytes, rename_custom("FlexPyFunc")), "tflite", "DANGEROUS: TFLite Flex PyFunc op named .onnx")


def flex_options(name: str, node_def: bytes) -> bytes:
    """The FlexBuffer the converter writes for a Flex op: an untyped vector [op name, NodeDef] (32-bit widths)."""
    out = bytearray()

    def string(b: bytes) -> int:
        out.extend(len(b).to_bytes(4, "little"))
        at = len(out)
        out.extend(b + b"\0")
        while len(out) % 4:
            out.append(0)
        return at

    s0, s1 = string(name.encode()), string(node_def)
    out.extend((2).to_bytes(4, "little"))
    vec = len(out)
    out.extend((vec - s0).to_bytes(4, "little"))
    out.extend((vec + 4 - s1).to_bytes(4, "little"))
    out.extend(bytes([(5 << 2) | 2, (5 << 2) | 2]))
    while len(out) % 4:
        out.append(0)
    root = len(out)
    out.extend((root - vec).to_bytes(4, "little"))
    out.extend(bytes([(10 << 2) | 2, 4]))
    return bytes(out)


def swap_node_def(op_name: str, attrs=None):
    from tensorflow.core.framework import node_def_pb2

    def edit(m):
        for g in m.subgraphs:
            for op in g.operators:
                code = m.operatorCodes[op.opcodeIndex]
                if (code.customCode or b"").startswith(b"Flex") if isinstance(code.customCode, bytes) else (code.customCode or "").startswith("Flex"):
                    nd = node_def_pb2.NodeDef(name="swapped", op=op_name)
                    for k, v in (attrs or {}).items():
                        nd.attr[k].s = v
                    keep = code.customCode.decode() if isinstance(code.customCode, bytes) else code.customCode
                    op.customOptions = list(flex_options(keep[4:], nd.SerializeToString()))

    return edit


emit("malicious", "tflite/flex_nodedef_pyfunc.tflite", with_codes(flex_bytes, swap_node_def("EagerPyFunc", {"token": b"pyfunc_0"})), "tflite", "DANGEROUS: TFLite Flex op named FlexMatrixInverse whose NodeDef (what the delegate runs) is EagerPyFunc")
emit("malicious", "tflite/flex_nodedef_printv2_file.tflite", with_codes(flex_bytes, swap_node_def("PrintV2", {"output_stream": b"file:///etc/cron.d/x"})), "tflite", "FLAGGED: TFLite Flex op whose NodeDef is PrintV2 appending to a file")


def garbage_options(m):
    for g in m.subgraphs:
        for op in g.operators:
            if op.customOptions is not None and len(op.customOptions):
                op.customOptions = list(b"\xff" * 7)


emit("malicious", "tflite/flex_garbage_options.tflite", with_codes(flex_bytes, garbage_options), "tflite", "FLAGGED: TFLite Flex op whose custom options are not a FlexBuffer")


def far_buffer(m):
    b = schema.BufferT()
    b.offset = 1 << 40
    b.size = 64
    m.buffers.append(b)


emit("invalid", "tflite/buffer_outside_file.tflite", with_codes(mlp_bytes, far_buffer), "tflite", "REJECT: TFLite buffer offset past the end of the file")
emit("invalid", "tflite/truncated.tflite", mlp_bytes[: len(mlp_bytes) // 3], "tflite", "REJECT: truncated TFLite FlatBuffer")



# SavedModels: every file of the directory tf.saved_model.save writes
class Scorer(tf.Module):
    def __init__(self):
        super().__init__()
        self.w = tf.Variable(rng.rand(4, 2).astype("float32"), name="w")
        self.b = tf.Variable(np.zeros(2, "float32"), name="b")
        self.table = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(["a", "b"], [0, 1]), -1)

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32)])
    def __call__(self, x):
        return tf.nn.softmax(tf.matmul(x, self.w) + self.b)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def lookup(self, keys):
        return self.table.lookup(keys)


def saved_model(module, name, what):
    with tempfile.TemporaryDirectory() as d:
        tf.saved_model.save(module, d, signatures={"serving_default": module.__call__})
        for root, _dirs, files in os.walk(d):
            for f in sorted(files):
                p = os.path.join(root, f)
                rel = os.path.relpath(p, d)
                with open(p, "rb") as fh:
                    emit("benign", f"tf3/{name}/{rel}", fh.read(), "tf", f"CLEAN: {what} ({rel}), tf.saved_model.save")


import tempfile  # noqa: E402

saved_model(Scorer(), "scorer", "a tf.Module with variables, a lookup table and two functions")
keras_model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(3, activation="relu"), tf.keras.layers.Dense(1)])


class KerasServe(tf.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32)])
    def __call__(self, x):
        return self.m(x)


saved_model(KerasServe(keras_model), "keras_dense", "a Keras Dense model served from a tf.Module")

for r in ROWS:
    print(json.dumps(r))
