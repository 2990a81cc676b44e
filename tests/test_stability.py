"""Numerical stability: extreme logits, a vanishing learned sigma, pixels at 0 and 1, event sizes 1..3x64x64, IWAE vs ELBO."""

import math

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
import keras

import losses
import vae_tf

tfd = tfp.distributions
L = vae_tf.layers


def tiny_vae(likelihood, latent=2, hidden=(16,), seed=0):
    keras.utils.set_random_seed(seed)
    return vae_tf.VAE(
        vae_tf.networks.mlp_encoder(latent, hidden), vae_tf.networks.mlp_decoder(hidden), likelihood, seed=seed
    )


def gradient(f, t):
    t = tf.Variable(t)
    with tf.GradientTape() as tape:
        value = f(t)
    return value.numpy(), tape.gradient(value, t).numpy()


# -- logits of +-1e4 -----------------------------------------------------------

EXTREME = np.array([1e4, -1e4, 30.0, -30.0, 1e-3, -1e-3, 0.0], np.float32)


def bernoulli_nll_float64(x, logits):
    """``softplus(l) - x l`` per value, in float64."""
    l = logits.astype(np.float64)
    return np.logaddexp(0.0, l) - x * l


def continuous_bernoulli_log_prob_float64(x, logits):
    """``log CB(x; sigmoid(l)) = x l - softplus(l) + log C``, with ``C = l / tanh(l / 2)`` (``C = 2`` at ``l = 0``)."""
    l = logits.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_c = np.where(np.abs(l) < 1e-6, math.log(2.0), np.log(np.abs(l)) - np.log(np.abs(np.tanh(l / 2))))
    return x * l - np.logaddexp(0.0, l) + log_c


@pytest.mark.parametrize("x_value", [0.0, 1.0])
def test_bernoulli_with_logits_of_1e4(x_value):
    layer = L.IndependentBernoulli((len(EXTREME),), project=False)
    x = np.full((1, len(EXTREME)), x_value, np.float32)
    value, grad = gradient(lambda l: losses.NegativeLogLikelihood()(x, layer(l)), EXTREME[None])
    np.testing.assert_allclose(value, bernoulli_nll_float64(x, EXTREME).sum(), rtol=1e-6)
    # d/dl (softplus(l) - x l) = sigmoid(l) - x: exact 0 or -1 at the extremes, never NaN
    sigmoid = 0.5 * (1 + np.tanh(EXTREME.astype(np.float64) / 2))
    np.testing.assert_allclose(grad[0], sigmoid - x_value, atol=1e-6)
    bce = losses.BinaryCrossentropy()(x, layer(EXTREME[None])).numpy()
    np.testing.assert_allclose(bce, value, rtol=1e-6)


@pytest.mark.parametrize("x_value", [0.0, 0.5, 1.0])
def test_continuous_bernoulli_with_logits_of_1e4(x_value):
    layer = L.IndependentContinuousBernoulli((len(EXTREME),), project=False)
    x = np.full((1, len(EXTREME)), x_value, np.float32)
    value, grad = gradient(lambda l: layer(l).distribution.log_prob(x), EXTREME[None])
    expected = continuous_bernoulli_log_prob_float64(x, EXTREME)
    np.testing.assert_allclose(value, expected, rtol=1e-4, atol=1e-3)
    assert np.all(np.isfinite(grad))


def test_vae_whose_decoder_saturates_at_logits_of_1e4_trains_finite():
    x = np.zeros((32, 4, 4, 1), np.float32)
    x[:, :2] = 1.0  # half the pixels exactly 1, the other half exactly 0
    model = tiny_vae(L.IndependentBernoulli((4, 4, 1)))
    model.build(x.shape)
    kernel, bias = model.likelihood.projection.get_weights()
    # Confidently wrong on every pixel: logit -1e4 where x = 1, +1e4 where x = 0.
    model.likelihood.projection.set_weights([np.zeros_like(kernel), np.where(x[0].ravel() > 0, -1e4, 1e4)])
    elbo = model.elbo(x)
    np.testing.assert_allclose(elbo.mean(), -16 * 1e4 - model.kl_divergence(model.encode(x), None).numpy().mean(), rtol=1e-5)
    model.compile(optimizer=keras.optimizers.SGD(1.0), jit_compile=False)
    history = model.fit(x, epochs=2, batch_size=16, verbose=0).history
    assert np.all(np.isfinite(history["loss"])) and history["loss"][-1] < history["loss"][0]
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())


# -- a learned sigma pushed toward 0 -----------------------------------------------------------


def test_learned_sigma_driven_to_zero_stays_at_its_bound():
    """A perfect mean makes ``-log p = D log sigma + const``: gradient descent pushes log sigma to -inf forever."""
    min_scale = 1e-3
    layer = L.IndependentNormal((16,), scale="learned", min_scale=min_scale, project=False)
    x = np.random.default_rng(0).uniform(size=(8, 16)).astype(np.float32)
    layer.build(x.shape)
    optimizer = keras.optimizers.SGD(learning_rate=1.0)
    loss = losses.NegativeLogLikelihood()

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            value = loss(x, layer(x))  # mean == x exactly
        grads = tape.gradient(value, layer.trainable_variables)
        optimizer.apply(grads, layer.trainable_variables)
        return value, grads[0]

    for _ in range(300):
        value, grad = step()
    sigma = float(layer.current_scale())
    assert float(layer.log_scale) < math.log(min_scale) - 5  # really pushed far below the bound...
    assert min_scale * (1 - 1e-6) <= sigma < 1.01 * min_scale  # ...while sigma sits at it (to float32 rounding)
    floor = 16 * (math.log(min_scale) + 0.5 * math.log(2 * math.pi))
    assert np.isfinite(value.numpy()) and value.numpy() >= floor - 1e-3
    assert np.isfinite(grad.numpy())

    # Far past any training run: still bounded, loss and gradient finite.
    layer.log_scale.assign(-1e4)
    with tf.GradientTape() as tape:
        value = loss(x + 0.1, layer(x))
    grad = tape.gradient(value, layer.log_scale)
    assert float(layer.current_scale()) >= min_scale * (1 - 1e-6)
    assert np.isfinite(value.numpy()) and np.isfinite(grad.numpy())


def test_per_pixel_sigma_from_extreme_raw_outputs_is_bounded():
    layer = L.IndependentNormal((3,), scale="per_pixel", min_scale=1e-3, project=False)
    params = np.array([[0.5, 0.5, 0.5, -1e4, -50.0, 0.0]], np.float32)  # means, then raw log-sigmas
    p = layer(params)
    sigma = p.distribution.scale.numpy()
    assert np.all(sigma >= 1e-3 * (1 - 1e-6)) and np.all(np.isfinite(sigma))
    value, grad = gradient(lambda t: losses.NegativeLogLikelihood()(np.full((1, 3), 0.5, np.float32), layer(t)), params)
    assert np.isfinite(value) and np.all(np.isfinite(grad))


def test_vae_with_learned_sigma_on_constant_data_stays_finite():
    """Constant data let the decoder fit the mean exactly, so training keeps shrinking sigma."""
    x = np.full((64, 4, 4, 1), 0.5, np.float32)
    model = tiny_vae(L.IndependentNormal((4, 4, 1), scale="learned", min_scale=1e-3))
    model.compile(optimizer=keras.optimizers.Adam(0.05), jit_compile=False)
    history = model.fit(x, epochs=25, batch_size=16, verbose=0).history
    assert np.all(np.isfinite(history["loss"]))
    sigma = float(model.likelihood.current_scale())
    assert 1e-3 * (1 - 1e-6) <= sigma < 0.1  # shrank from 1 toward the bound, never below it
    assert history["reconstruction_nll"][-1] < history["reconstruction_nll"][0] - 16


# -- pixels exactly 0 and 1 under the continuous Bernoulli ------------------------------


def test_continuous_bernoulli_vae_on_pixels_exactly_0_and_1():
    rng = np.random.default_rng(0)
    x = (rng.uniform(size=(64, 4, 4, 1)) > 0.5).astype(np.float32)
    x[:, 0, 0, 0], x[:, 0, 1, 0] = 0.0, 1.0
    model = tiny_vae(L.IndependentContinuousBernoulli((4, 4, 1)))
    model.compile(optimizer="adam", jit_compile=False)
    history = model.fit(x, epochs=3, batch_size=16, verbose=0).history
    for key in ("loss", "kl", "reconstruction_nll"):
        assert np.all(np.isfinite(history[key])), key
    assert np.all(np.isfinite(model.elbo(x)))
    # At 0 and 1 the density's gradient in the logits is finite for logits around 0 (where C(p)'s formula is 0/0).
    logits = np.array([[-1e-6, 0.0, 1e-6, 1e-3, -2.0, 2.0]], np.float32)
    for value in (0.0, 1.0):
        lp, grad = gradient(
            lambda l: tfd.ContinuousBernoulli(logits=l).log_prob(np.full(logits.shape, value, np.float32)), logits
        )
        assert np.all(np.isfinite(lp)) and np.all(np.isfinite(grad))


# -- event sizes from 1 to 3x64x64 -----------------------------------------------------


EVENT_SHAPES = [(1,), (7,), (28, 28, 1), (64, 64, 3), (3, 64, 64)]


@pytest.mark.parametrize("event_shape", EVENT_SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_likelihood_layers_sum_exactly_over_any_event_size(event_shape):
    rng = np.random.default_rng(1)
    batch = 3
    d = int(np.prod(event_shape))
    x = rng.uniform(size=(batch,) + event_shape).astype(np.float32)
    xb = (x > 0.5).astype(np.float32)
    logits = rng.normal(scale=3.0, size=(batch, d)).astype(np.float32)
    nll = losses.NegativeLogLikelihood()

    bern = L.IndependentBernoulli(event_shape, project=False)(logits)
    expected = bernoulli_nll_float64(xb.reshape(batch, d), logits).sum(axis=1).mean()
    np.testing.assert_allclose(nll(xb, bern).numpy(), expected, rtol=1e-5)

    cb = L.IndependentContinuousBernoulli(event_shape, project=False)(logits)
    expected = -continuous_bernoulli_log_prob_float64(x.reshape(batch, d), logits).sum(axis=1).mean()
    np.testing.assert_allclose(nll(x, cb).numpy(), expected, rtol=1e-4, atol=1e-3)

    params = np.concatenate([logits / 3, rng.normal(scale=2.0, size=(batch, d)).astype(np.float32)], axis=1)
    normal = L.IndependentNormal(event_shape, scale="per_pixel", min_scale=1e-3, project=False)(params)
    sigma = normal.distribution.scale.numpy().reshape(batch, d).astype(np.float64)
    mu = params[:, :d].astype(np.float64)
    expected = (
        (x.reshape(batch, d) - mu) ** 2 / (2 * sigma**2) + np.log(sigma) + 0.5 * math.log(2 * math.pi)
    ).sum(axis=1).mean()
    np.testing.assert_allclose(nll(x, normal).numpy(), expected, rtol=1e-5)


@pytest.mark.parametrize("event_shape", [(1,), (64, 64, 3)], ids=["1", "64x64x3"])
def test_vae_trains_on_the_smallest_and_largest_event_sizes(event_shape):
    x = np.random.default_rng(2).uniform(size=(32,) + event_shape).astype(np.float32)
    model = tiny_vae(L.IndependentNormal(event_shape, scale="learned"))
    model.compile(optimizer="adam", jit_compile=False)
    history = model.fit(x, epochs=2, batch_size=16, verbose=0).history
    for key in ("loss", "kl", "reconstruction_nll"):
        assert np.all(np.isfinite(history[key])), key
    assert model.elbo(x).shape == (32,) and np.all(np.isfinite(model.elbo(x)))
    assert model.sample(2).shape == (2,) + event_shape


# -- IWAE: k=1 is the ELBO in expectation, and it grows with k ---------------------------


@pytest.fixture(scope="module")
def trained_bernoulli_vae(digits):
    x = (digits[:600] > 0.5).astype(np.float32)
    model = tiny_vae(L.IndependentBernoulli((8, 8, 1)), latent=4, hidden=(64,), seed=3)
    model.compile(optimizer="adam")
    model.fit(x, epochs=5, batch_size=50, verbose=0)
    return model, x[:64]


def test_iwae_with_k_1_equals_the_elbo_in_expectation(trained_bernoulli_vae):
    """Both are unbiased for ``E_q[log p(x|z)] - KL``: the ELBO with the analytic KL, IWAE(k=1) with ``log p(z) - log q(z|x)``."""
    model, x = trained_bernoulli_vae
    reps = 40
    elbo = np.stack([model.elbo(x) for _ in range(reps)])  # (reps, examples), fresh noise each call
    iwae = np.stack([model.iwae_log_likelihood(x, k=1, seed=r) for r in range(reps)])
    per_example = iwae.mean(axis=0) - elbo.mean(axis=0)
    standard_error = math.sqrt(((iwae.var(axis=0, ddof=1) + elbo.var(axis=0, ddof=1)) / reps).sum()) / len(x)
    assert standard_error < 0.5  # the comparison can resolve a fraction of a nat
    assert abs(per_example.mean()) < 4 * standard_error, (per_example.mean(), standard_error)


def test_iwae_is_non_decreasing_in_k_on_average(trained_bernoulli_vae):
    model, x = trained_bernoulli_vae
    ks = (1, 4, 16, 64)
    seeds = 6
    runs = np.array([[model.iwae_log_likelihood(x, k=k, seed=s).mean() for s in range(seeds)] for k in ks])
    means = runs.mean(axis=1)
    errors = runs.std(axis=1, ddof=1) / math.sqrt(seeds)
    for j in range(len(ks) - 1):
        slack = 3 * math.hypot(errors[j], errors[j + 1])
        assert means[j + 1] >= means[j] - slack, (ks[j], ks[j + 1], means, errors)
    # and the bound really tightens from k=1 to k=64
    assert means[-1] - means[0] > 3 * math.hypot(errors[0], errors[-1]), (means, errors)
