"""Exactness of the reconstruction losses against TFP densities, and their errors."""

import math

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
import keras

import losses

tfd = tfp.distributions
RTOL = 1e-5


def normal(mean, sigma):
    return tfd.Independent(tfd.Normal(mean, sigma), reinterpreted_batch_ndims=3)


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(16, 6, 5, 2)).astype("float32")
    mean = rng.normal(size=x.shape).astype("float32")
    return x, mean


@pytest.mark.parametrize("sigma", [0.05, 0.3, 1.0, 19.8])
def test_scaled_mse_with_constant_is_gaussian_nll(batch, sigma):
    x, mean = batch
    nll = -tf.reduce_mean(normal(mean, sigma).log_prob(x))
    for y_pred in (mean, normal(mean, sigma)):
        got = losses.ScaledMSE(sigma=sigma, include_constant=True)(x, y_pred)
        np.testing.assert_allclose(got.numpy(), nll.numpy(), rtol=RTOL)


def test_scaled_mse_without_constant_is_nll_minus_constant(batch):
    x, mean = batch
    sigma, d = 0.2, x[0].size
    constant = d * math.log(sigma) + 0.5 * d * math.log(2 * math.pi)
    nll = -tf.reduce_mean(normal(mean, sigma).log_prob(x)).numpy()
    np.testing.assert_allclose(losses.ScaledMSE(sigma)(x, mean).numpy(), nll - constant, rtol=RTOL)


@pytest.mark.parametrize("sigma", [0.1, 1.0, 3.0])
def test_scaled_mse_gradient_is_residual_over_variance(batch, sigma):
    x, mean = batch
    mu = tf.Variable(mean)
    with tf.GradientTape() as tape:
        loss = losses.ScaledMSE(sigma=sigma, reduction="sum")(x, mu)
    np.testing.assert_allclose(tape.gradient(loss, mu).numpy(), (mean - x) / sigma**2, rtol=RTOL, atol=1e-6)
    with tf.GradientTape() as tape:  # the default averages over the batch
        loss = losses.ScaledMSE(sigma=sigma)(x, mu)
    np.testing.assert_allclose(tape.gradient(loss, mu).numpy(), (mean - x) / sigma**2 / len(x), rtol=RTOL, atol=1e-7)


def test_classic_slip_log_det_is_sum_of_log_variances():
    """-1/2 log prod sigma_i^2 = -1/2 sum log sigma_i^2, not -1/2 sum sigma_i^2."""
    rng = np.random.default_rng(1)
    sigma = rng.uniform(0.05, 2.0, size=7).astype("float32")
    x, mu = np.zeros(7, "float32"), np.zeros(7, "float32")
    log_p = tfd.MultivariateNormalDiag(mu, sigma).log_prob(x).numpy()
    right = -0.5 * np.sum(np.log(sigma**2)) - 3.5 * math.log(2 * math.pi)
    slip = -0.5 * np.sum(sigma**2) - 3.5 * math.log(2 * math.pi)
    np.testing.assert_allclose(log_p, right, rtol=RTOL)
    assert abs(log_p - slip) > 1.0


def bernoulli(logits):
    return tfd.Independent(tfd.Bernoulli(logits=logits, dtype=tf.float32), reinterpreted_batch_ndims=3)


def test_bce_is_bernoulli_nll_on_binary_targets(batch):
    x, logits = batch
    xb = (x > 0.5).astype("float32")
    nll = -tf.reduce_mean(bernoulli(logits).log_prob(xb)).numpy()
    np.testing.assert_allclose(losses.BinaryCrossentropy()(xb, bernoulli(logits)).numpy(), nll, rtol=RTOL)
    np.testing.assert_allclose(losses.BinaryCrossentropy(from_logits=True)(xb, logits).numpy(), nll, rtol=RTOL)
    np.testing.assert_allclose(losses.NegativeLogLikelihood()(xb, bernoulli(logits)).numpy(), nll, rtol=RTOL)
    probs = tf.sigmoid(logits / 4)
    nll_p = -tf.reduce_mean(bernoulli(logits / 4).log_prob(xb)).numpy()
    np.testing.assert_allclose(losses.BinaryCrossentropy()(xb, probs).numpy(), nll_p, rtol=1e-4)


def test_bce_uses_logits_of_the_distribution_not_log_sigmoid():
    logits = tf.constant([[-1e4, 1e4, 30.0, -30.0]])
    x = tf.constant([[1.0, 0.0, 0.0, 1.0]])
    got = losses.BinaryCrossentropy()(x, tfd.Independent(tfd.Bernoulli(logits=logits), 1)).numpy()
    np.testing.assert_allclose(got, 2e4 + 60.0, rtol=RTOL)


def test_mean_mse_plus_kl_hides_a_beta(batch):
    """Keras' "mse" + KL == (2 sigma^2 / D) (Gaussian NLL at sigma^2 = D/2, minus its constant) + KL."""
    x, mean = batch
    d = x[0].size
    sigma = math.sqrt(d / 2)
    kl = tf.constant(3.7)
    keras_mse = keras.losses.MeanSquaredError()(x, mean) + kl
    nll_minus_constant = losses.ScaledMSE(sigma=sigma, include_constant=True)(x, mean) - (
        d * math.log(sigma) + 0.5 * d * math.log(2 * math.pi)
    )
    np.testing.assert_allclose(keras_mse.numpy(), ((2 * sigma**2 / d) * nll_minus_constant + kl).numpy(), rtol=RTOL)
    # For 28x28 images the implied decoder sigma is ~19.8: a hidden beta of D / (2 sigma^2) on any other sigma.
    assert abs(math.sqrt(784 / 2) - 19.8) < 0.01


def test_sample_weight_weights_each_example(batch):
    x, mean = batch
    w = np.zeros(len(x), "float32")
    w[:4] = 1.0
    per_example = losses.ScaledMSE(reduction="none")(x, mean).numpy()
    np.testing.assert_allclose(losses.ScaledMSE()(x, mean, sample_weight=w).numpy(), per_example[:4].sum() / len(x), rtol=RTOL)


def test_nll_accepts_any_distribution_with_extra_batch_dims(batch):
    x, mean = batch
    plain = tfd.Normal(mean, 0.5)  # batch_shape (16, 6, 5, 2): summed over all but the first axis
    np.testing.assert_allclose(
        losses.NegativeLogLikelihood()(x, plain).numpy(), -tf.reduce_mean(normal(mean, 0.5).log_prob(x)).numpy(), rtol=RTOL
    )


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda x, m: losses.ScaledMSE()(x, m[:, :3]), "shape"),
        (lambda x, m: losses.NegativeLogLikelihood()(x[:, :2], normal(m, 1.0)), "shape"),
        (lambda x, m: losses.BinaryCrossentropy()(x * 3, m), r"\[0, 1\]"),
        (lambda x, m: losses.BinaryCrossentropy()(-x, m), r"\[0, 1\]"),
        (lambda x, m: losses.BinaryCrossentropy()(x, "probabilities"), "str"),
        (lambda x, m: losses.NegativeLogLikelihood()(x, m), "TFP distribution"),
        (lambda x, m: losses.ScaledMSE(sigma=0.0), "sigma"),
        (lambda x, m: losses.ScaledMSE(sigma=-1.0), "sigma"),
    ],
)
def test_bad_input_is_a_clear_error(batch, make, match):
    x, mean = batch
    with pytest.raises((ValueError, TypeError), match=match):
        make(x, mean)


@pytest.mark.parametrize("loss", [losses.NegativeLogLikelihood(), losses.ScaledMSE(0.3, True), losses.BinaryCrossentropy(True)])
def test_losses_serialize(loss):
    again = keras.losses.deserialize(keras.losses.serialize(loss))
    assert type(again) is type(loss) and again.get_config() == loss.get_config()


def test_nll_works_with_tfp_layers_in_tf_keras():
    """tfp.layers return tensor-coercible distributions in a legacy tf_keras model; the loss takes them too."""
    tf_keras = pytest.importorskip("tf_keras")
    rng = np.random.default_rng(0)
    x = (rng.uniform(size=(64, 10)) > 0.5).astype("float32")
    model = tf_keras.Sequential(
        [tf_keras.layers.Dense(tfp.layers.IndependentBernoulli.params_size(10), input_shape=(10,)), tfp.layers.IndependentBernoulli(10)]
    )
    rv = model(x)
    expected = -tf.reduce_mean(rv.log_prob(x)).numpy()
    np.testing.assert_allclose(losses.NegativeLogLikelihood()(x, rv).numpy(), expected, rtol=RTOL)
    nll = losses.NegativeLogLikelihood()
    model.compile(optimizer=tf_keras.optimizers.Adam(1e-2), loss=lambda y, p: nll(y, p))
    history = model.fit(x, x, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
