"""Distribution layers: shapes, parameter counts, bounded scales, serialization."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
import keras

from vae_tf import layers

tfd = tfp.distributions
EVENT = (4, 3, 1)


@pytest.mark.parametrize(
    "layer, base, n",
    [
        (layers.IndependentNormal(EVENT, scale=0.5), tfd.Normal, 12),
        (layers.IndependentNormal(EVENT, scale="learned"), tfd.Normal, 12),
        (layers.IndependentNormal(EVENT, scale="per_pixel"), tfd.Normal, 24),
        (layers.IndependentBernoulli(EVENT), tfd.Bernoulli, 12),
        (layers.IndependentContinuousBernoulli(EVENT), tfd.ContinuousBernoulli, 12),
    ],
)
def test_layers_make_independent_distributions(layer, base, n):
    h = tf.random.normal((5, 7))
    p = layer(h)
    assert isinstance(p, tfd.Independent) and isinstance(p.distribution, base)
    assert tuple(p.event_shape) == EVENT and tuple(p.batch_shape) == (5,)
    assert layer.num_params() == n
    assert p.log_prob(tf.fill((5,) + EVENT, 0.5)).shape == (5,)
    again = type(layer).from_config(layer.get_config())
    assert again.get_config() == layer.get_config()


def test_params_size():
    assert layers.IndependentNormal.params_size((28, 28, 1)) == 784
    assert layers.IndependentNormal.params_size((28, 28, 1), scale="per_pixel") == 1568
    assert layers.IndependentBernoulli.params_size((28, 28, 1)) == 784
    assert layers.IndependentContinuousBernoulli.params_size(10) == 10
    assert layers.DiagonalGaussianPosterior.params_size(50) == 100


def test_ready_parameters_are_accepted_and_checked():
    layer = layers.IndependentBernoulli(EVENT, project=False)
    logits = tf.random.normal((2, 12))
    np.testing.assert_allclose(layer(logits).distribution.logits.numpy().reshape(2, 12), logits.numpy())
    with pytest.raises(ValueError, match="12 parameters"):
        layer(tf.zeros((2, 10)))


def test_learned_and_per_pixel_scales_stay_above_min_scale():
    assert layers.bounded_scale(tf.constant(-1e4), 1e-3).numpy() >= np.float32(1e-3) * (1 - 1e-6)
    np.testing.assert_allclose(float(layers.bounded_scale(tf.constant(0.0), 1e-3)), 1.0, rtol=1e-3)
    layer = layers.IndependentNormal(EVENT, scale="per_pixel", project=False, min_scale=1e-2)
    p = layer(tf.concat([tf.zeros((2, 12)), tf.fill((2, 12), -1e4)], axis=-1))
    assert np.all(p.distribution.scale.numpy() >= np.float32(1e-2) * (1 - 1e-6))
    assert np.all(np.isfinite(p.log_prob(tf.zeros((2,) + EVENT)).numpy()))


def test_posterior_layer():
    q = layers.DiagonalGaussianPosterior(3)(tf.random.normal((4, 9)))
    assert tuple(q.event_shape) == (3,) and tuple(q.batch_shape) == (4,)


@pytest.mark.parametrize("bad", [0.0, -1.0, "huge", float("nan")])
def test_bad_scale_is_rejected(bad):
    with pytest.raises(ValueError, match="scale"):
        layers.IndependentNormal(EVENT, scale=bad)
