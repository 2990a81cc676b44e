"""Discretized likelihoods: exact probabilities of L-level images, checked against independent float64 references.

Tolerances are rtol 1e-5 unless a test says otherwise; log-probabilities close to 0
(a bin holding almost all the mass) are compared with atol 1e-6 nats as well, since
a relative tolerance on a number near 0 asks for more than float32 holds.
"""

import math

import numpy as np
import pytest
import scipy.special
import scipy.stats
import tensorflow as tf
import tensorflow_probability as tfp
import keras

import losses
import vae_tf
from vae_tf import distributions as vd
from vae_tf import layers
from vae_tf.objectives import flat_event_view
from vae_tf.validation import check_images

tfd = tfp.distributions
TOL = dict(rtol=1e-5, atol=1e-6)
EVENT = (8, 8, 1)
LEVELS = (2, 17, 256)
KINDS = ("normal", "logistic_mixture", "categorical")


def random_distribution(kind, num_levels, rng, batch=(40,), extreme=False):
    """A distribution of ``kind`` with random parameters; ``extreme`` mixes in locations/logits of +-1e4 and min scales."""
    if kind == "normal":
        loc = rng.uniform(-0.3, 1.3, batch)
        scale = np.exp(rng.uniform(math.log(1e-3), math.log(5.0), batch))
        if extreme:
            loc[:4] = [1e4, -1e4, 0.5, 0.0]
            scale[:4] = 1e-3
        return vd.DiscretizedNormal(loc.astype(np.float32), scale.astype(np.float32), num_levels)
    if kind == "logistic_mixture":
        shape = batch + (5,)
        logits = rng.normal(0.0, 3.0, shape)
        loc = rng.uniform(-0.3, 1.3, shape)
        scale = np.exp(rng.uniform(math.log(1e-3), math.log(5.0), shape))
        if extreme:
            logits[:4] = [1e4, -1e4, 0.0, 0.0, -1e4]
            loc[:4] = [1e4, -1e4, 0.5, 0.0, 1.0]
            scale[:4] = 1e-3
        return vd.DiscretizedLogisticMixture(*(a.astype(np.float32) for a in (logits, loc, scale)), num_levels)
    logits = rng.normal(0.0, 5.0, batch + (num_levels,))
    if extreme:
        logits[:4] = rng.choice([1e4, -1e4, 0.0], size=(4, num_levels))
    return vd.LevelCategorical(logits.astype(np.float32), num_levels)


def grid(num_levels):
    return np.arange(num_levels) / (num_levels - 1)


# -- every pixel's probabilities sum to 1 over the L levels -----------------------------------------


@pytest.mark.parametrize("num_levels", LEVELS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("extreme", [False, True], ids=["typical", "extreme"])
def test_probabilities_sum_to_one_over_all_levels(kind, num_levels, extreme):
    dist = random_distribution(kind, num_levels, np.random.default_rng(num_levels), extreme=extreme)
    log_p = dist.bin_log_probs().numpy()
    assert log_p.shape == (40, num_levels) and log_p.dtype == np.float32
    assert np.all(np.isfinite(log_p)) and np.all(log_p <= 0)
    np.testing.assert_allclose(np.exp(log_p.astype(np.float64)).sum(axis=-1), 1.0, rtol=1e-5)
    # log_prob at each level is the same number as bin_log_probs
    x = np.broadcast_to(grid(num_levels).astype(np.float32)[:, None], (num_levels, 40))
    np.testing.assert_allclose(dist.log_prob(x).numpy().T, log_p, **TOL)


@pytest.mark.parametrize("num_levels", LEVELS)
def test_each_layer_sums_to_one_per_pixel(num_levels):
    rng = np.random.default_rng(0)
    made = [
        layers.IndependentDiscretizedNormal(EVENT, scale="per_pixel", num_levels=num_levels, project=False),
        layers.IndependentDiscretizedLogisticMixture(EVENT, num_components=3, num_levels=num_levels, project=False),
        layers.IndependentCategorical(EVENT, num_levels=num_levels, rank=4, project=False),
    ]
    for layer in made:
        p = layer(rng.normal(0.0, 2.0, (3, layer.num_params())).astype(np.float32))
        log_p = p.distribution.bin_log_probs().numpy()
        assert log_p.shape == (3,) + EVENT + (num_levels,), type(layer).__name__
        np.testing.assert_allclose(np.exp(log_p.astype(np.float64)).sum(-1), 1.0, rtol=1e-5, err_msg=type(layer).__name__)
        # the image's log-probability is the sum of its pixels' log-probabilities
        k = rng.integers(0, num_levels, (3,) + EVENT)
        expected = np.take_along_axis(log_p.astype(np.float64), k[..., None], -1).sum(axis=(1, 2, 3, 4))
        np.testing.assert_allclose(p.log_prob((k / (num_levels - 1)).astype(np.float32)).numpy(), expected, rtol=1e-5)


# -- the discretized normal is the Gaussian bin mass (scipy, float64) ------------------------------------


def gaussian_bin_log_mass(loc, scale, num_levels):
    """``log P(k)``, ``(batch, L)``, from scipy.stats.norm in float64: edge bins to -inf / +inf.

    Bins above the mean use the survival function, so both tails are as accurate as float64 allows.
    Also returns where the float64 difference itself is trustworthy (cancels less than 1e6-fold).
    """
    h = 1.0 / (num_levels - 1)
    k = np.arange(num_levels)
    lower = np.where(k == 0, -np.inf, (k - 0.5) * h)
    upper = np.where(k == num_levels - 1, np.inf, (k + 0.5) * h)
    norm = scipy.stats.norm(loc[:, None].astype(np.float64), scale[:, None].astype(np.float64))
    above = (k * h)[None, :] > loc[:, None]
    big_cdf, small_cdf = norm.cdf(upper), norm.cdf(lower)
    big_sf, small_sf = norm.sf(lower), norm.sf(upper)
    with np.errstate(divide="ignore"):
        mass = np.where(above, big_sf - small_sf, big_cdf - small_cdf)
        trusted = (mass > 1e-280) & (np.where(above, big_sf, big_cdf) < 1e6 * mass)
        log_mass = np.log(mass)
    # Edge bins are a single tail: scipy's logcdf / logsf hold them however small.
    log_mass[:, 0] = norm.logcdf(upper)[:, 0]
    log_mass[:, -1] = norm.logsf(lower)[:, -1]
    trusted[:, 0] = trusted[:, -1] = True
    return log_mass, trusted


@pytest.mark.parametrize("num_levels", LEVELS)
def test_discretized_normal_equals_the_gaussian_bin_mass(num_levels):
    rng = np.random.default_rng(7)
    loc = rng.uniform(-0.5, 1.5, 300).astype(np.float32)
    scale = np.exp(rng.uniform(math.log(1e-3), math.log(10.0), 300)).astype(np.float32)
    loc[:6] = [0.0, 1.0, 0.5, 0.25, 1 / (num_levels - 1), 0.5 / (num_levels - 1)]  # on a level, on a bin edge
    ours = vd.DiscretizedNormal(loc, scale, num_levels).bin_log_probs().numpy()
    reference, trusted = gaussian_bin_log_mass(loc, scale, num_levels)
    # Most bins are compared, the edge bins always (interior deep-tail bins: the next test).
    assert trusted.mean() > 0.7
    np.testing.assert_allclose(ours[trusted], reference[trusted], **TOL)


def test_discretized_normal_far_in_the_tails_matches_log_ndtr():
    """At 1e7 standard deviations a bin's mass is exp(-5e13): only log space holds it."""
    num_levels = 256
    loc = np.array([1e4, -1e4, 0.5, 0.0, 2.0], np.float32)
    scale = np.full(5, 1e-3, np.float32)
    ours = vd.DiscretizedNormal(loc, scale, num_levels).bin_log_probs().numpy().astype(np.float64)
    h = 1.0 / (num_levels - 1)
    k = np.arange(num_levels)
    a = ((k - 0.5) * h - loc[:, None].astype(np.float64)) / scale[:, None]
    b = ((k + 0.5) * h - loc[:, None].astype(np.float64)) / scale[:, None]
    # lower tail: log(Phi(b) - Phi(a)) = log Phi(b) + log(1 - Phi(a)/Phi(b)), reflected above the mean
    above = (a + b) > 0
    lo, hi = np.where(above, -b, a), np.where(above, -a, b)
    log_hi, log_lo = scipy.special.log_ndtr(hi), scipy.special.log_ndtr(lo)
    reference = log_hi + np.log(-np.expm1(log_lo - log_hi))
    with np.errstate(divide="ignore"):  # the branch np.where does not pick
        reference[:, 0] = np.where(above[:, 0], np.log(-np.expm1(scipy.special.log_ndtr(-b[:, 0]))),
                                   scipy.special.log_ndtr(b[:, 0]))
    reference[:, -1] = scipy.special.log_ndtr(-a[:, -1])
    assert np.all(np.isfinite(ours))
    np.testing.assert_allclose(ours, reference, **TOL)
    assert ours[0, :-1].max() < -4.9e13 and ours[0, -1] == 0.0  # all the mass in the top bin


def test_discretized_normal_approaches_the_density_times_the_bin_width():
    """As sigma >> h, log P(k) -> log N(k h; mu, sigma^2) + log h."""
    num_levels = 256
    h = 1.0 / (num_levels - 1)
    k = np.arange(20, 236)
    log_p = vd.DiscretizedNormal(np.float32(0.5), np.float32(0.2), num_levels).bin_log_probs().numpy()[k]
    density = scipy.stats.norm(0.5, 0.2).logpdf(k * h) + math.log(h)
    np.testing.assert_allclose(log_p, density, rtol=1e-4)


def test_discretized_logistic_mixture_equals_the_logistic_bin_mass():
    rng = np.random.default_rng(3)
    num_levels = 17
    dist = random_distribution("logistic_mixture", num_levels, rng)
    h = 1.0 / (num_levels - 1)
    k = np.arange(num_levels)
    lower = np.where(k == 0, -np.inf, (k - 0.5) * h)[None, :, None]
    upper = np.where(k == num_levels - 1, np.inf, (k + 0.5) * h)[None, :, None]
    loc, scale = (t.numpy().astype(np.float64)[:, None, :] for t in (dist.loc, dist.scale))
    logistic = scipy.stats.logistic(loc, scale)
    above = (k * h)[None, :, None] > loc
    mass = np.where(above, logistic.sf(lower) - logistic.sf(upper), logistic.cdf(upper) - logistic.cdf(lower))
    weights = scipy.special.softmax(dist.logits.numpy().astype(np.float64), axis=-1)[:, None, :]
    reference = np.log((weights * mass).sum(-1))
    np.testing.assert_allclose(dist.bin_log_probs().numpy(), reference, **TOL)


def test_level_categorical_is_the_softmax():
    rng = np.random.default_rng(4)
    dist = random_distribution("categorical", 17, rng)
    reference = scipy.special.log_softmax(dist.logits.numpy().astype(np.float64), axis=-1)
    np.testing.assert_allclose(dist.bin_log_probs().numpy(), reference, **TOL)


def test_values_off_the_grid_round_to_the_nearest_level():
    num_levels = 17
    dist = vd.DiscretizedNormal(np.float32(0.4), np.float32(0.1), num_levels)
    levels = grid(num_levels).astype(np.float32)
    shifted = np.clip(levels + np.float32(0.4 / (num_levels - 1)), -1, 2)
    np.testing.assert_array_equal(dist.log_prob(shifted).numpy(), dist.log_prob(levels).numpy())
    np.testing.assert_array_equal(dist.log_prob(np.float32(-3.0)).numpy(), dist.log_prob(np.float32(0.0)).numpy())
    strict = vd.DiscretizedNormal(np.float32(0.4), np.float32(0.1), num_levels, validate_args=True)
    with pytest.raises(tf.errors.InvalidArgumentError, match="on the grid k / 16"):
        strict.log_prob(np.float32(0.3))


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="num_levels must be an integer >= 2"):
        vd.DiscretizedNormal(0.0, 1.0, num_levels=1)
    with pytest.raises(ValueError, match="last axis of size num_levels=17"):
        vd.LevelCategorical(tf.zeros((3, 16)), num_levels=17)
    with pytest.raises(tf.errors.InvalidArgumentError, match="scale must be > 0"):
        vd.DiscretizedNormal(0.0, -1.0, num_levels=17, validate_args=True)
    with pytest.raises(ValueError, match="num_components"):
        layers.IndependentDiscretizedLogisticMixture(EVENT, num_components=0)
    with pytest.raises(ValueError, match="rank"):
        layers.IndependentCategorical(EVENT, rank=0)
    with pytest.raises(ValueError, match="num_levels"):
        layers.IndependentDiscretizedNormal(EVENT, num_levels=256.0)


# -- stability: min_scale, locations and logits of +-1e4, edge bins ---------------------------------------


EXTREME_INPUTS = np.array([1e4, -1e4, 30.0, -30.0, 0.0, 1e-3], np.float32)
#: Raw log-scales: -1e4 puts a scale at min_scale; +30 is sigma = 1e13 (exp overflows float32 above ~88,
#: where a scale is infinite and every interior bin has probability 0, as for IndependentNormal's density).
EXTREME_RAW_LOG_SCALES = np.array([-1e4, -30.0, 0.0, 30.0], np.float32)


def extreme_parameters(layer, rng):
    """Raw layer inputs: locations and logits from EXTREME_INPUTS, raw log-scales from EXTREME_RAW_LOG_SCALES."""
    params = rng.choice(EXTREME_INPUTS, size=(4, layer.num_params())).astype(np.float32)
    raw_scale = np.zeros(layer.num_params(), bool)
    if isinstance(layer, layers.IndependentDiscretizedNormal) and layer.scale == "per_pixel":
        raw_scale[layer.num_params() // 2:] = True  # means, then raw log-sigmas
    elif isinstance(layer, layers.IndependentDiscretizedLogisticMixture):
        k = layer.num_components
        raw_scale.reshape(-1, 3 * k)[:, 2 * k:] = True  # per pixel: logits, locs, raw log-scales
    params[:, raw_scale] = rng.choice(EXTREME_RAW_LOG_SCALES, size=(4, int(raw_scale.sum())))
    return params


@pytest.mark.parametrize("num_levels", [2, 256])
@pytest.mark.parametrize("make", [
    lambda n: layers.IndependentDiscretizedNormal(EVENT, scale="per_pixel", min_scale=1e-3, num_levels=n, project=False),
    lambda n: layers.IndependentDiscretizedNormal(EVENT, scale=1e-3, num_levels=n, project=False),
    lambda n: layers.IndependentDiscretizedLogisticMixture(EVENT, num_components=3, min_scale=1e-3, num_levels=n, project=False),
    lambda n: layers.IndependentCategorical(EVENT, num_levels=n, rank=None, project=False),
    lambda n: layers.IndependentCategorical(EVENT, num_levels=n, rank=3, project=False),
], ids=["normal_per_pixel", "normal_fixed_min", "logistic_mixture", "categorical_logits", "categorical_rank3"])
def test_log_prob_and_gradients_are_finite_at_the_extremes(make, num_levels):
    layer = make(num_levels)
    rng = np.random.default_rng(num_levels)
    params = tf.Variable(extreme_parameters(layer, rng))
    # pixels at both edge bins, next to them, and in the middle
    choices = np.array([0, 1, num_levels // 2, num_levels - 2, num_levels - 1]) / (num_levels - 1)
    x = rng.choice(choices, size=(4,) + EVENT).astype(np.float32)
    with tf.GradientTape() as tape:
        p = layer(params)
        loss = losses.NegativeLogLikelihood()(x, p)
    grads = tape.gradient(loss, [params] + layer.trainable_variables)
    assert np.isfinite(loss.numpy()) and loss.numpy() >= 0
    for g in grads:
        assert np.all(np.isfinite(tf.convert_to_tensor(g).numpy()))
    assert np.all(np.isfinite(p.distribution.bin_log_probs().numpy()))
    assert np.all(np.isfinite(p.mean().numpy())) and np.all((p.mean().numpy() >= 0) & (p.mean().numpy() <= 1))
    if isinstance(layer, layers.IndependentDiscretizedNormal) and layer.scale == "per_pixel":
        assert np.all(p.distribution.scale.numpy() >= np.float32(1e-3) * (1 - 1e-6))


def test_a_sharp_normal_on_its_own_level_has_probability_one():
    """sigma = min_scale << h = 1/16: all the mass in the level at the mean, log P = 0, gradient 0, not NaN."""
    loc = tf.Variable(grid(17).astype(np.float32))
    with tf.GradientTape() as tape:
        log_p = vd.DiscretizedNormal(loc, tf.fill([17], 1e-3), 17).log_prob(grid(17).astype(np.float32))
    grad = tape.gradient(log_p, loc)
    np.testing.assert_allclose(log_p.numpy(), 0.0, atol=1e-6)
    assert np.all(np.isfinite(grad.numpy())) and np.abs(grad.numpy()).max() < 1e-3


# -- mean() and sample() on the k / (L - 1) scale -------------------------------------------------------


@pytest.mark.parametrize("num_levels", LEVELS)
@pytest.mark.parametrize("kind", KINDS)
def test_mean_is_the_mean_over_the_levels(kind, num_levels):
    dist = random_distribution(kind, num_levels, np.random.default_rng(11), extreme=True)
    probs = np.exp(dist.bin_log_probs().numpy().astype(np.float64))
    expected = (probs * grid(num_levels)).sum(-1) / probs.sum(-1)
    np.testing.assert_allclose(dist.mean().numpy(), expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("num_levels", [2, 17, 256])
def test_discretized_normal_mean_on_both_sides_of_its_fast_paths(num_levels):
    """The O(1) mean (a 24-term window for small scales, Euler-Maclaurin above h / 0.6) is the full sum."""
    h = 1.0 / (num_levels - 1)
    rng = np.random.default_rng(num_levels)
    scale = np.concatenate([h / 0.6 * np.array([1 - 1e-6, 1 + 1e-6]), np.exp(rng.uniform(math.log(1e-3), math.log(20.0), 2000))])
    loc = np.concatenate([[0.3, 0.3], rng.uniform(-0.5, 1.5, 2000)])
    loc, scale = loc.astype(np.float32), scale.astype(np.float32)
    t = (np.arange(1, num_levels) - 0.5) * h
    expected = h * scipy.stats.norm.cdf((loc[:, None].astype(np.float64) - t) / scale[:, None]).sum(-1)
    ours = vd.DiscretizedNormal(loc, scale, num_levels).mean().numpy()
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-7)
    assert scale[0] < h / 0.6 < scale[1] and abs(ours[0] - ours[1]) < 1e-6  # continuous across the switch


@pytest.mark.parametrize("kind", KINDS)
def test_samples_are_levels_with_the_right_mean(kind):
    num_levels = 17
    dist = random_distribution(kind, num_levels, np.random.default_rng(5), batch=(6,))
    draws = dist.sample(4000, seed=(1, 2)).numpy()
    assert draws.shape == (4000, 6) and draws.dtype == np.float32
    k = draws * (num_levels - 1)
    np.testing.assert_allclose(k, np.round(k), atol=1e-4)
    assert draws.min() >= 0 and draws.max() <= 1
    se = draws.std(axis=0) / math.sqrt(len(draws)) + 1e-6
    assert np.all(np.abs(draws.mean(axis=0) - dist.mean().numpy()) < 5 * se)


# -- layers: sizes, layouts, configs --------------------------------------------------------------------


def test_params_size_and_num_bins():
    d = 784
    assert layers.IndependentDiscretizedNormal.params_size((28, 28, 1)) == d
    assert layers.IndependentDiscretizedNormal.params_size((28, 28, 1), scale="per_pixel") == 2 * d
    assert layers.IndependentDiscretizedLogisticMixture.params_size((28, 28, 1), num_components=5) == 15 * d
    assert layers.IndependentCategorical.params_size((28, 28, 1), num_levels=256, rank=8) == 8 * d
    assert layers.IndependentCategorical.params_size((28, 28, 1), num_levels=256, rank=None) == 256 * d
    for layer in (layers.IndependentDiscretizedNormal(EVENT, num_levels=17), layers.IndependentDiscretizedLogisticMixture(EVENT, num_levels=17),
                  layers.IndependentCategorical(EVENT, num_levels=17)):
        assert layer.num_levels == 17
        p = layer(tf.zeros((2, 5)))
        assert tuple(p.event_shape) == EVENT and p.distribution.num_levels == 17


def test_categorical_is_cheap_on_mnist():
    """The factored logits: 200 features -> 784 x 8, a shared 8 x 256 map and 784 x 256 biases (not 40M weights)."""
    layer = layers.IndependentCategorical((28, 28, 1))
    layer(tf.zeros((1, 200)))
    assert layer.count_params() == 200 * 784 * 8 + 784 * 8 + 8 * 256 + 784 * 256
    assert layer.count_params() < 0.04 * 200 * 784 * 256


def test_ready_parameters_read_pixel_major_from_a_conv_output():
    """``(batch, H, W, C * P)`` from a conv decoder is the same as its flattened ``(batch, D * P)``."""
    rng = np.random.default_rng(0)
    for layer in (layers.IndependentDiscretizedLogisticMixture(EVENT, num_components=2, num_levels=17, project=False),
                  layers.IndependentCategorical(EVENT, num_levels=17, rank=3, project=False)):
        per_pixel = layer.num_params() // 64
        conv = rng.normal(size=(2, 8, 8, per_pixel)).astype(np.float32)
        x = (rng.integers(0, 17, (2,) + EVENT) / 16).astype(np.float32)
        np.testing.assert_array_equal(layer(conv).log_prob(x).numpy(), layer(conv.reshape(2, -1)).log_prob(x).numpy())
        with pytest.raises(ValueError, match="parameters per"):
            layer(tf.zeros((2, 10)))
    mixture = layers.IndependentDiscretizedLogisticMixture(EVENT, num_components=2, num_levels=17, project=False)
    conv = rng.normal(size=(2, 8, 8, 6)).astype(np.float32)
    base = mixture(conv).distribution
    np.testing.assert_array_equal(base.logits.numpy()[0, 3, 4, 0], conv[0, 3, 4, 0:2])
    np.testing.assert_array_equal(base.loc.numpy()[0, 3, 4, 0], conv[0, 3, 4, 2:4])


def test_discretized_normal_shares_the_normal_parameters():
    params = np.random.default_rng(1).normal(size=(3, 128)).astype(np.float32)
    normal = layers.IndependentNormal(EVENT, scale="per_pixel", project=False)(params).distribution
    discrete = layers.IndependentDiscretizedNormal(EVENT, scale="per_pixel", num_levels=17, project=False)(params).distribution
    np.testing.assert_array_equal(normal.loc.numpy(), discrete.loc.numpy())
    np.testing.assert_array_equal(normal.scale.numpy(), discrete.scale.numpy())
    assert not isinstance(layers.IndependentDiscretizedNormal(EVENT), layers.IndependentNormal)


def test_flat_event_view_applies_to_the_discretized_normal():
    layer = layers.IndependentDiscretizedNormal(EVENT, scale="learned", num_levels=17)
    p = layer(tf.random.normal((3, 5)))
    x = tf.constant((np.random.default_rng(0).integers(0, 17, (3,) + EVENT) / 16).astype(np.float32))
    flat, x_flat = flat_event_view(p, x)
    assert tuple(flat.event_shape) == (64,) and flat.distribution.num_levels == 17
    np.testing.assert_allclose(flat.log_prob(x_flat).numpy(), p.log_prob(x).numpy(), rtol=1e-6)


# -- in a VAE: training, losses, saving, XLA, mixed precision -------------------------------------------


LIKELIHOODS = {
    "normal": lambda: layers.IndependentDiscretizedNormal(EVENT, scale="per_pixel", num_levels=17),
    "logistic_mixture": lambda: layers.IndependentDiscretizedLogisticMixture(EVENT, num_components=3, num_levels=17),
    "categorical": lambda: layers.IndependentCategorical(EVENT, num_levels=17, rank=4),
}


def small_vae(likelihood, seed=0):
    keras.utils.set_random_seed(seed)
    return vae_tf.VAE(vae_tf.networks.mlp_encoder(4, (32,)), vae_tf.networks.mlp_decoder((32,)), likelihood, seed=seed)


@pytest.mark.parametrize("name", list(LIKELIHOODS))
def test_negative_log_likelihood_trains_a_vae_under_xla(name, digits):
    x = digits[:400]  # 17 grey levels: k / 16
    model = small_vae(LIKELIHOODS[name]())
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=losses.NegativeLogLikelihood(), jit_compile=True)
    history = model.fit(x, epochs=4, batch_size=50, verbose=0).history
    assert np.all(np.isfinite(history["loss"]))
    assert history["loss"][-1] < history["loss"][0] - 5
    elbo = model.elbo(x[:50])
    # An exact discrete likelihood: -ELBO >= -log P(x) >= 0, and below the uniform code length D log 17.
    assert np.all(-elbo > 0) and (-elbo).mean() < 64 * math.log(17)


@pytest.mark.parametrize("loss", [losses.ScaledMSE(sigma=0.1), "mse"], ids=["ScaledMSE", "mse"])
def test_mse_losses_train_through_the_discretized_normal_mean(loss, digits):
    x = digits[:400]
    model = small_vae(layers.IndependentDiscretizedNormal(EVENT, scale=0.05, num_levels=17))
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=loss, jit_compile=True)
    history = model.fit(x, epochs=4, batch_size=50, verbose=0).history
    assert np.all(np.isfinite(history["loss"])) and history["loss"][-1] < history["loss"][0]
    # The loss really receives the discretized mean, not the underlying Gaussian's loc.
    p = model.likelihood(tf.random.normal((5, 32)))
    mean = p.mean().numpy()
    assert not np.allclose(mean, p.distribution.loc.numpy(), atol=1e-3)
    value = losses.ScaledMSE(sigma=0.1)(x[:5], p).numpy()
    np.testing.assert_allclose(value, ((x[:5] - mean) ** 2).sum(axis=(1, 2, 3)).mean() / (2 * 0.01), rtol=1e-5)


@pytest.mark.parametrize("name", list(LIKELIHOODS))
def test_keras_round_trip_gives_identical_log_prob(name, digits, tmp_path):
    model = small_vae(LIKELIHOODS[name]())
    model.compile(optimizer="adam")
    model.fit(digits[:100], epochs=1, batch_size=50, verbose=0)
    z = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    before = model.decode(z).log_prob(digits[:6]).numpy()
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    assert type(restored.likelihood) is type(model.likelihood)
    assert restored.likelihood.get_config() == model.likelihood.get_config()
    np.testing.assert_array_equal(restored.decode(z).log_prob(digits[:6]).numpy(), before)


@pytest.mark.parametrize("kind", KINDS)
def test_xla_compiled_matches_eager(kind):
    dist = random_distribution(kind, 256, np.random.default_rng(9), extreme=True)
    x = (np.random.default_rng(9).integers(0, 256, 40) / 255).astype(np.float32)

    @tf.function(jit_compile=True)
    def compiled(d, x):
        return d.log_prob(x), d.bin_log_probs(), d.mean()

    for eager, xla in zip((dist.log_prob(x), dist.bin_log_probs(), dist.mean()), compiled(dist, x)):
        np.testing.assert_allclose(xla.numpy(), eager.numpy(), **TOL)


def test_parameters_are_float32_under_mixed_float16(digits):
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        for name, make in LIKELIHOODS.items():
            model = small_vae(make())
            model.compile(optimizer="adam", jit_compile=False)
            history = model.fit(digits[:100], epochs=1, batch_size=50, verbose=0).history
            assert np.isfinite(history["loss"][0]), name
            assert model.decoder.compute_dtype == "float16"
            base = model(digits[:4]).distribution
            params = [base.loc, base.scale] if name == "normal" else [base.logits]
            assert all(t.dtype == tf.float32 for t in params), name
            assert base.bin_log_probs().dtype == tf.float32 and base.mean().dtype == tf.float32
    finally:
        keras.mixed_precision.set_global_policy("float32")


# -- data checks -----------------------------------------------------------------------------------


def test_data_off_the_grid_are_refused_with_what_to_pass(digits):
    decoder = layers.IndependentDiscretizedNormal(EVENT, num_levels=256)
    with pytest.raises(ValueError, match="look like 17 grey levels k / 16: build the decoder with num_levels=17"):
        check_images(digits, decoder)
    rng = np.random.default_rng(0)
    dequantized = ((np.round(digits * 16) + rng.uniform(size=digits.shape)) / 17).astype(np.float32)
    with pytest.raises(ValueError, match=r"not dequantized \(k \+ u\) / L data"):
        check_images(dequantized, layers.IndependentCategorical(EVENT, num_levels=17))
    with pytest.raises(ValueError, match=r"needs pixels in \[0, 1\]"):
        check_images(digits * 16, layers.IndependentDiscretizedLogisticMixture(EVENT, num_levels=17))
    check_images(digits, layers.IndependentDiscretizedLogisticMixture(EVENT, num_levels=17))
    check_images((digits > 0.5).astype(np.float32), decoder)  # binary data are on every grid
    model = small_vae(layers.IndependentCategorical(EVENT, num_levels=256))
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="num_levels=17"):
        model.fit(digits[:100], epochs=1, verbose=0)


def test_a_file_naming_the_mixture_layer_by_its_old_name_still_loads(digits, tmp_path):
    """The layer was `DiscretizedLogisticMixture` (the name of its distribution) before it became
    `IndependentDiscretizedLogisticMixture`; files saved then name the old class."""
    import json
    import zipfile

    model = small_vae(layers.IndependentDiscretizedLogisticMixture(EVENT, num_components=2, num_levels=17))
    model.compile(optimizer="adam")
    model.fit(digits[:50], epochs=1, batch_size=50, verbose=0)
    model.save(tmp_path / "new.keras")
    with zipfile.ZipFile(tmp_path / "new.keras") as new, zipfile.ZipFile(tmp_path / "old.keras", "w") as old:
        for item in new.infolist():
            data = new.read(item.filename)
            if item.filename == "config.json":
                text = data.decode()
                assert '"vae_tf>IndependentDiscretizedLogisticMixture"' in text
                text = text.replace('"vae_tf>IndependentDiscretizedLogisticMixture"', '"vae_tf>DiscretizedLogisticMixture"')
                text = text.replace('"class_name": "IndependentDiscretizedLogisticMixture"',
                                    '"class_name": "DiscretizedLogisticMixture"')
                json.loads(text)
                data = text.encode()
            old.writestr(item, data)
    restored = keras.saving.load_model(tmp_path / "old.keras")
    assert type(restored.likelihood) is layers.IndependentDiscretizedLogisticMixture
    z = np.zeros((3, 4), np.float32)
    np.testing.assert_array_equal(restored.decode(z).log_prob(digits[:3]).numpy(),
                                  model.decode(z).log_prob(digits[:3]).numpy())
    assert not hasattr(layers, "DiscretizedLogisticMixture")
