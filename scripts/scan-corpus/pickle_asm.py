"""A small pickle assembler: writes opcode sequences byte by byte, so malicious corpus files are built
without ever creating (or calling) the objects they name. Nothing here imports or runs a payload."""

import struct

PROTO, STOP, MARK, POP, TUPLE, EMPTY_TUPLE, TUPLE1, TUPLE2, TUPLE3 = b"\x80", b".", b"(", b"0", b"t", b")", b"\x85", b"\x86", b"\x87"
REDUCE, BUILD, NEWOBJ, OBJ, EMPTY_DICT, SETITEM, SETITEMS, EMPTY_LIST, APPEND = b"R", b"b", b"\x81", b"o", b"}", b"s", b"u", b"]", b"a"
NONE, NEWTRUE, NEWFALSE, MEMOIZE, STACK_GLOBAL = b"N", b"\x88", b"\x89", b"\x94", b"\x93"


def proto(n: int) -> bytes:
    return PROTO + bytes([n])


def glob(module: str, name: str) -> bytes:
    """GLOBAL (protocol 0 text form, valid in every protocol)."""
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def ustr(s: str) -> bytes:
    b = s.encode()
    return (b"\x8c" + bytes([len(b)]) + b) if len(b) < 256 else (b"X" + struct.pack("<I", len(b)) + b)


def stack_global(module: str, name: str) -> bytes:
    return ustr(module) + MEMOIZE + ustr(name) + MEMOIZE + STACK_GLOBAL


def text0(s: str) -> bytes:
    """Protocol-0 STRING."""
    return b"S'" + s.replace("\\", "\\\\").replace("'", "\\'").encode() + b"'\n"


def bint(n: int) -> bytes:
    if 0 <= n < 256:
        return b"K" + bytes([n])
    return b"J" + struct.pack("<i", n)


def call(module: str, name: str, *args: str, protocol: int = 2, stack: bool = False) -> bytes:
    """module.name(*args) with REDUCE: the classic payload shape."""
    head = proto(protocol) if protocol >= 2 else b""
    callee = stack_global(module, name) if stack else glob(module, name)
    if protocol == 0:
        return callee + MARK + b"".join(text0(a) for a in args) + TUPLE + REDUCE + STOP
    return head + callee + MARK + b"".join(ustr(a) for a in args) + TUPLE + REDUCE + STOP


def body(p: bytes) -> bytes:
    """A pickle without its PROTO header and STOP (to embed as a value)."""
    if p.startswith(PROTO):
        p = p[2:]
    return p[:-1] if p.endswith(STOP) else p
