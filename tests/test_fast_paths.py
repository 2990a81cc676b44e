"""The training/IWAE fast paths compute exactly what the plain TFP calls compute."""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

import vae_tf
from vae_tf.distributions import reparameterized_sample
from vae_tf.objectives import flat_event_view

tfd = tfp.distributions


def test_flat_event_view_keeps_log_prob_for_each_likelihood():
    rng = np.random.default_rng(0)
    features = tf.constant(rng.normal(size=(5, 16)).astype("float32"))
    x_binary = tf.constant((rng.random((5, 4, 3, 2)) < 0.4).astype("float32"))
    x_grey = tf.constant(rng.random((5, 4, 3, 2)).astype("float32"))
    for layer, x in [
        (vae_tf.layers.IndependentBernoulli((4, 3, 2)), x_binary),
        (vae_tf.layers.IndependentNormal((4, 3, 2), scale="learned"), x_grey),
        (vae_tf.layers.IndependentNormal((4, 3, 2), scale="per_pixel"), x_grey),
        (vae_tf.layers.IndependentContinuousBernoulli((4, 3, 2)), x_grey),
    ]:
        px = layer(features)
        flat, x_flat = flat_event_view(px, x)
        assert x_flat.shape == (5, 24) and flat.event_shape == (24,)
        np.testing.assert_allclose(flat.log_prob(x_flat).numpy(), px.log_prob(x).numpy(), rtol=1e-5)


def test_flat_event_view_leaves_other_distributions_alone():
    mvn = tfd.MultivariateNormalDiag(tf.zeros((3, 4)), tf.ones((3, 4)))
    x = tf.zeros((3, 4))
    assert flat_event_view(mvn, x)[0] is mvn
    scalar_scale = tfd.Independent(tfd.Normal(tf.zeros((3, 2, 2)), 1.0), 2)  # scale not full-shaped
    assert flat_event_view(scalar_scale, tf.zeros((3, 2, 2)))[0] is scalar_scale


def test_reparameterized_sample_has_the_posterior_law_and_gradients():
    loc = tf.Variable([[0.5, -2.0, 3.0]])
    scale = tf.Variable([[0.1, 1.0, 2.0]])
    q = tfd.Independent(tfd.Normal(loc, scale), 1)
    with tf.GradientTape() as tape:
        z = reparameterized_sample(q, tf.constant([3, 4]), sample_shape=20000)
        total = tf.reduce_sum(z)
    assert z.shape == (20000, 1, 3)
    np.testing.assert_allclose(z.numpy().mean(axis=0)[0], loc.numpy()[0], atol=0.05)
    np.testing.assert_allclose(z.numpy().std(axis=0)[0], scale.numpy()[0], rtol=0.05)
    d_loc, d_scale = tape.gradient(total, [loc, scale])
    np.testing.assert_allclose(d_loc.numpy(), 20000.0)  # dz/dmu = 1 per draw
    # Same seed, same draw; a different distribution family falls back to q.sample.
    again = reparameterized_sample(q, tf.constant([3, 4]), sample_shape=20000)
    np.testing.assert_array_equal(again.numpy(), z.numpy())
    laplace = tfd.Independent(tfd.Laplace(loc, scale), 1)
    assert reparameterized_sample(laplace, tf.constant([1, 2])).shape == (1, 3)


def test_fast_bernoulli_log_prob_is_tfp_bernoulli_log_prob():
    rng = np.random.default_rng(3)
    logits = np.concatenate([rng.normal(scale=4.0, size=2000), [0.0, 17.0, -17.0, 90.0, -90.0, 1e4, -1e4]]).astype("float32")
    # dtype float32, as the layer builds it: with the default int32 TFP truncates a grey x to 0 before log_prob.
    fast = vae_tf.distributions.FastBernoulli(logits=logits, dtype=tf.float32)
    reference = tfd.Bernoulli(logits=logits, dtype=tf.float32)

    @tf.function(jit_compile=True)
    def compiled(logits, x):
        return vae_tf.distributions.FastBernoulli(logits=logits, dtype=tf.float32).log_prob(x)

    for x in [np.zeros_like(logits), np.ones_like(logits), (rng.random(logits.shape) < 0.5).astype("float32"),
              rng.random(logits.shape).astype("float32")]:  # grey x: the negative binary cross-entropy
        expected = reference.log_prob(x).numpy()
        # log(1 + e) for log1p(e): at most 6e-8 nats apart per value
        np.testing.assert_allclose(fast.log_prob(x).numpy(), expected, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(compiled(logits, x).numpy(), expected, rtol=1e-6, atol=1e-7)


def test_fast_bernoulli_handles_infinite_logits_and_probs_as_tfp_does():
    logits = np.array([np.inf, -np.inf, np.inf, -np.inf], "float32")
    x = np.array([1.0, 0.0, 0.0, 1.0], "float32")
    got = vae_tf.distributions.FastBernoulli(logits=logits).log_prob(x).numpy()
    np.testing.assert_array_equal(got, tfd.Bernoulli(logits=logits).log_prob(x).numpy())
    np.testing.assert_array_equal(got, [0.0, 0.0, -np.inf, -np.inf])
    probs = np.array([0.2, 0.7], "float32")
    np.testing.assert_array_equal(vae_tf.distributions.FastBernoulli(probs=probs).log_prob([1.0, 0.0]).numpy(),
                                  tfd.Bernoulli(probs=probs).log_prob([1.0, 0.0]).numpy())


def test_independent_bernoulli_layer_uses_the_fast_bernoulli():
    px = vae_tf.layers.IndependentBernoulli((4, 4, 1))(tf.zeros((2, 16)))
    assert isinstance(px.distribution, vae_tf.distributions.FastBernoulli)
    assert isinstance(px.distribution, tfd.Bernoulli)


def test_fast_bernoulli_bin_log_probs_are_the_log_probs_of_0_and_1():
    logits = tf.constant([[-30.0, -1.5, 0.0, 2.0, 40.0]])
    for dist in (vae_tf.distributions.FastBernoulli(logits=logits), vae_tf.distributions.FastBernoulli(probs=tf.sigmoid(logits))):
        table = dist.bin_log_probs().numpy()
        assert table.shape == (1, 5, 2)
        expected = np.stack([dist.log_prob(tf.zeros_like(logits)).numpy(), dist.log_prob(tf.ones_like(logits)).numpy()], -1)
        finite = np.isfinite(expected)
        np.testing.assert_allclose(table[finite], expected[finite], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(tf.reduce_logsumexp(vae_tf.distributions.FastBernoulli(logits=logits).bin_log_probs(), -1),
                               0.0, atol=1e-6)
