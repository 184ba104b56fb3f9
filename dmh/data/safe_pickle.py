"""Pickled numpy arrays read without running code and without handing numpy a crafted state.

A pickle names callables to run on load, and numpy's own array and dtype rebuilders trust
their state (a fuzzed state crashed the interpreter). So this unpickler resolves numpy's
names to stand-ins defined here: a dtype may only be a plain number type (bool, int, uint,
float), an array is rebuilt with `np.frombuffer` after its shape, type and byte count agree.
Lists, tuples, numbers, strings and bytes pass as usual; every other global is refused.
"""
from __future__ import annotations

import io
import pickle
import warnings

import numpy as np


class _NdarrayName:
    """What `numpy.ndarray` resolves to: only a marker for `_reconstruct`."""


class _Dtype:
    """A checked dtype; its BUILD state may only set the byte order."""

    def __init__(self, spec, align=False, copy=False) -> None:
        if isinstance(spec, bytes):
            spec = spec.decode("latin1")
        if not isinstance(spec, str):
            raise pickle.UnpicklingError(f"refused dtype spec of type {type(spec).__name__}")
        try:
            dtype = np.dtype(spec)
        except (TypeError, ValueError) as e:
            raise pickle.UnpicklingError(f"refused dtype {spec!r} ({e})") from None
        if dtype.kind not in "biuf" or dtype.fields is not None or dtype.subdtype is not None:
            raise pickle.UnpicklingError(f"refused dtype {dtype} (only plain numbers)")
        self.dtype = dtype

    def __setstate__(self, state) -> None:
        if isinstance(state, tuple) and len(state) > 1 and state[1] in ("<", ">"):
            self.dtype = self.dtype.newbyteorder(state[1])


def _as_bytes(raw) -> bytes:
    if isinstance(raw, str):  # Python 2's str, read as latin1
        raw = raw.encode("latin1")
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise pickle.UnpicklingError(f"refused array data of type {type(raw).__name__}")
    return bytes(raw)


def _array(raw, dtype, shape, fortran: bool) -> np.ndarray:
    if not isinstance(dtype, _Dtype):
        raise pickle.UnpicklingError("refused an array whose dtype is not a plain number type")
    if not isinstance(shape, tuple) or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise pickle.UnpicklingError(f"refused array shape {shape!r}")
    raw = _as_bytes(raw)
    count = 1
    for n in shape:
        count *= n
    if count * dtype.dtype.itemsize != len(raw):
        raise pickle.UnpicklingError(f"array of shape {shape} and {dtype.dtype} needs "
                                     f"{count * dtype.dtype.itemsize} bytes, the file has {len(raw)}")
    return np.frombuffer(raw, dtype=dtype.dtype).reshape(shape, order="F" if fortran else "C").copy()


class _Array:
    """What `_reconstruct(ndarray, ...)` returns; BUILD fills it from (version,) shape, dtype,
    fortran flag, raw bytes."""

    array: np.ndarray | None = None

    def __setstate__(self, state) -> None:
        if not isinstance(state, tuple) or len(state) not in (4, 5):
            raise pickle.UnpicklingError("refused an array state of an unknown form")
        shape, dtype, fortran, raw = state[-4:]
        self.array = _array(raw, dtype, shape, bool(fortran))


def _reconstruct(cls, shape, typecode) -> _Array:
    if cls is not _NdarrayName:
        raise pickle.UnpicklingError("refused to rebuild anything but a numpy array")
    return _Array()


def _scalar(dtype, raw=None):
    return _array(raw if raw is not None else b"", dtype, (), False)[()]


def _frombuffer(buf, dtype, shape, order="C") -> np.ndarray:
    return _array(buf, dtype if isinstance(dtype, _Dtype) else _Dtype(str(dtype)), tuple(shape),
                  order == "F")


def _latin1_bytes(text: str, encoding: str = "latin1") -> bytes:
    """How Python 3 writes bytes at protocol 2: `_codecs.encode(text, "latin1")`."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise pickle.UnpicklingError(f"refused to encode bytes with {encoding!r}")
    return text.encode("latin1")


_NAMES = {"ndarray": _NdarrayName, "dtype": _Dtype, "_reconstruct": _reconstruct,
          "scalar": _scalar, "_frombuffer": _frombuffer}
_ALLOWED = {**{(mod, name): _NAMES[name] for mod, names in (
    ("numpy", ("ndarray", "dtype")), ("numpy.core.multiarray", ("_reconstruct", "scalar")),
    ("numpy._core.multiarray", ("_reconstruct", "scalar")), ("numpy.core.numeric", ("_frombuffer",)),
    ("numpy._core.numeric", ("_frombuffer",))) for name in names},
    ("_codecs", "encode"): _latin1_bytes}


class _ArrayUnpickler(pickle._Unpickler):  # the Python one: BUILD calls our __setstate__
    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        raise pickle.UnpicklingError(f"refused to load {module}.{name} (only numpy arrays of "
                                     f"numbers, lists, tuples, numbers and bytes are allowed)")


def _resolved(obj, depth: int = 0):
    """The loaded object with stand-ins replaced by numpy arrays and dtypes."""
    if depth > 100:
        raise pickle.UnpicklingError("refused: nested too deeply")
    if isinstance(obj, _Array):
        if obj.array is None:
            raise pickle.UnpicklingError("refused an array without data")
        return obj.array
    if isinstance(obj, _Dtype):
        return obj.dtype
    if isinstance(obj, (list, tuple)):
        return type(obj)(_resolved(o, depth + 1) for o in obj)
    if isinstance(obj, dict):
        return {_resolved(k, depth + 1): _resolved(v, depth + 1) for k, v in obj.items()}
    if obj is _NdarrayName:
        raise pickle.UnpicklingError("refused a bare numpy.ndarray reference")
    return obj


def safe_loads(blob: bytes):
    """`pickle.loads(blob, encoding="latin1")` restricted to plain data and numeric arrays."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _resolved(_ArrayUnpickler(io.BytesIO(blob), encoding="latin1").load())
