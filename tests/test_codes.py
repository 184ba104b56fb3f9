import numpy as np
import pytest
import torch

from dmh.codes import binarize, encode_signs, n_bytes_for, pack_bits, unpack_bits


def test_binarize_sign_zero_is_one():
    h = np.array([[-1.5, 0.0, 2.0, -0.0, -1e-12]])
    # sign(0) = +1 -> bit 1 (also for -0.0, which compares equal to 0)
    np.testing.assert_array_equal(binarize(h), [[0, 1, 1, 1, 0]])
    assert binarize(h).dtype == np.uint8


def test_binarize_accepts_torch_with_grad():
    h = torch.tensor([[0.3, -0.2], [0.0, -5.0]], requires_grad=True)
    out = binarize(h * 2)
    np.testing.assert_array_equal(out, [[1, 0], [1, 0]])
    assert isinstance(out, np.ndarray) and out.dtype == np.uint8


def test_pack_known_bytes_msb_first():
    bits = np.array([[1, 0, 0, 0, 0, 0, 0, 1, 1, 1]], dtype=np.uint8)
    # first byte 0b10000001 = 129, second byte 0b11 padded with six zeros = 192
    np.testing.assert_array_equal(pack_bits(bits), [[129, 192]])


def test_pack_unpack_roundtrip_and_padding_keeps_hamming():
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2, size=(30, 12), dtype=np.uint8)
    packed = pack_bits(bits)
    assert packed.shape == (30, 2) and packed.dtype == np.uint8
    # pad bits (last 4 of the second byte) are zero in every row
    assert np.all(packed[:, 1] & 0x0F == 0)
    np.testing.assert_array_equal(unpack_bits(packed, 12), bits)
    # Hamming distance on packed bytes == brute-force count over the 12 bits
    xor = packed[:, None, :] ^ packed[None, :, :]
    packed_dist = np.array(
        [[sum(bin(int(b)).count("1") for b in xor[i, j]) for j in range(30)] for i in range(30)]
    )
    brute = (bits[:, None, :] != bits[None, :, :]).sum(-1)
    np.testing.assert_array_equal(packed_dist, brute)


def test_encode_signs_matches_manual():
    h = np.array([[0.1, -0.1, 0.0, -3, 4, 5, -6, 7, 8]])
    # bits 1 0 1 0 1 1 0 1 | 1 -> 0b10101101 = 173, 0b10000000 = 128
    np.testing.assert_array_equal(encode_signs(h), [[173, 128]])


def test_n_bytes_for():
    assert [n_bytes_for(k) for k in (1, 8, 9, 12, 48, 64)] == [1, 1, 2, 2, 6, 8]
    with pytest.raises(ValueError):
        n_bytes_for(0)


@pytest.mark.parametrize(
    "bad",
    [np.zeros(5), np.zeros((2, 3, 4)), np.zeros((2, 0)), np.array([[1 + 1j]]), np.array([[np.nan]])],
)
def test_binarize_rejects(bad):
    with pytest.raises(ValueError):
        binarize(bad)


@pytest.mark.parametrize(
    "bad",
    [np.array([[0, 2]]), np.array([[0.0, 1.0]]), np.array([1, 0]), np.array([[-1, 0]])],
)
def test_pack_rejects(bad):
    with pytest.raises(ValueError):
        pack_bits(bad)


def test_unpack_rejects_width_and_dtype():
    packed = np.zeros((3, 2), dtype=np.uint8)
    with pytest.raises(ValueError):
        unpack_bits(packed, 8)  # 8 bits need 1 byte, not 2
    with pytest.raises(ValueError):
        unpack_bits(packed, 17)
    with pytest.raises(ValueError):
        unpack_bits(packed.astype(np.int32), 12)
