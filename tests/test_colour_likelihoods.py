"""Colour likelihoods: the channel-coupled logistic mixture (PixelCNN++ eq. 3) and the per-sub-pixel decoders on RGB.

Exactness on small grids (all L^3 triples of a pixel), the chain of conditionals a coder uses,
stability at the extremes (mirroring the grey tests in test_discretized.py and test_stability.py),
that training is one vectorised call, and colour models through bits/dim, sampling, export and
bits-back coding.
"""

import itertools
import math

import numpy as np
import pytest
import scipy.special
import tensorflow as tf
import tensorflow_probability as tfp
import keras

import losses
import vae_tf
from vae_tf import distributions as vd
from vae_tf import layers

tfd = tfp.distributions
COLOUR = (4, 4, 3)
K = 3


def random_coupled(num_levels, rng, batch=(6,), dtype=np.float64, coefficient_scale=1.0, scales=(1e-3, 5.0)):
    """A coupled mixture with random parameters: locations around [0, 1], log-uniform scales, tanh coefficients."""
    logits = rng.normal(0.0, 2.0, batch + (K,))
    loc = rng.uniform(-0.3, 1.3, batch + (3, K))
    scale = np.exp(rng.uniform(math.log(scales[0]), math.log(scales[1]), batch + (3, K)))
    coefficients = np.tanh(rng.normal(0.0, coefficient_scale, batch + (3, K)))
    return vd.ChannelCoupledLogisticMixture(*(a.astype(dtype) for a in (logits, loc, scale, coefficients)), num_levels)


def all_triples(num_levels):
    """``(L^3, 3)`` levels of every (R, G, B) and their values ``k / (L - 1)``."""
    k = np.array(list(itertools.product(range(num_levels), repeat=3)))
    return k, k / (num_levels - 1)


def reference_log_prob(d, values):
    """``log p(r, g, b)`` from the formula in NumPy float64, with the logistic CDF ``expit`` (moderate parameters)."""
    logits, loc, scale, coef = (np.asarray(t, np.float64) for t in (d.logits, d.loc, d.scale, d.coefficients))
    num_levels = d.num_levels
    h = 1.0 / (num_levels - 1)
    r, g = values[..., 0:1], values[..., 1:2]
    mu = np.stack([loc[..., 0, :] + 0 * r, loc[..., 1, :] + coef[..., 0, :] * r,
                   loc[..., 2, :] + coef[..., 1, :] * r + coef[..., 2, :] * g], axis=-2)
    x = values[..., None]
    upper = np.where(x >= 1 - 1e-9, 1.0, scipy.special.expit((x + h / 2 - mu) / scale))
    lower = np.where(x <= 1e-9, 0.0, scipy.special.expit((x - h / 2 - mu) / scale))
    per_component = np.log(upper - lower).sum(axis=-2) + scipy.special.log_softmax(logits, axis=-1)
    return scipy.special.logsumexp(per_component, axis=-1)


# -- exactness: the conditionals, the joint over all triples, the chain ------------------------------------


@pytest.mark.parametrize("num_levels", [2, 17, 256])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_each_channel_conditional_sums_to_one_over_its_levels(num_levels, dtype):
    rng = np.random.default_rng(num_levels)
    d = random_coupled(num_levels, rng, dtype=dtype)
    x = (rng.integers(0, num_levels, (6, 3)) / (num_levels - 1)).astype(dtype)
    log_p = d.channel_bin_log_probs(x).numpy()
    assert log_p.shape == (6, 3, num_levels) and log_p.dtype == dtype
    assert np.all(np.isfinite(log_p)) and np.all(log_p <= 1e-6)
    np.testing.assert_allclose(np.exp(log_p.astype(np.float64)).sum(-1), 1.0, rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-5), (np.float32, 1e-4)])
def test_joint_over_all_64_triples_of_a_pixel_sums_to_one(dtype, tol):
    d = random_coupled(4, np.random.default_rng(1), dtype=dtype)
    _, values = all_triples(4)
    log_p = d.log_prob(values[:, None, :].astype(dtype)).numpy()  # (64, batch)
    assert log_p.shape == (64, 6) and np.all(np.isfinite(log_p))
    np.testing.assert_allclose(np.exp(log_p.astype(np.float64)).sum(0), 1.0, atol=tol)


def test_joint_is_the_formula_and_the_chain_of_the_three_conditionals():
    d = random_coupled(4, np.random.default_rng(2), coefficient_scale=2.0, scales=(0.05, 2.0))  # expit stays exact
    levels, values = all_triples(4)
    x = values[:, None, :]
    log_p = d.log_prob(x).numpy()
    np.testing.assert_allclose(log_p, reference_log_prob(d, x), rtol=1e-10, atol=1e-10)
    conditionals = d.channel_bin_log_probs(x).numpy()  # (64, batch, 3, L)
    chain = sum(conditionals[np.arange(64), :, c, levels[:, c]] for c in range(3))
    np.testing.assert_allclose(chain, log_p, rtol=1e-10, atol=1e-10)
    # the coupling is real: the joint is not the product of the per-channel marginals
    joint = np.exp(log_p).reshape(4, 4, 4, 6)
    product = joint.sum((1, 2))[:, None, None] * joint.sum((0, 2))[None, :, None] * joint.sum((0, 1))[None, None, :]
    assert np.abs(joint - product).max() > 1e-3


def test_a_channel_conditional_ignores_the_channels_from_itself_on():
    """What a decoder sees: entry c reads only x_{<c}, so garbage in channels >= c changes nothing."""
    rng = np.random.default_rng(3)
    d = random_coupled(17, rng, dtype=np.float32)
    x = (rng.integers(0, 17, (6, 3)) / 16).astype(np.float32)
    full = d.channel_bin_log_probs(x).numpy()
    for c in range(3):
        partial = x.copy()
        partial[:, c:] = rng.integers(0, 17, (6, 3 - c)) / 16
        np.testing.assert_array_equal(d.channel_bin_log_probs(partial).numpy()[:, c], full[:, c])
        # one channel alone (what the coder asks for): bit-identical whatever channels >= c hold
        alone = d.channel_bin_log_probs(x, channel=c).numpy()
        np.testing.assert_array_equal(d.channel_bin_log_probs(partial, channel=tf.constant(c)).numpy(), alone)
        np.testing.assert_allclose(alone, full[:, c], rtol=1e-6, atol=1e-6)
    # R's conditional is its marginal under the shared weights
    marginal = np.exp(d.log_prob(np.stack(np.meshgrid(*[np.arange(17) / 16] * 3, indexing="ij"), -1)[..., None, :]
                                 .astype(np.float32)).numpy().astype(np.float64)).sum((1, 2))  # (17, batch)
    np.testing.assert_allclose(np.exp(full[:, 0].astype(np.float64)), marginal.T, atol=1e-5)


def test_zero_coefficients_make_the_channels_mixtures_with_shared_weights():
    """With alpha = beta = gamma = 0 and one component, the channels are three independent grey mixtures."""
    rng = np.random.default_rng(4)
    loc, scale = rng.uniform(0, 1, (5, 3, 1)), np.exp(rng.uniform(-5, 0, (5, 3, 1)))
    d = vd.ChannelCoupledLogisticMixture(np.zeros((5, 1)), loc, scale, np.zeros((5, 3, 1)), 17)
    grey = vd.DiscretizedLogisticMixture(np.zeros((5, 3, 1)), loc, scale, 17)
    x = rng.integers(0, 17, (5, 3)) / 16
    np.testing.assert_allclose(d.log_prob(x).numpy(), grey.log_prob(x).numpy().sum(-1), rtol=1e-12)
    np.testing.assert_allclose(d.mean().numpy(), grey.mean().numpy(), rtol=1e-12)


def test_a_sharp_pixel_whose_g_and_b_follow_r_and_g_has_probability_one():
    """Scale at 1e-3 << h: G at loc_G + alpha r and B at loc_B + beta r + gamma g land exactly on their levels."""
    r, g, b = 0.25, 0.75, 0.5
    alpha, beta, gamma = 0.5, -0.3, 0.8
    coefficients = np.array([[alpha], [beta], [gamma]])[None]
    loc = np.array([[r], [g - alpha * r], [b - beta * r - gamma * g]])[None]
    d = vd.ChannelCoupledLogisticMixture(np.zeros((1, 1), np.float32), loc.astype(np.float32),
                                         np.full((1, 3, 1), 1e-3, np.float32), coefficients.astype(np.float32), 5)
    np.testing.assert_allclose(d.log_prob(np.array([[r, g, b]], np.float32)).numpy(), 0.0, atol=1e-5)
    assert d.log_prob(np.array([[r, b, g]], np.float32)).numpy()[0] < -100
    np.testing.assert_allclose(d.mean().numpy(), [[r, g, b]], atol=1e-5)


# -- mean and sample ----------------------------------------------------------------------------------------


def test_mean_is_exact_for_r_and_close_for_g_and_b():
    d = random_coupled(16, np.random.default_rng(5), batch=(20,))
    _, values = all_triples(16)
    p = np.exp(d.log_prob(values[:, None, :]).numpy())  # (4096, batch)
    exact = np.einsum("nb,nc->bc", p, values)
    mean = d.mean().numpy()
    assert mean.shape == (20, 3) and np.all((mean >= 0) & (mean <= 1))
    np.testing.assert_allclose(mean[:, 0], exact[:, 0], atol=1e-12)
    # G and B plug the component's mean of the channels before into its location (documented approximation)
    assert np.abs(mean[:, 1:] - exact[:, 1:]).max() < 0.1


def test_samples_are_levels_drawn_from_the_joint():
    d = random_coupled(4, np.random.default_rng(6), batch=(2,), coefficient_scale=2.0)
    n = 40000
    s = d.sample(n, seed=(3, 4)).numpy()
    assert s.shape == (n, 2, 3)
    levels = s * 3
    np.testing.assert_array_equal(levels, np.round(levels))
    index = (levels[..., 0] * 16 + levels[..., 1] * 4 + levels[..., 2]).astype(int)  # (n, 2)
    _, values = all_triples(4)
    probs = np.exp(d.log_prob(values[:, None, :]).numpy())  # (64, 2)
    for j in range(2):
        freq = np.bincount(index[:, j], minlength=64) / n
        # 4 standard errors of a frequency near p
        assert np.all(np.abs(freq - probs[:, j]) <= 4 * np.sqrt(probs[:, j] * (1 - probs[:, j]) / n) + 1e-3)


# -- stability at the extremes (the grey versions: test_discretized.py, test_stability.py) ---------------------

EXTREME_INPUTS = np.array([1e4, -1e4, 30.0, -30.0, 0.0, 1e-3], np.float32)
EXTREME_RAW_LOG_SCALES = np.array([-1e4, -30.0, 0.0, 30.0], np.float32)


def extreme_colour_parameters(layer, rng, rows=4):
    """Raw inputs of the coupled layer: logits, locations and coefficients from EXTREME_INPUTS, log-scales extreme."""
    params = rng.choice(EXTREME_INPUTS, size=(rows, layer.num_params())).astype(np.float32)
    k = layer.num_components
    per_pixel = params.reshape(rows, -1, 10 * k)  # per pixel: K logits, 3K locs, 3K raw log-scales, 3K coefficients
    per_pixel[..., 4 * k:7 * k] = rng.choice(EXTREME_RAW_LOG_SCALES, size=per_pixel[..., 4 * k:7 * k].shape)
    return per_pixel.reshape(rows, -1)


@pytest.mark.parametrize("num_levels", [2, 256])
def test_log_prob_and_gradients_are_finite_at_the_extremes(num_levels):
    layer = layers.IndependentDiscretizedLogisticMixture(COLOUR, num_components=K, min_scale=1e-3, num_levels=num_levels,
                                                         project=False)
    rng = np.random.default_rng(num_levels)
    params = tf.Variable(extreme_colour_parameters(layer, rng))
    choices = np.array([0, 1, num_levels // 2, num_levels - 2, num_levels - 1]) / (num_levels - 1)
    x = rng.choice(choices, size=(4,) + COLOUR).astype(np.float32)
    with tf.GradientTape() as tape:
        p = layer(params)
        loss = losses.NegativeLogLikelihood()(x, p)
    grad = tape.gradient(loss, params)
    assert np.isfinite(loss.numpy()) and loss.numpy() >= 0
    assert np.all(np.isfinite(grad.numpy()))
    base = p.distribution
    assert np.all(base.scale.numpy() >= np.float32(1e-3) * (1 - 1e-6))
    assert np.all(np.abs(base.coefficients.numpy()) <= 1)
    conditionals = base.channel_bin_log_probs(x).numpy()
    assert np.all(np.isfinite(conditionals))
    np.testing.assert_allclose(np.exp(conditionals.astype(np.float64)).sum(-1), 1.0, rtol=1e-5)
    mean = p.mean().numpy()
    assert mean.shape == (4,) + COLOUR and np.all(np.isfinite(mean)) and np.all((mean >= 0) & (mean <= 1))


@pytest.mark.parametrize("logit, location", [(1e4, 1e4), (-1e4, -1e4), (1e4, 0.5), (0.0, -1e4)])
def test_joint_still_sums_to_one_at_min_scale_and_extreme_logits_and_locations(logit, location):
    logits = np.array([[logit, 0.0, -logit]], np.float32)
    loc = np.array([[[location, 0.3, 1.0], [0.0, location, 0.5], [1.0, 0.2, location]]], np.float32)
    d = vd.ChannelCoupledLogisticMixture(logits, loc, np.full((1, 3, 3), 1e-3, np.float32),
                                         np.full((1, 3, 3), 0.99, np.float32), 4)
    _, values = all_triples(4)
    log_p = d.log_prob(values[:, None, :].astype(np.float32)).numpy()
    assert np.all(np.isfinite(log_p))
    np.testing.assert_allclose(np.exp(log_p.astype(np.float64)).sum(), 1.0, atol=1e-4)


# -- training is parallel: one vectorised log_prob, no Python loop over pixels ----------------------------------


def test_log_prob_of_a_batch_is_one_vectorised_call_with_per_pixel_gradients():
    def graph_size(event):
        layer = layers.IndependentDiscretizedLogisticMixture(event, num_components=K, num_levels=256, project=False)
        fn = tf.function(lambda p, x: layer(p).log_prob(x))
        graph = fn.get_concrete_function(tf.TensorSpec((None, layer.num_params())),
                                         tf.TensorSpec((None,) + event)).graph
        return len(graph.get_operations())

    # the traced program does not grow with the number of pixels
    assert graph_size((2, 2, 3)) == graph_size((16, 16, 3))

    layer = layers.IndependentDiscretizedLogisticMixture(COLOUR, num_components=K, num_levels=17, project=False)
    rng = np.random.default_rng(7)
    params = tf.Variable(rng.normal(0, 1, (3, layer.num_params())).astype(np.float32))
    x = (rng.integers(0, 17, (3,) + COLOUR) / 16).astype(np.float32)
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(layer(params).log_prob(x))
    grad = tape.gradient(total, params).numpy().reshape(3, 16, 10 * K)
    # every pixel's parameters, the coupling coefficients included, get a gradient from its own pixel only
    assert np.all(np.abs(grad[..., 7 * K:]).sum(-1) > 0)
    with tf.GradientTape() as tape:
        one = layer(params).distribution.log_prob(x)[1, 2, 3]
    alone = tape.gradient(one, params).numpy().reshape(3, 16, 10 * K)
    np.testing.assert_allclose(alone[1, 2 * 4 + 3], grad[1, 2 * 4 + 3], rtol=1e-5, atol=1e-6)
    assert np.count_nonzero(np.abs(alone).sum(-1)) == 1


def test_xla_compiled_matches_eager():
    d = random_coupled(256, np.random.default_rng(11), batch=(40,), dtype=np.float32)
    x = (np.random.default_rng(11).integers(0, 256, (40, 3)) / 255).astype(np.float32)

    @tf.function(jit_compile=True)
    def compiled(d, x):
        return d.log_prob(x), d.channel_bin_log_probs(x), d.mean()

    for eager, xla in zip((d.log_prob(x), d.channel_bin_log_probs(x), d.mean()), compiled(d, x)):
        np.testing.assert_allclose(xla.numpy(), eager.numpy(), rtol=1e-5, atol=1e-5)


# -- the layer ------------------------------------------------------------------------------------------------


def test_layer_couples_rgb_with_10k_parameters_per_pixel_and_leaves_grey_alone():
    coupled = layers.IndependentDiscretizedLogisticMixture(COLOUR, num_components=K, num_levels=17, project=False)
    assert coupled.coupled and coupled.num_params() == 10 * K * 16 and coupled.params_per_pixel() == 10 * K
    assert layers.IndependentDiscretizedLogisticMixture.params_size((32, 32, 3), num_components=5) == 50 * 1024
    assert layers.IndependentDiscretizedLogisticMixture.params_size((28, 28, 1), num_components=5) == 15 * 784
    assert layers.IndependentDiscretizedLogisticMixture.params_size((32, 32, 3), 5, couple_channels=False) == 45 * 1024
    rng = np.random.default_rng(8)
    conv = rng.normal(size=(2, 4, 4, 10 * K)).astype(np.float32)
    p = coupled(conv)
    assert isinstance(p, tfd.Independent) and isinstance(p.distribution, vd.ChannelCoupledLogisticMixture)
    assert tuple(p.batch_shape) == (2,) and tuple(p.event_shape) == COLOUR
    assert p.mean().shape == (2,) + COLOUR and p.sample(seed=(1, 2)).shape == (2,) + COLOUR
    x = (rng.integers(0, 17, (2,) + COLOUR) / 16).astype(np.float32)
    np.testing.assert_array_equal(p.log_prob(x).numpy(), coupled(conv.reshape(2, -1)).log_prob(x).numpy())
    # pixel-major layout: K logits, then R's, G's, B's K locations, ... (see the layer's docstring)
    base = p.distribution
    np.testing.assert_array_equal(base.logits.numpy()[1, 2, 3], conv[1, 2, 3, :K])
    np.testing.assert_array_equal(base.loc.numpy()[1, 2, 3, 1], conv[1, 2, 3, 2 * K:3 * K])
    np.testing.assert_allclose(base.coefficients.numpy()[1, 2, 3, 2], np.tanh(conv[1, 2, 3, 9 * K:]), rtol=1e-6)
    independent = layers.IndependentDiscretizedLogisticMixture(COLOUR, num_components=K, couple_channels=False)
    assert not independent.coupled and independent.num_params() == 9 * K * 16
    grey = layers.IndependentDiscretizedLogisticMixture((4, 4, 1), num_components=K)
    assert not grey.coupled and grey.num_params() == 3 * K * 16
    again = type(coupled).from_config(coupled.get_config())
    assert again.get_config() == coupled.get_config() and again.coupled


def test_conv_decoder_outputs_the_parameters_per_pixel_of_the_coupled_layer():
    layer = layers.IndependentDiscretizedLogisticMixture(COLOUR, num_components=2, num_levels=17, project=False)
    decoder = vae_tf.networks.conv_decoder(COLOUR, params_per_pixel=layer.params_per_pixel(), filters=(8, 4))
    out = decoder(tf.zeros((2, 5)))
    assert out.shape == (2, 4, 4, 20)
    assert layer(out).log_prob(tf.zeros((2,) + COLOUR)).shape == (2,)


# -- the other decoders work per sub-pixel on colour -----------------------------------------------------------


PER_SUBPIXEL = {
    "categorical_rank3": lambda: layers.IndependentCategorical(COLOUR, num_levels=5, rank=3, project=False),
    "categorical_logits": lambda: layers.IndependentCategorical(COLOUR, num_levels=5, rank=None, project=False),
    "dnormal_per_pixel": lambda: layers.IndependentDiscretizedNormal(COLOUR, scale="per_pixel", num_levels=5, project=False),
    "dnormal_learned": lambda: layers.IndependentDiscretizedNormal(COLOUR, scale="learned", num_levels=5, project=False),
    "mixture_uncoupled": lambda: layers.IndependentDiscretizedLogisticMixture(COLOUR, num_levels=5, couple_channels=False,
                                                                             project=False),
    "normal": lambda: layers.IndependentNormal(COLOUR, scale="per_pixel", project=False),
    "bernoulli": lambda: layers.IndependentBernoulli(COLOUR, project=False),
    "continuous_bernoulli": lambda: layers.IndependentContinuousBernoulli(COLOUR, project=False),
}


@pytest.mark.parametrize("name", list(PER_SUBPIXEL))
def test_other_decoders_sum_log_prob_over_all_48_sub_pixels(name):
    layer = PER_SUBPIXEL[name]()
    rng = np.random.default_rng(9)
    p = layer(rng.normal(size=(2, layer.num_params())).astype(np.float32))
    x = (rng.integers(0, 5, (2,) + COLOUR) / 4).astype(np.float32)
    if name == "bernoulli":
        x = (x > 0.5).astype(np.float32)
    base = p.distribution
    assert tuple(p.batch_shape) == (2,) and tuple(p.event_shape) == COLOUR
    assert tuple(base.batch_shape) == (2,) + COLOUR and tuple(base.event_shape) == ()
    assert p.mean().shape == (2,) + COLOUR and p.sample(seed=(1, 2)).shape == (2,) + COLOUR
    per_value = base.log_prob(x).numpy()
    np.testing.assert_allclose(p.log_prob(x).numpy(), per_value.astype(np.float64).sum((1, 2, 3)), rtol=1e-5)
    # a change in one channel of one pixel moves log_prob by that sub-pixel's change: no channel dropped
    for c in range(3):
        y = x.copy()
        y[0, 1, 2, c] = 1.0 - y[0, 1, 2, c] if name == "bernoulli" else (x[0, 1, 2, c] + 0.5) % 1.25
        delta = p.log_prob(y).numpy()[0] - p.log_prob(x).numpy()[0]
        expected = base.log_prob(y).numpy()[0, 1, 2, c] - per_value[0, 1, 2, c]
        np.testing.assert_allclose(delta, expected, rtol=1e-3, atol=1e-3)
        assert abs(expected) > 1e-4
    if hasattr(base, "bin_log_probs"):
        levels = base.bin_log_probs().numpy()
        assert levels.shape[:-1] == (2,) + COLOUR
        np.testing.assert_allclose(np.exp(levels.astype(np.float64)).sum(-1), 1.0, rtol=1e-5)


# -- colour models through training, bits/dim, pictures, export and bits-back coding ------------------------------


@pytest.fixture(scope="module")
def colour_model():
    """A tiny VAE with the coupled decoder, trained briefly on 8-level 4x4 RGB images where G copies R."""
    rng = np.random.default_rng(10)
    levels = rng.integers(0, 8, (60,) + COLOUR).astype(np.uint8)
    levels[..., 1] = levels[..., 0]
    x = (levels / 7).astype(np.float32)
    keras.utils.set_random_seed(0)
    model = vae_tf.VAE(vae_tf.networks.mlp_encoder(4, (32,)), vae_tf.networks.mlp_decoder((32,)),
                       layers.IndependentDiscretizedLogisticMixture(COLOUR, num_components=2, num_levels=8), seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=losses.NegativeLogLikelihood(), jit_compile=False)
    history = model.fit(x, epochs=15, batch_size=20, verbose=0).history
    return model, levels, x, history


def test_colour_model_trains_and_scores_bits_per_dim(colour_model):
    model, _, x, history = colour_model
    assert np.all(np.isfinite(history["loss"])) and history["loss"][-1] < history["loss"][0]
    bpd = model.bits_per_dim(x, k=4)
    # exact and below the uniform code (3 bits); the coupling can learn G = R
    assert 0 < bpd < 3.0
    assert model.sample(5, seed=1).shape == (5,) + COLOUR
    assert model.sample(5, seed=1, mean=True).shape == (5,) + COLOUR


def test_colour_model_compresses_channel_by_channel_and_round_trips(colour_model):
    from vae_tf.compression.bits_back import compress_with_stats, decompress

    model, levels, _, _ = colour_model
    data, stats = compress_with_stats(model, levels[:12], batch_size=8)
    np.testing.assert_array_equal(decompress(model, data), levels[:12])
    # the coded pixel bits are -log2 P(x|z) on the bins: below the uniform code of the 12 images
    assert stats.pixel_bits < 12 * 48 * 3


def test_colour_model_exports_mean_and_samples_of_the_image_shape(colour_model, tmp_path):
    model, _, x, _ = colour_model
    from vae_tf.export import export_saved_model, serving_elbo

    export_saved_model(model, str(tmp_path / "export"))
    served = tf.saved_model.load(str(tmp_path / "export"))
    out = served.signatures["serving_default"](x=tf.constant(x[:3]))
    assert out["reconstruction"].shape == (3,) + COLOUR and np.all(np.isfinite(out["elbo"].numpy()))
    expected = serving_elbo(model, tf.constant(x[:3]))["elbo"].numpy()
    np.testing.assert_allclose(out["elbo"].numpy(), expected, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(out["reconstruction"].numpy(), model.reconstruct(x[:3]).numpy(), atol=1e-5)
