"""dmh's C Hamming kernels (dmh.index.native): the ``scan`` and ``mih`` backends rank exactly
as the evaluation (numpy, dmh.retrieval) on any code length up to 64 bits, skewed bits,
huge tie groups and adds in parts; the bit layout keeps distances (a hand case); the
multi-index tables split as documented; no compiler is a one-line error."""
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from dmh.index import native, open_backend
from dmh.index.native import NativeUnavailable, as_words
from dmh.retrieval import hamming_distances, hamming_radius_search, hamming_topk

set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "dmh-hypothesis")


def _codes(rng, n, n_bits, p):
    return np.packbits((rng.random((n, n_bits)) < p).astype(np.uint8), axis=1)


def test_words_keep_the_bits_and_the_distances():
    # 12 bits 1000 0000 | 0001: packbits -> 0x80, 0x10; the partial byte shifts down by 4
    code = np.packbits(np.array([[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]], np.uint8), axis=1)
    assert code.tolist() == [[0x80, 0x10]] and as_words(code, 12).tolist() == [0x0180]
    assert as_words(np.full((1, 6), 255, np.uint8), 48).tolist() == [2**48 - 1]
    rng = np.random.default_rng(0)
    for n_bits in (5, 12, 33, 48, 64):
        a, b = _codes(rng, 20, n_bits, 0.4), _codes(rng, 30, n_bits, 0.6)
        wa, wb = as_words(a, n_bits), as_words(b, n_bits)
        assert (wa < 2**n_bits).all()  # the K bits are the low K
        got = np.bitwise_count(wa[:, None] ^ wb[None]).astype(np.int64)
        np.testing.assert_array_equal(got, hamming_distances(a, b))


@settings(max_examples=60, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(n_bits=st.integers(1, 64), n=st.integers(1, 400), p=st.sampled_from([0.5, 0.1, 0.97]),
       seed=st.integers(0, 2**16), tables=st.integers(1, 6), k=st.integers(1, 50),
       radius=st.integers(0, 10))
def test_kernels_equal_the_evaluation_on_any_codes(n_bits, n, p, seed, tables, k, radius):
    rng = np.random.default_rng(seed)
    g, q = _codes(rng, n, n_bits, p), _codes(rng, 7, n_bits, p)
    k = min(k, n)
    want = np.stack(hamming_topk(q, g, k))
    backends = [open_backend("scan", n_bits)]
    if -(-n_bits // min(tables, n_bits)) <= 24:
        backends.append(open_backend("mih", n_bits, tables=min(tables, n_bits)))
    for backend in backends:
        backend.add(g[: n // 2])
        backend.add(g[n // 2:])  # positions continue; mih re-sorts its tables
        np.testing.assert_array_equal(np.stack(backend.search(q, k)), want)
        dist = hamming_distances(q, g)
        for row, ((d, pos), inside) in enumerate(zip(backend.search_radius(q, radius),
                                                    hamming_radius_search(q, g, radius))):
            np.testing.assert_array_equal(np.sort(pos), inside)
            np.testing.assert_array_equal(np.lexsort((pos, d)), np.arange(len(pos)))
            np.testing.assert_array_equal(d, dist[row, pos])


@pytest.mark.parametrize("kind", ["scan", "mih"])
def test_tie_groups_wider_than_the_buffers(kind):
    """3,000 copies of one code behind 40 others: the top 5 are the first 5 copies, and a
    radius search returns all 3,000 (both outgrow the kernels' first buffers)."""
    rng = np.random.default_rng(4)
    g = np.concatenate([_codes(rng, 40, 48, 0.5), np.zeros((3000, 6), np.uint8)])
    backend = open_backend(kind, 48)
    backend.add(g)
    d, i = backend.search(np.zeros((1, 6), np.uint8), 5)
    assert d.tolist() == [[0] * 5] and i.tolist() == [list(range(40, 45))]
    (d, i), = backend.search_radius(np.zeros((1, 6), np.uint8), 0)
    assert len(i) == 3000 and i[0] == 40 and i[-1] == 3039 and not d.any()


def test_mih_tables_split_the_bits():
    assert open_backend("mih", 48).bits.tolist() == [16, 16, 16]
    assert open_backend("mih", 36).bits.tolist() == [12, 12, 12]
    assert open_backend("mih", 12).bits.tolist() == [12]
    b = open_backend("mih", 50, tables=4)
    assert b.bits.tolist() == [13, 13, 12, 12] and b.shift.tolist() == [0, 13, 26, 38]
    with pytest.raises(ValueError, match="use at least 3 tables"):
        open_backend("mih", 64, tables=2)
    with pytest.raises(ValueError, match="1 to 64 bits.*flat backend"):
        open_backend("scan", 65)


def test_no_compiler_is_a_one_line_error(monkeypatch):
    monkeypatch.setattr(native.shutil, "which", lambda name: None)
    with pytest.raises(NativeUnavailable, match="no C compiler was found: install gcc") as err:
        native.library_path()
    assert "\n" not in str(err.value) and isinstance(err.value, ImportError)  # the CLI's catch


def test_the_build_is_keyed_by_this_cpu(monkeypatch, tmp_path):
    monkeypatch.setenv("DMH_CACHE", str(tmp_path))
    first = native.library_path()
    monkeypatch.setattr(native, "_cpu_signature", lambda: "another cpu")
    assert native.library_path() != first and first.exists()
