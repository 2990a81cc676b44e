"""Bits/dim: the conversions, the dequantized bound against the exact bin-integrated probability, VAE.bits_per_dim."""

import math

import keras
import numpy as np
import pytest
import scipy.integrate
import scipy.stats

from vae_tf.evaluation import bits_per_dim as bpd
from vae_tf import layers, networks
from vae_tf.data import dequantize_static
from vae_tf.models import VAE


def test_conversion_to_bits_per_dim():
    # The uniform model over L levels costs log2 L bits per pixel; a certain image costs 0.
    for levels in (2, 17, 256):
        d = 784
        np.testing.assert_allclose(bpd.nats_to_bits_per_dim(-d * math.log(levels), d), math.log2(levels), rtol=1e-12)
    assert bpd.nats_to_bits_per_dim(0.0, 10) == 0.0
    np.testing.assert_allclose(bpd.nats_to_bits_per_dim([-math.log(2) * 64, -math.log(2) * 32], 64), [1.0, 0.5], rtol=1e-12)
    # log p((k+u)/L) - D log L: a density of 1 on [0, 1]^D is the uniform model over the levels.
    np.testing.assert_allclose(bpd.nats_to_bits_per_dim(bpd.dequantized_bound(0.0, 5, 256), 5), 8.0, rtol=1e-12)


def test_dequantized_bound_is_below_the_exact_bin_probability_and_within_monte_carlo_error():
    """A Gaussian density per pixel against its own mass on each bin [k/L, (k+1)/L) (the model the bound bounds)."""
    levels, n, d = 17, 4000, 6
    rng = np.random.default_rng(0)
    mu = rng.uniform(0.2, 0.8, d)
    sigma = rng.uniform(0.05, 0.3, d)
    edges = np.arange(levels + 1) / levels
    mass = _bin_mass(edges[None, :-1], edges[None, 1:], mu[:, None], sigma[:, None])      # (d, L)
    # Images drawn from the model itself (each pixel's level from its bin masses), as test data would be.
    k = np.stack([rng.choice(levels, n, p=m / m.sum()) for m in mass], axis=1)          # (n, d)
    # Per pixel and level, by quadrature: the bound's expectation E_u[log p((k+u)/L)] - log L <= log P(k) (Jensen).
    expected = np.array([[scipy.integrate.quad(lambda u: scipy.stats.norm.logpdf((kk + u) / levels, mu[j], sigma[j]),
                                               0, 1)[0] for kk in range(levels)] for j in range(d)]) - math.log(levels)
    assert np.all(expected <= np.log(mass) + 1e-9)
    cols = np.arange(d)
    exact = np.log(mass)[cols, k].sum(axis=1)                                              # log P(k) per image
    expected_bound = expected[cols, k].sum(axis=1)
    # The package's bound on one fixed dequantized draw per image: within Monte-Carlo error of its expectation.
    y = dequantize_static((k / (levels - 1)).astype(np.float32), levels, seed=1).astype(np.float64)
    bound = bpd.dequantized_bound(scipy.stats.norm.logpdf(y, mu, sigma).sum(axis=1), d, levels)
    noise = bound - expected_bound
    assert abs(noise.mean()) < 4 * noise.std() / math.sqrt(n)
    # Below the exact value, and close: the Jensen gap is a few hundredths of a nat per pixel here.
    gap = exact - bound
    assert gap.mean() > 0 and gap.mean() < 0.03 * d
    assert bpd.nats_to_bits_per_dim(bound.mean(), d) > bpd.nats_to_bits_per_dim(exact.mean(), d)


def _bin_mass(lo, hi, mu, sigma):
    # Gaussian mass of [lo, hi), from the nearer tail so neither side cancels catastrophically.
    left = scipy.stats.norm.cdf(hi, mu, sigma) - scipy.stats.norm.cdf(lo, mu, sigma)
    right = scipy.stats.norm.sf(lo, mu, sigma) - scipy.stats.norm.sf(hi, mu, sigma)
    return np.where(np.asarray(lo) > mu, right, left)


def _vae(likelihood, event_shape=(4, 4, 1)):
    keras.utils.set_random_seed(0)
    model = VAE(networks.mlp_encoder(latent_dim=2, hidden=(16,)), networks.mlp_decoder(hidden=(16,)), likelihood, seed=0)
    model.build((None, *event_shape))
    return model


def test_vae_bits_per_dim_exact_bound_and_no_likelihood():
    levels, d = 17, 16
    rng = np.random.default_rng(0)
    x = (rng.integers(0, levels, (20, 4, 4, 1)) / (levels - 1)).astype(np.float32)

    exact = _vae(layers.IndependentDiscretizedNormal((4, 4, 1), scale="learned", num_levels=levels))
    ll = exact.iwae_log_likelihood(x, k=8, seed=3)
    value = exact.bits_per_dim(x, k=8, seed=3)
    np.testing.assert_allclose(value, -ll.mean() / (d * math.log(2)), rtol=1e-5)
    assert 0 < value < 2 * math.log2(levels)
    with pytest.raises(ValueError, match="L = 17"):  # 8-bit data given to a 17-level decoder
        exact.bits_per_dim((rng.integers(0, 256, (20, 4, 4, 1)) / 255).astype(np.float32))

    # A density is scored against the integer images of the num_levels it was built with: one number, one place.
    gauss = _vae(layers.IndependentNormal((4, 4, 1), scale="learned", num_levels=levels))
    y = dequantize_static(x, levels, seed=3)
    ll = gauss.iwae_log_likelihood(y, k=8, seed=3)
    value = gauss.bits_per_dim(x, k=8, seed=3)
    np.testing.assert_allclose(value, (-ll.mean() + d * math.log(levels)) / (d * math.log(2)), rtol=1e-5)
    assert value > 0
    with pytest.raises(ValueError, match="num_levels"):
        _vae(layers.IndependentNormal((4, 4, 1), scale="learned")).bits_per_dim(x)

    bernoulli = _vae(layers.IndependentBernoulli((4, 4, 1)))
    with pytest.raises(bpd.NoLikelihoodError, match="grey values"):
        bernoulli.bits_per_dim(x)
    binary = (x > 0.5).astype(np.float32)
    ll = bernoulli.iwae_log_likelihood(binary, k=8, seed=3)
    np.testing.assert_allclose(bernoulli.bits_per_dim(binary, k=8, seed=3), -ll.mean() / (d * math.log(2)), rtol=1e-5)


def test_iwae_chunks_fit_in_memory_for_a_wide_decoder():
    from vae_tf.evaluation import rows_per_chunk

    for rank in (None, 8):
        # Whatever the projection's rank, a categorical's logits are D x L floats per decoder row.
        wide = layers.IndependentCategorical((28, 28, 1), num_levels=256, rank=rank)
        assert rows_per_chunk(wide) * 784 * 256 <= 2**25
    assert rows_per_chunk(layers.IndependentNormal((28, 28, 1))) == 32768
