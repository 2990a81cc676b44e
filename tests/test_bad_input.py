"""Bad input through the public API: a clear error naming the problem and the offending value, never a NaN loss.

One table row per mistake: what is called, and a pattern the message must
match (the problem and the value or shape at fault). The CLI's own inputs
(config names, .npz files) are tested with the CLI.
"""

import math

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
import keras

import losses
import vae_tf

tfd = tfp.distributions
EVENT = (4, 4, 1)
RNG = np.random.default_rng(0)
X = RNG.uniform(size=(6,) + EVENT).astype("float32")
XB = (X > 0.5).astype("float32")


def with_value(value, index=(1, 2, 3, 0)):
    x = X.copy()
    x[index] = value
    return x


def bernoulli(shape=(6,) + EVENT):
    return tfd.Independent(tfd.Bernoulli(logits=tf.zeros(shape), dtype=tf.float32), len(shape) - 1)


def continuous_bernoulli(shape=(6,) + EVENT):
    return tfd.Independent(tfd.ContinuousBernoulli(logits=tf.zeros(shape)), len(shape) - 1)


def normal(shape=(6,) + EVENT):
    return tfd.Independent(tfd.Normal(tf.zeros(shape), 1.0), len(shape) - 1)


def make_vae(likelihood="bernoulli", **kwargs):
    layer = {
        "bernoulli": vae_tf.layers.IndependentBernoulli,
        "continuous_bernoulli": vae_tf.layers.IndependentContinuousBernoulli,
        "normal": vae_tf.layers.IndependentNormal,
    }[likelihood](EVENT)
    model = vae_tf.VAE(vae_tf.networks.mlp_encoder(2, (8,)), vae_tf.networks.mlp_decoder((8,)), layer, seed=0, **kwargs)
    model.compile(optimizer="adam", jit_compile=False)
    return model


@pytest.fixture(scope="module")
def vae():
    """One built Bernoulli VAE shared by the rows: none of them may reach training, so it stays unchanged."""
    model = make_vae()
    model.build((None,) + EVENT)
    return model


@pytest.fixture(scope="module")
def normal_vae():
    model = make_vae("normal")
    model.build((None,) + EVENT)
    return model


# (id, call(vae, normal_vae), pattern the message must match)
CASES = [
    # wrong shapes
    ("fit_wrong_event_shape", lambda m, n: m.fit(X.reshape(6, 16), verbose=0), r"\(6, 16\).*event_shape \(4, 4, 1\)"),
    ("fit_no_batch_axis", lambda m, n: m.fit(X[0], verbose=0), r"\(4, 4, 1\).*event_shape"),
    ("evaluate_targets_wrong_shape", lambda m, n: m.evaluate(XB, XB[:, :2], verbose=0), r"Targets y has shape \(6, 2, 4, 1\)"),
    ("elbo_wrong_shape", lambda m, n: m.elbo(XB[:, :, :3]), r"\(6, 4, 3, 1\)"),
    ("iwae_wrong_shape", lambda m, n: m.iwae_log_likelihood(XB.reshape(6, 16), k=2), r"\(6, 16\)"),
    ("nll_wrong_shape", lambda m, n: losses.NegativeLogLikelihood()(XB[:, :2], bernoulli()), r"\(6, 2, 4, 1\).*\(6, 4, 4, 1\)"),
    ("scaled_mse_wrong_shape", lambda m, n: losses.ScaledMSE()(X, X[:, :3]), r"\(6, 4, 4, 1\).*\(6, 3, 4, 1\)"),
    ("bce_wrong_shape", lambda m, n: losses.BinaryCrossentropy()(XB, X[..., 0]), r"\(6, 4, 4, 1\).*\(6, 4, 4\)"),
    ("layer_wrong_param_count", lambda m, n: vae_tf.layers.IndependentBernoulli(EVENT, project=False)(tf.zeros((2, 5))),
     r"16 parameters.*got 5"),
    ("layer_empty_event_shape", lambda m, n: vae_tf.layers.IndependentNormal(()), r"event_shape.*\(\)"),
    ("layer_zero_event_dim", lambda m, n: vae_tf.layers.IndependentBernoulli((28, 0)), r"event_shape.*\(28, 0\)"),
    # NaN / Inf pixels
    ("fit_nan_pixel", lambda m, n: n.fit(with_value(np.nan), verbose=0), r"NaN or Inf.*nan at index \(1, 2, 3, 0\)"),
    ("fit_inf_pixel", lambda m, n: n.fit(with_value(np.inf), verbose=0), r"NaN or Inf.*inf at index \(1, 2, 3, 0\)"),
    ("fit_nan_target", lambda m, n: n.fit(X, with_value(np.nan), verbose=0), r"Targets y contain NaN"),
    ("fit_nan_validation", lambda m, n: n.fit(X, validation_data=(with_value(-np.inf),), verbose=0),
     r"validation_data: Data x contain NaN or Inf.*-inf"),
    ("fit_dataset_nan", lambda m, n: n.fit(tf.data.Dataset.from_tensor_slices(with_value(np.nan)).batch(3), verbose=0),
     r"NaN or Inf.*index \(1, 2, 3, 0\)"),
    ("evaluate_nan_pixel", lambda m, n: n.evaluate(with_value(np.nan), verbose=0), r"NaN or Inf"),
    ("elbo_nan_pixel", lambda m, n: n.elbo(with_value(np.nan)), r"NaN or Inf"),
    ("iwae_inf_pixel", lambda m, n: n.iwae_log_likelihood(with_value(np.inf), k=2), r"NaN or Inf.*inf"),
    ("nll_nan_target", lambda m, n: losses.NegativeLogLikelihood()(with_value(np.nan), normal()), r"y_true contains NaN.*\(1, 2, 3, 0\)"),
    ("scaled_mse_inf_prediction", lambda m, n: losses.ScaledMSE()(X, with_value(np.inf)), r"prediction contains NaN or Inf: inf"),
    ("bce_nan_target", lambda m, n: losses.BinaryCrossentropy()(with_value(np.nan), X), r"y_true contains NaN"),
    ("layer_nan_features", lambda m, n: vae_tf.layers.IndependentNormal((3,))(tf.constant([[0.0, np.nan]])),
     r"NaN or Inf \(nan at index \(0, 1\)\)"),
    ("decode_nan_latent", lambda m, n: m.decode(tf.constant([[np.nan, 0.0]])), r"NaN or Inf"),
    # values outside [0, 1] for (continuous) Bernoulli
    ("fit_bernoulli_above_one", lambda m, n: m.fit(XB * 1.5, verbose=0), r"IndependentBernoulli.*\[0, 1\].*\[0, 1\.5\]"),
    ("fit_bernoulli_negative", lambda m, n: m.fit(XB - 0.5, verbose=0), r"\[0, 1\].*\[-0\.5, 0\.5\]"),
    ("fit_continuous_bernoulli_above_one", lambda m, n: make_vae("continuous_bernoulli").fit(X + 1, verbose=0),
     r"IndependentContinuousBernoulli.*\[0, 1\]"),
    ("nll_bernoulli_target_two", lambda m, n: losses.NegativeLogLikelihood()(XB * 2, bernoulli()), r"\[0, 1\].*\[0, 2\]"),
    ("nll_continuous_bernoulli_negative", lambda m, n: losses.NegativeLogLikelihood()(-X, continuous_bernoulli()),
     r"\[0, 1\]"),
    ("bce_target_above_one", lambda m, n: losses.BinaryCrossentropy()(X * 3, X), r"\[0, 1\]"),
    # integer 0..255 pixels where [0, 1] is expected: the message says so
    ("fit_uint8_pixels_normal", lambda m, n: n.fit((X * 255).astype("uint8"), verbose=0), r"uint8.*up to 2\d\d.*divide by 255"),
    ("fit_int_pixels_bernoulli", lambda m, n: m.fit((X * 255).astype("int64"), verbose=0), r"int64.*divide by 255"),
    ("elbo_uint8_pixels", lambda m, n: m.elbo((X * 255).astype("uint8")), r"divide by 255"),
    ("fit_float_0_255_bernoulli", lambda m, n: m.fit(np.round(X * 255), verbose=0), r"0\.\.255 pixels\? divide by 255"),
    ("nll_bernoulli_uint8", lambda m, n: losses.NegativeLogLikelihood()((X * 255).astype("uint8"), bernoulli()),
     r"0\.\.255\? divide by 255"),
    ("bce_uint8", lambda m, n: losses.BinaryCrossentropy()((X * 255).astype("uint8"), X), r"0\.\.255\? divide by 255"),
    # empty batch
    ("fit_empty", lambda m, n: m.fit(np.zeros((0,) + EVENT, "float32"), verbose=0), r"Empty batch.*\(0, 4, 4, 1\)"),
    ("evaluate_empty", lambda m, n: m.evaluate(np.zeros((0,) + EVENT, "float32"), verbose=0), r"Empty batch"),
    ("elbo_empty", lambda m, n: m.elbo(np.zeros((0,) + EVENT, "float32")), r"Empty batch"),
    ("iwae_empty", lambda m, n: m.iwae_log_likelihood(np.zeros((0,) + EVENT, "float32"), k=3), r"Empty batch"),
    ("nll_empty", lambda m, n: losses.NegativeLogLikelihood()(np.zeros((0, 3), "float32"), normal((0, 3))), r"empty batch.*\(0, 3\)"),
    ("scaled_mse_empty", lambda m, n: losses.ScaledMSE()(np.zeros((0, 3)), np.zeros((0, 3))), r"empty batch"),
    ("fit_none", lambda m, n: m.fit(None, verbose=0), r"got None"),
    ("fit_strings", lambda m, n: m.fit(np.full((2,) + EVENT, "a"), verbose=0), r"numeric.*<U1"),
    # sigma <= 0
    ("scaled_mse_sigma_zero", lambda m, n: losses.ScaledMSE(sigma=0.0), r"sigma.*> 0.*0\.0"),
    ("scaled_mse_sigma_negative", lambda m, n: losses.ScaledMSE(sigma=-0.5), r"sigma.*-0\.5"),
    ("scaled_mse_sigma_nan", lambda m, n: losses.ScaledMSE(sigma=float("nan")), r"sigma.*nan"),
    ("scaled_mse_sigma_text", lambda m, n: losses.ScaledMSE(sigma="small"), r"sigma.*'small'"),
    ("normal_fixed_sigma_zero", lambda m, n: vae_tf.layers.IndependentNormal(EVENT, scale=0.0), r"sigma.*> 0.*0\.0"),
    ("normal_fixed_sigma_negative", lambda m, n: vae_tf.layers.IndependentNormal(EVENT, scale=-1), r"sigma.*-1"),
    ("normal_min_sigma_zero", lambda m, n: vae_tf.layers.IndependentNormal(EVENT, scale="learned", min_scale=0.0),
     r"min_scale.*> 0.*0\.0"),
    ("posterior_min_sigma_negative", lambda m, n: vae_tf.layers.DiagonalGaussianPosterior(2, min_scale=-1e-4),
     r"min_scale.*-0\.0001"),
    ("normal_unknown_scale_mode", lambda m, n: vae_tf.layers.IndependentNormal(EVENT, scale="per_image"), r"per_image"),
    # k <= 0 (and other counts)
    ("iwae_k_zero", lambda m, n: m.iwae_log_likelihood(XB, k=0), r"k must be a positive integer, got 0"),
    ("iwae_k_negative", lambda m, n: m.iwae_log_likelihood(XB, k=-5), r"k .*got -5"),
    ("iwae_k_float", lambda m, n: m.iwae_log_likelihood(XB, k=2.5), r"k .*got 2\.5"),
    ("iwae_batch_size_zero", lambda m, n: m.iwae_log_likelihood(XB, k=2, batch_size=0), r"batch_size.*got 0"),
    ("iwae_max_rows_zero", lambda m, n: m.iwae_log_likelihood(XB, k=2, max_rows=0), r"max_rows.*got 0"),
    ("elbo_batch_size_zero", lambda m, n: m.elbo(XB, batch_size=0), r"batch_size.*got 0"),
    ("sample_n_zero", lambda m, n: m.sample(0), r"n must be a positive integer, got 0"),
    # beta < 0
    ("beta_negative", lambda m, n: make_vae(beta=-0.1), r"beta.*>= 0.*-0\.1"),
    ("beta_nan", lambda m, n: make_vae(beta=float("nan")), r"beta.*nan"),
    ("beta_inf", lambda m, n: make_vae(beta=float("inf")), r"beta.*inf"),
    ("beta_text", lambda m, n: make_vae(beta="one"), r"beta.*'one'"),
    # sample weights that would make the loss NaN or ascend it
    ("fit_nan_sample_weight", lambda m, n: n.fit(X, sample_weight=np.array([1, np.nan, 1, 1, 1, 1]), verbose=0),
     r"sample_weight\[1\] = nan"),
    ("fit_negative_sample_weight", lambda m, n: n.fit(X, sample_weight=-np.ones(6), verbose=0), r"sample_weight\[0\] = -1"),
    ("evaluate_sample_weight_wrong_length", lambda m, n: n.evaluate(X, sample_weight=np.ones(4), verbose=0),
     r"sample_weight has shape \(4,\).*\(6,\)"),
]


@pytest.mark.parametrize("call, pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_a_clear_error(vae, normal_vae, call, pattern):
    weights = [w.copy() for w in normal_vae.get_weights()]
    with pytest.raises(ValueError, match=pattern):
        call(vae, normal_vae)
    # Rejected before any step ran: the shared model was not trained on the bad data.
    for before, after in zip(weights, normal_vae.get_weights()):
        np.testing.assert_array_equal(before, after)


def test_valid_edge_values_are_accepted(vae):
    """The checks do not reject what is valid: exact 0 and 1, booleans, integer 0/1 pixels, one example."""
    for x in (XB, XB.astype(bool), XB.astype("uint8"), XB[:1]):
        history = vae.fit(x, epochs=1, batch_size=6, verbose=0).history
        assert np.isfinite(history["loss"][0])
    assert np.all(np.isfinite(vae.iwae_log_likelihood(XB[:2], k=1)))


# -- hypothesis: the loss identities over random shapes and values ----------

PROPERTY_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
shapes = hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=5)
finite = dict(allow_nan=False, allow_infinity=False, width=32)


@st.composite
def targets_and_means(draw, low=-3.0, high=3.0):
    shape = draw(shapes)
    x = draw(hnp.arrays(np.float32, shape, elements=st.floats(low, high, **finite)))
    mu = draw(hnp.arrays(np.float32, shape, elements=st.floats(low, high, **finite)))
    return x, mu


def event_size(x):
    return int(np.prod(x.shape[1:]))


@PROPERTY_SETTINGS
@given(data=targets_and_means(), sigma=st.floats(0.05, 20.0))
def test_scaled_mse_with_constant_is_the_normal_nll(data, sigma):
    x, mu = data
    p = tfd.Independent(tfd.Normal(mu, np.float32(sigma)), x.ndim - 1)
    nll = losses.NegativeLogLikelihood()(x, p).numpy()
    mse = losses.ScaledMSE(sigma, include_constant=True)(x, mu).numpy()
    assert np.isfinite(nll) and np.isfinite(mse)
    np.testing.assert_allclose(mse, nll, rtol=1e-4, atol=1e-3 * event_size(x))
    # ...and it is bounded below by its constant, reached at x == mu
    constant = event_size(x) * (math.log(sigma) + 0.5 * math.log(2 * math.pi))
    assert mse >= constant - 1e-4 * max(1.0, abs(constant))


@PROPERTY_SETTINGS
@given(data=targets_and_means(), sigma=st.floats(0.05, 20.0))
def test_keras_mean_squared_error_is_scaled_mse_times_two_sigma_squared_over_d(data, sigma):
    x, mu = data
    scaled = losses.ScaledMSE(sigma)(x, mu).numpy()
    keras_mse = keras.losses.MeanSquaredError()(x, mu).numpy()
    assert scaled >= 0 and np.isfinite(scaled)
    np.testing.assert_allclose(keras_mse, scaled * 2 * sigma**2 / event_size(x), rtol=1e-4, atol=1e-6)


@st.composite
def binary_targets_and_logits(draw, grey=False):
    shape = draw(shapes)
    if grey:
        x = draw(hnp.arrays(np.float32, shape, elements=st.floats(0.0, 1.0, **finite)))
    else:
        x = draw(hnp.arrays(np.float32, shape, elements=st.sampled_from([0.0, 1.0])))
    logits = draw(hnp.arrays(np.float32, shape, elements=st.floats(-1e4, 1e4, **finite)))
    return x, logits


@PROPERTY_SETTINGS
@given(data=binary_targets_and_logits())
def test_bce_is_the_bernoulli_nll_on_binary_targets(data):
    x, logits = data
    p = tfd.Independent(tfd.Bernoulli(logits=logits, dtype=tf.float32), x.ndim - 1)
    nll = losses.NegativeLogLikelihood()(x, p).numpy()
    from_distribution = losses.BinaryCrossentropy()(x, p).numpy()
    from_logits = losses.BinaryCrossentropy(from_logits=True)(x, logits).numpy()
    assert np.isfinite(nll) and nll >= 0
    np.testing.assert_allclose(from_distribution, nll, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(from_logits, nll, rtol=1e-5, atol=1e-4)


@PROPERTY_SETTINGS
@given(data=binary_targets_and_logits(grey=True))
def test_bce_on_grey_targets_is_at_least_their_entropy_and_continuous_bernoulli_is_finite(data):
    """``BCE(x, l) >= sum_d H(x_d)``, the binary entropy, with equality at ``sigmoid(l) = x``."""
    x, logits = data
    bce = losses.BinaryCrossentropy(from_logits=True)(x, logits).numpy()
    xd = x.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(np.where(xd > 0, xd * np.log(xd), 0) + np.where(xd < 1, (1 - xd) * np.log1p(-xd), 0))
    entropy = h.reshape(len(x), -1).sum(axis=1).mean()
    assert np.isfinite(bce) and bce >= entropy - 1e-4 * max(1.0, entropy)
    cb = tfd.Independent(tfd.ContinuousBernoulli(logits=logits), x.ndim - 1)
    assert np.isfinite(losses.NegativeLogLikelihood()(x, cb).numpy())
