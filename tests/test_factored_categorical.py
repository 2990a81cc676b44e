"""FactoredLevelCategorical: the same log-probabilities and gradients as LevelCategorical(f W + b), without its logits.

References: scipy's log_softmax of the logits in float64, and TensorFlow's own gradient of
LevelCategorical(f W + b). Tolerances as in test_discretized.py (rtol 1e-5, atol 1e-6 nats).
"""

import numpy as np
import pytest
import scipy.special
import tensorflow as tf

from vae_tf import distributions as vd
from vae_tf import layers
from vae_tf.distributions.categorical import pixels_per_chunk

TOL = dict(rtol=1e-5, atol=1e-6)


def factors(rows, event, rank, num_levels, seed=0, extreme=False):
    rng = np.random.default_rng(seed)
    f = rng.normal(0.0, 1.0, (rows,) + event + (rank,)).astype(np.float32)
    w = rng.normal(0.0, 1.0, (rank, num_levels)).astype(np.float32)
    b = rng.normal(0.0, 2.0, event + (num_levels,)).astype(np.float32)
    if extreme:  # levels e^1e4 times likelier than the rest: exp(l_j - l_k) overflows, the max shift takes over
        b[..., rng.integers(0, num_levels, 3)] = 1e4
        b[..., rng.integers(0, num_levels, 3)] = -1e4
    k = rng.integers(0, num_levels, (rows,) + event)
    return f, w, b, k


def logits_of(f, w, b):
    return np.einsum("...j,jl->...l", f.astype(np.float64), w.astype(np.float64)) + b


# (rows, event, rank, L): one chunk; 37 pixels in chunks of 10 (3 padded); MNIST's 784 in 49 chunks of 16
SHAPES = [(3, (8, 8, 1), 4, 17), (160, (37, 1), 3, 256), (100, (28, 28, 1), 8, 256), (5, (4, 3, 3), 2, 2)]


def test_chunks_cover_the_pixels_as_asked():
    assert pixels_per_chunk(784, 100, 256) == 16          # a divisor: no padding
    assert pixels_per_chunk(784, None, 256) == 16         # a training batch of unknown size: 100 rows assumed
    assert pixels_per_chunk(37, 160, 256) == 10           # 37 is prime: 4 chunks, 3 padded pixels
    assert pixels_per_chunk(64, 3, 17) == 64              # small: one chunk
    assert pixels_per_chunk(784, 100_000, 256) == 1


@pytest.mark.parametrize("extreme", [False, True], ids=["typical", "extreme"])
@pytest.mark.parametrize("rows, event, rank, num_levels", SHAPES)
def test_log_prob_is_the_log_softmax_at_the_level(rows, event, rank, num_levels, extreme):
    f, w, b, k = factors(rows, event, rank, num_levels, extreme=extreme)
    x = (k / (num_levels - 1)).astype(np.float32)
    dist = vd.FactoredLevelCategorical(f, w, b, num_levels)
    # Of the float32 logits: at logits of 1e4, float32's own rounding of f W + b moves log P by 5e-4.
    log_softmax = scipy.special.log_softmax(dist.logits.numpy().astype(np.float64), axis=-1)
    reference = np.take_along_axis(log_softmax, k[..., None], -1)[..., 0]
    compiled = tf.function(lambda d, x: d.log_prob(x), jit_compile=True)
    for log_p in (dist.log_prob(x), tf.function(lambda d, x: d.log_prob(x))(dist, x), compiled(dist, x)):
        assert log_p.shape == k.shape and log_p.dtype == tf.float32
        np.testing.assert_allclose(log_p.numpy(), reference, **TOL)


@pytest.mark.parametrize("jit", [False, True], ids=["graph", "xla"])
@pytest.mark.parametrize("gap", [70.0, 89.0, 200.0, 1e4])
def test_one_level_far_likelier_than_the_observed_one(gap, jit):
    """A single exp(l_j - l_k) near or beyond float32's range: the chunk is summed again, shifted by the max."""
    f, w, b, k = factors(4, (6, 1), 2, 9, seed=3)
    b[..., 0] = b[..., 1:].max() + gap + 10.0   # level 0 beats every other level by more than the gap
    k[:] = np.where(k == 0, 1, k)
    dist = vd.FactoredLevelCategorical(f, w, b, 9)
    log_p = tf.function(lambda d, x: d.log_prob(x), jit_compile=jit)(dist, (k / 8).astype(np.float32))
    log_softmax = scipy.special.log_softmax(dist.logits.numpy().astype(np.float64), axis=-1)
    np.testing.assert_allclose(log_p.numpy(), np.take_along_axis(log_softmax, k[..., None], -1)[..., 0], **TOL)
    assert log_p.numpy().max() < -gap


@pytest.mark.parametrize("rows, event, rank, num_levels", SHAPES[:3])
def test_everything_else_is_level_categorical_of_the_logits(rows, event, rank, num_levels):
    f, w, b, _ = factors(rows, event, rank, num_levels)
    factored = vd.FactoredLevelCategorical(f, w, b, num_levels)
    plain = vd.LevelCategorical(factored.logits, num_levels)
    np.testing.assert_allclose(factored.logits.numpy(), logits_of(f, w, b), rtol=1e-5, atol=1e-4)
    assert factored.batch_shape == plain.batch_shape == (rows,) + event and factored.event_shape == ()
    np.testing.assert_array_equal(factored.bin_log_probs().numpy(), plain.bin_log_probs().numpy())
    np.testing.assert_array_equal(factored.mean().numpy(), plain.mean().numpy())
    np.testing.assert_array_equal(factored[1:].logits.numpy(), factored.logits.numpy()[1:])
    # x with a sample dimension takes the logits' path: the same numbers
    x = tf.cast(factored.sample(2, seed=1), tf.float32)
    np.testing.assert_allclose(factored.log_prob(x).numpy(), plain.log_prob(x).numpy(), **TOL)


def gradients(make, f, w, b, x, weights, jit):
    f, w, b = (tf.Variable(t) for t in (f, w, b))

    def step():
        with tf.GradientTape() as tape:
            log_p = make(f, w, b).log_prob(x)
            loss = -tf.reduce_mean(tf.reduce_sum(log_p * weights, axis=list(range(1, log_p.shape.rank))))
        return [loss, *tape.gradient(loss, [f, w, b])]

    return [t.numpy() for t in (step() if jit is None else tf.function(step, jit_compile=jit)())]


@pytest.mark.parametrize("jit", [None, False, True], ids=["eager", "graph", "xla"])
@pytest.mark.parametrize("weighted", [False, True], ids=["batch_mean", "sample_weights"])
@pytest.mark.parametrize("extreme", [False, True], ids=["typical", "extreme"])
@pytest.mark.parametrize("rows, event, rank, num_levels", SHAPES[:2])
def test_gradients_are_those_of_level_categorical(rows, event, rank, num_levels, extreme, weighted, jit):
    """A batch-mean loss takes the gradient kept by the forward pass; sample weights run the chunks again."""
    f, w, b, k = factors(rows, event, rank, num_levels, seed=1, extreme=extreme)
    x = (k / (num_levels - 1)).astype(np.float32)
    shape = (rows,) + (1,) * len(event)
    weights = np.random.default_rng(2).uniform(0.5, 2.0, shape).astype(np.float32) if weighted else 1.0

    def plain(f, w, b):
        logits = tf.reshape(tf.matmul(tf.reshape(f, (-1, rank)), w), f.shape[:-1] + (num_levels,)) + b
        return vd.LevelCategorical(logits, num_levels)

    ours = gradients(lambda f, w, b: vd.FactoredLevelCategorical(f, w, b, num_levels), f, w, b, x, weights, jit)
    reference = gradients(plain, f, w, b, x, weights, jit)
    for name, got, want in zip(("loss", "d/df", "d/dW", "d/db"), ours, reference):
        # relative to the largest entry: sums of +-P over rows cancel, in either order of summing
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6 * max(1.0, np.abs(want).max()), err_msg=name)


def test_the_layer_gives_the_factors_and_the_same_logits():
    layer = layers.IndependentCategorical((6, 5, 1), num_levels=17, rank=3, project=False)
    inputs = np.random.default_rng(0).normal(0.0, 1.0, (4, layer.num_params())).astype(np.float32)
    dist = layer(inputs).distribution
    assert isinstance(dist, vd.FactoredLevelCategorical) and dist.features.shape == (4, 6, 5, 1, 3)
    np.testing.assert_array_equal(dist.logits.numpy(), layer.logits(inputs).numpy())
    assert type(layers.IndependentCategorical((6, 5, 1), num_levels=17, rank=None, project=False)(
        np.zeros((1, 6 * 5 * 17), np.float32)).distribution) is vd.LevelCategorical


def test_the_training_step_never_holds_the_logits():
    """No tensor of the traced gradient step has rows x D x L values: the logits exist a chunk at a time."""
    rows, event, rank, num_levels = 20, (28, 28, 1), 8, 256
    f, w, b, k = factors(rows, event, rank, num_levels)
    f, w, b = (tf.Variable(t) for t in (f, w, b))
    x = tf.constant((k / (num_levels - 1)).astype(np.float32))

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = -tf.reduce_sum(vd.FactoredLevelCategorical(f, w, b, num_levels).log_prob(x))
        return tape.gradient(loss, [f, w, b])

    graph = step.get_concrete_function().graph
    sizes = [t.shape.num_elements() or 0 for op in graph.get_operations() for t in op.outputs if t.shape.rank]
    assert max(sizes) < rows * 784 * num_levels / 10
    step()  # and it runs


def test_factors_of_the_wrong_shape_are_refused():
    with pytest.raises(ValueError, match=r"level_kernel must have shape \(r, num_levels\) = \(3, 17\)"):
        vd.FactoredLevelCategorical(np.zeros((2, 3), np.float32), np.zeros((3, 16), np.float32),
                                    np.zeros((17,), np.float32), 17)
    with pytest.raises(ValueError, match="level_bias must have a last axis of size num_levels=17"):
        vd.FactoredLevelCategorical(np.zeros((2, 3), np.float32), np.zeros((3, 17), np.float32),
                                    np.zeros((16,), np.float32), 17)
