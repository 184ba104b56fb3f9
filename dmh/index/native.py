"""The C Hamming kernels (hamming_kernels.c), compiled for this machine on first use.

faiss's binary flat index scans 10^7 48-bit codes at about twice the time the machine
needs to read them (benchmarks/bench_index.py); the scan here keeps pace with the read
(AVX-512 popcount where the CPU has it, else the compiler's popcount), and the same
library carries the multi-index hashing search. It is built with the system's C compiler
(``-O3 -march=native``) into ``<DMH_CACHE>/native/``, keyed by the source, the flags and
this CPU, so a cache shared between machines never loads a library built for another CPU.
Nothing is downloaded; without a compiler the ``scan`` and ``mih`` backends say so in one
line and ``flat`` (faiss) still works.
"""
from __future__ import annotations

import ctypes
import functools
import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ..core.paths import cache_root
from ..core.provenance import cpu_flags, cpu_name

SOURCE = Path(__file__).with_name("hamming_kernels.c")
FLAGS = ("-O3", "-march=native", "-shared", "-fPIC", "-std=c99")


class NativeUnavailable(ImportError):
    """The kernels cannot be built here (no C compiler, or it failed): like a missing
    optional package, the CLI prints it as a one-line error."""


def _cpu_signature() -> str:
    # -march=native builds for this CPU: its name and feature flags key the cached build
    return cpu_name() + "\n" + " ".join(sorted(cpu_flags()))


def _compiler() -> str:
    found = shutil.which("gcc") or shutil.which("cc") or shutil.which("clang")
    if not found:
        raise NativeUnavailable("the scan and mih index backends compile a small C kernel "
                                "on first use and no C compiler was found: install gcc "
                                "(e.g. apt install gcc) or use the flat backend")
    return found


def library_path() -> Path:
    """Where this machine's build lives (built if missing)."""
    cc = _compiler()
    key = hashlib.sha256(SOURCE.read_bytes() + " ".join((cc,) + FLAGS).encode()
                         + _cpu_signature().encode()).hexdigest()[:16]
    out = cache_root() / "native" / f"hamming-{key}.so"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
            built = Path(tmp) / out.name
            done = subprocess.run([cc, *FLAGS, "-o", str(built), str(SOURCE)],
                                  capture_output=True, text=True)
            if done.returncode != 0:
                first = (done.stderr.strip().splitlines() or ["no message"])[0]
                raise NativeUnavailable(f"compiling {SOURCE.name} with {cc} failed ({first}); "
                                        "use the flat backend")
            built.replace(out)  # atomic: a concurrent loader sees the whole file or none
    return out


@functools.lru_cache(maxsize=1)
def kernels() -> ctypes.CDLL:
    """The loaded library. Arrays pass as raw addresses (``a.ctypes.data``): ctypes'
    checked array arguments cost more than a small search, so callers pass only arrays
    they made themselves, of the kernel's dtypes, C-contiguous."""
    lib = ctypes.CDLL(str(library_path()))
    i64, u64, cint, P = ctypes.c_int64, ctypes.c_uint64, ctypes.c_int, ctypes.c_void_p
    lib.dmh_scan.restype = i64
    lib.dmh_scan.argtypes = [P, i64, u64, cint, i64, cint, P, P, i64]
    lib.dmh_mih.restype = i64
    lib.dmh_mih.argtypes = [cint, P, P, P, P, P, u64, cint, i64, cint, P, P, i64]
    lib.dmh_simd_width.restype, lib.dmh_simd_width.argtypes = cint, []
    return lib


def kernel_path() -> str:
    """The inner loop this machine's build runs, for benchmark records."""
    return ("AVX-512 VPOPCNTDQ, 8 codes a step" if kernels().dmh_simd_width() == 512
            else "scalar popcount (no AVX-512 VPOPCNTDQ on this CPU)")


def as_words(codes: np.ndarray, n_bits: int) -> np.ndarray:
    """(n, ceil(K / 8)) packed uint8 codes -> (n,) uint64 whose K bits are the low K.

    Byte i fills bits 8i..8i+7 (little-endian view); a last, partial byte (its bits at the
    top, as np.packbits leaves them) is shifted down. A fixed bijection of the bits, so
    Hamming distances are unchanged, and the multi-index tables can cut bits [0, K)."""
    out = np.zeros((codes.shape[0], 8), np.uint8)
    out[:, :codes.shape[1]] = codes
    if n_bits % 8:
        out[:, n_bits // 8] >>= 8 - n_bits % 8
    return out.view("<u8").ravel().astype(np.uint64)


class Kept:
    """Output buffers, reused across queries, for the (distance, position) pairs a kernel
    keeps; grown (x4) and the query asked again when a kernel reports them too small."""

    def __init__(self, cap: int) -> None:
        self._grow(cap)

    def _grow(self, cap: int) -> None:
        self.cap, self.d, self.p = cap, np.empty(cap, np.int32), np.empty(cap, np.int64)
        self.args = (self.d.ctypes.data, self.p.ctypes.data, cap)

    def run(self, call) -> tuple[np.ndarray, np.ndarray]:
        """``call(d_address, p_address, cap) -> m``; the kept sorted by (distance, position)."""
        while (m := call(*self.args)) < 0:
            self._grow(self.cap * 4)
        d, p = self.d[:m], self.p[:m]
        order = np.lexsort((p, d))
        return d[order], p[order]
