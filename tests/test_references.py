"""Classic-codec and per-pixel-marginal reference rows for the bits/dim table."""

import bz2
import math

import numpy as np
import pytest

from vae_tf.compare.references import (
    IMAGE_CODECS,
    MARGINALS,
    STREAM_CODECS,
    marginal_bits_per_dim,
    reference_rows,
)


def _digit_levels():
    from sklearn.datasets import load_digits

    return load_digits().images.astype(np.uint8)  # 0..16: L = 17


def test_rows_are_references_with_positive_rates_on_digits():
    k = _digit_levels()
    rows = reference_rows(k[1500:], k[:1500], num_levels=17)
    assert [r["name"] for r in rows] == [*STREAM_CODECS, *IMAGE_CODECS, MARGINALS]
    assert all(r["kind"] == "reference" and r["bits_per_dim_method"] == "reference" for r in rows)
    rates = {r["name"]: r["bits_per_dim"] for r in rows}
    # 17 levels need at most log2(17) = 4.09 bits/dim without any model: the stream codecs beat a
    # byte per value and the marginals beat a uniform code. One PNG or WebP per 8x8 image is
    # mostly container overhead (PNG's signature and chunks alone are 57 bytes).
    assert all(rate > 0 for rate in rates.values()), rates
    assert all(rates[codec] < 8 for codec in STREAM_CODECS), rates
    assert rates[MARGINALS] < math.log2(17)
    n = k[1500:].size
    assert rates["bz2 -9"] == pytest.approx(8 * len(bz2.compress(k[1500:].tobytes(), 9)) / n)


def test_marginals_are_the_smoothed_counts():
    train = np.array([[[0, 1]], [[0, 1]], [[1, 1]]], np.uint8)  # 3 images of 1x2 pixels
    test = np.array([[[1, 0]]], np.uint8)
    # pixel 0: counts (2, 1) -> P(1) = 1.5 / 4; pixel 1: counts (0, 3) -> P(0) = 0.5 / 4.
    expected = -(math.log2(1.5 / 4) + math.log2(0.5 / 4)) / 2
    assert marginal_bits_per_dim(train, test, num_levels=2) == pytest.approx(expected)


def test_binary_images_are_one_bit_pngs_and_constant_images_cost_almost_nothing():
    rng = np.random.default_rng(0)
    binary = (rng.random((20, 16, 16)) < 0.5).astype(np.uint8)
    rows = {r["name"]: r for r in reference_rows(binary, image_codecs=True)}
    assert MARGINALS not in rows
    # Random bits: an 8-bit PNG needs more than 8 bits/dim (a byte per pixel plus the container),
    # a 1-bit PNG about 1 bit plus the container (~70 bytes per 256-pixel image).
    assert rows["PNG"]["bits_per_dim"] < 4
    constant = np.zeros((200, 16, 16), np.uint8)
    assert all(r["bits_per_dim"] < 0.05 for r in reference_rows(constant, image_codecs=False))


def test_float_images_are_refused():
    with pytest.raises(ValueError, match="integer levels"):
        reference_rows(np.full((2, 4, 4), 0.5))
