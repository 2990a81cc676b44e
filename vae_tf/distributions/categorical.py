"""Distributions with a logit per level: a categorical over the grey levels (its logits given, or factored as
``f W + b`` with a log-mass that never holds them), and a fast Bernoulli (levels 0 and 1)."""

import tensorflow as tf
import tensorflow_probability as tfp

from vae_tf.data.levels import check_num_levels
from vae_tf.distributions.discretized import DiscretizedDistribution, float_dtype, level_values

tfd = tfp.distributions


class LevelCategorical(DiscretizedDistribution):
    r"""A categorical distribution over the ``L`` grey levels, valued ``k / (L - 1)``.

    Mathematical details: ``P(k) = softmax(logits)_k``, ``k = 0 .. L-1``::

        log P(k) = logits_k - logsumexp(logits)

    .. math::

        \log P(k) = l_k - \log \sum_{j=0}^{L-1} e^{l_j}, \qquad k = 0, \dots, L - 1

    and
    ``mean() = sum_k (k / (L - 1)) P(k)``. It is ``tfd.Categorical`` on the
    ``k / (L - 1)`` scale, with the interface of the other distributions here.

    Args:
        logits: ``(*batch_shape, L)``, the level axis last.
        num_levels: ``L``, a Python int >= 2; must equal the size of the last axis of ``logits``.
    """

    def __init__(self, logits, num_levels, validate_args=False, allow_nan_stats=True, name="LevelCategorical"):
        parameters = dict(locals())
        self._num_levels = check_num_levels(num_levels)
        with tf.name_scope(name) as name:
            dtype = float_dtype(logits)
            self._logits = tf.convert_to_tensor(logits, dtype, name="logits")
            last = self._logits.shape[-1] if self._logits.shape.rank else None
            if self._logits.shape.rank == 0 or (last is not None and last != self._num_levels):
                raise ValueError(
                    f"LevelCategorical: logits must have a last axis of size num_levels={self._num_levels}, "
                    f"got shape {self._logits.shape}."
                )
            self._init(self._num_levels, dtype, validate_args, allow_nan_stats, parameters, name, tfd.NOT_REPARAMETERIZED)

    @classmethod
    def _parameter_properties(cls, dtype, num_classes=None):
        return dict(logits=tfp.util.ParameterProperties(event_ndims=1))

    @property
    def logits(self):
        return self._logits

    def _log_mass(self, k):
        # Shift by the max before picking: logits_k - logsumexp(logits) would lose ~1e-3 nats at logits of 1e4.
        # Select with where, not one_hot * values: a logit of -inf must not become 0 * -inf = NaN.
        shifted = self._logits - tf.stop_gradient(tf.reduce_max(self._logits, axis=-1, keepdims=True))
        chosen = tf.equal(k[..., None], tf.cast(tf.range(self._num_levels), self.dtype))
        picked = tf.reduce_sum(tf.where(chosen, shifted, tf.zeros([], self.dtype)), axis=-1)
        return picked - tf.math.log(tf.reduce_sum(tf.exp(shifted), axis=-1))

    def bin_log_probs(self):
        """``log P(k)`` for ``k = 0 .. L-1``: ``log_softmax(logits)``, ``(*batch_shape, L)``."""
        return tf.nn.log_softmax(self._logits, axis=-1)

    def _mean(self):
        return tf.reduce_sum(tf.nn.softmax(self._logits, axis=-1) * level_values(self._num_levels, self.dtype), axis=-1)

    def _sample_n(self, n, seed=None):
        index = tfd.Categorical(logits=self._logits, dtype=tf.int32).sample(n, seed=seed)
        return tf.cast(index, self.dtype) / (self._num_levels - 1)


class FastBernoulli(tfd.Bernoulli):
    """A ``tfd.Bernoulli`` whose ``log_prob`` takes one ``exp`` and one ``log`` per value instead of two softplus.

    With logits ``l`` and ``c = log(1 + exp(-|l|))``::

        log p(x) = (1 - x) log(1 - sigmoid(l)) + x log sigmoid(l)
                 = -[(1 - x) relu(l) + x relu(-l) + c]

    the same function TFP's ``Bernoulli.log_prob`` computes as
    ``-(1 - x) softplus(l) - x softplus(-l)`` (also for grey ``x``, where it is the negative binary
    cross-entropy), with ``0 * inf = 0`` as there, so ``l = +-inf`` gives ``0`` or ``-inf``.
    ``log(1 + e)`` instead of ``log1p(e)`` is off by at most ``6e-8`` nats per value (when
    ``e < 2^-24`` it returns 0); the gradient is ``sigmoid(l) - x``, also at ``l = 0``. Why: XLA on
    CPU evaluates ``log`` 1.5x faster than ``log1p``, and the log-density of a 30,000 x 784 Bernoulli
    ran in 20 ms against TFP's 44 ms (2 cores). With ``probs`` instead of logits it is TFP's
    ``Bernoulli`` unchanged.
    """

    def _log_prob(self, event):
        if self._logits is None:
            return super()._log_prob(event)
        logits = tf.convert_to_tensor(self._logits)
        event = tf.cast(event, logits.dtype)
        # max(0, l), min(l, 0) and min(l, -l) = -|l| in this argument order: at l = 0 TensorFlow's tie rule
        # then gives the gradient sigmoid(0) - x = 0.5 - x, which abs and relu (gradient 0 at 0) lose.
        log_normalizer = tf.math.log(1.0 + tf.exp(tf.minimum(logits, -logits)))
        return -(tf.math.multiply_no_nan(tf.maximum(0.0, logits), 1.0 - event)
                 - tf.math.multiply_no_nan(tf.minimum(logits, 0.0), event) + log_normalizer)

    def bin_log_probs(self):
        """``[log P(0), log P(1)]`` for every value: a ``(*batch_shape, 2)`` float tensor (levels 0 and 1).

        From logits ``l``: ``[log sigmoid(-l), log sigmoid(l)]``; from probs ``p``: ``[log(1 - p), log p]``.
        The same interface as the distributions over grey levels, so a coder needs no Bernoulli case.
        """
        if self._logits is None:
            p = tf.convert_to_tensor(self._probs)
            return tf.stack([tf.math.log1p(-p), tf.math.log(p)], axis=-1)
        logits = tf.convert_to_tensor(self._logits)
        return tf.stack([tf.math.log_sigmoid(-logits), tf.math.log_sigmoid(logits)], axis=-1)


#: Logits per chunk of the fused log-mass: 1.6 MB of float32, which a chunk's ops pass on to each other in cache.
CHUNK_VALUES = 409_600
#: Largest sum of exp(l_j - l_k) taken as it is (e^69); a larger one (a level far likelier than the observed
#: one, up to overflow) is summed again shifted by the max logit.
SAFE_TOTAL = 1e30
#: Rows assumed when the row count is only known at run time (a training batch).
TYPICAL_ROWS = 100


class FactoredLevelCategorical(LevelCategorical):
    """``LevelCategorical`` with logits ``l_k = sum_j f_j W_jk + b_k``: ``r`` features per value, a shared level map.

    Mathematical details: ``P(k) = softmax(l)_k``, ``k = 0 .. L-1``, ``l = f W + b``; the values are
    ``k / (L - 1)``. The same distribution as ``LevelCategorical(f W + b, L)``; ``log_prob`` computes it
    without materialising the logits when ``x`` has the batch shape
    (:func:`~vae_tf.distributions.categorical.factored_level_log_mass`).

    Why a second class: ``layers.IndependentCategorical`` (rank ``r``) has ``D x L`` logits per image, 20M for a
    batch of 100 MNIST images (``D = 784``, ``L = 256``). Through ``LevelCategorical(logits)`` the log-mass and
    its gradient materialise five 80 MB tensors per step in XLA's plan (the logits, the bias add, the select of
    the observed level, the shifted exps, the gradient of the logits: XLA's reductions on CPU take
    materialised inputs) and read them nine times, and that memory traffic made the training step 12-30x the
    discretized normal's on an AVX2 CPU (CPU time and wall time under XLA, ``docs/results/benchmarks.md``). Here the log-mass is computed from the factors a few pixels at a
    time, so one chunk's logits stay in the CPU's cache, and the gradient comes out of the same pass.

    Args:
        features: ``(*batch_shape, r)``, ``f``.
        level_kernel: ``(r, L)``, ``W``, shared by every value.
        level_bias: ``(*trailing batch dims, L)``, ``b``, e.g. one row per pixel: ``(H, W, C, L)``.
        num_levels: ``L``, a Python int >= 2.
    """

    def __init__(self, features, level_kernel, level_bias, num_levels, validate_args=False, allow_nan_stats=True,
                 name="FactoredLevelCategorical"):
        parameters = dict(locals())
        self._num_levels = check_num_levels(num_levels)
        with tf.name_scope(name) as name:
            dtype = float_dtype(features, level_kernel, level_bias)
            self._features = tf.convert_to_tensor(features, dtype, name="features")
            self._level_kernel = tf.convert_to_tensor(level_kernel, dtype, name="level_kernel")
            self._level_bias = tf.convert_to_tensor(level_bias, dtype, name="level_bias")
            rank = self._features.shape[-1] if self._features.shape.rank else None
            kernel = self._level_kernel.shape
            # Leading 1s are allowed: TFP's batch slicing gives every parameter the batch rank.
            if (kernel.rank is None or kernel.rank < 2 or any(n != 1 for n in kernel[:-2])
                    or kernel[-1] not in (None, self._num_levels) or kernel[-2] not in (None, rank)):
                raise ValueError(f"FactoredLevelCategorical: level_kernel must have shape (r, num_levels) = "
                                 f"({rank}, {self._num_levels}), got {kernel}.")
            self._kernel = tf.reshape(self._level_kernel, kernel[-2:]) if kernel.rank > 2 else self._level_kernel
            if not self._level_bias.shape.rank or self._level_bias.shape[-1] not in (None, self._num_levels):
                raise ValueError(f"FactoredLevelCategorical: level_bias must have a last axis of size "
                                 f"num_levels={self._num_levels}, got shape {self._level_bias.shape}.")
            self._init(self._num_levels, dtype, validate_args, allow_nan_stats, parameters, name, tfd.NOT_REPARAMETERIZED)

    @classmethod
    def _parameter_properties(cls, dtype, num_classes=None):
        return dict(features=tfp.util.ParameterProperties(event_ndims=1),
                    level_kernel=tfp.util.ParameterProperties(event_ndims=2),
                    level_bias=tfp.util.ParameterProperties(event_ndims=1))

    @property
    def features(self):
        return self._features

    @property
    def level_kernel(self):
        return self._level_kernel

    @property
    def level_bias(self):
        return self._level_bias

    @property
    def _logits(self):
        # The layer's own computation, one (rows, r) x (r, L) matmul, so the logits are the same floats as before.
        r = tf.shape(self._features)[-1]
        flat = tf.matmul(tf.reshape(self._features, (-1, r)), self._kernel)
        shape = tf.concat([tf.shape(self._features)[:-1], [self._num_levels]], 0)
        return tf.reshape(flat, shape) + self._level_bias

    def _fused_levels(self, k):
        """``k`` as ``(rows, D)`` int32 for :func:`factored_level_log_mass`, or None where that does not apply.

        It applies when ``k`` has the batch shape, ``(*rows, *pixels)``, and ``b`` is one row per pixel (the
        layer's case); ``x`` with sample dimensions, or broadcasting against the batch, takes the logits.
        """
        f, pixels = self._features.shape, self._level_bias.shape[:-1]
        if f.rank is None or k.shape.rank is None or f[-1] is None or not pixels.is_fully_defined():
            return None
        rows = f.rank - 1 - pixels.rank
        if rows < 1 or k.shape.rank != f.rank - 1 or f[rows:-1] != pixels or not k.shape[rows:].is_compatible_with(pixels):
            return None
        if any(a is not None and b is not None and a != b for a, b in zip(k.shape[:rows], f[:rows])):
            return None
        levels = tf.broadcast_to(tf.cast(k, tf.int32), tf.shape(self._features)[:-1])
        return tf.reshape(levels, (-1, pixels.num_elements()))

    def _log_mass(self, k):
        levels = self._fused_levels(k)
        if levels is None:
            return super()._log_mass(k)
        d, r = levels.shape[1], self._features.shape[-1]
        log_mass = factored_level_log_mass(tf.reshape(self._features, (-1, d, r)), self._kernel,
                                           tf.reshape(self._level_bias, (d, -1)), levels)
        return tf.reshape(log_mass, tf.shape(self._features)[:-1])


def pixels_per_chunk(num_pixels, num_rows, num_levels):
    """Pixels per chunk of :func:`factored_level_log_mass`: about ``CHUNK_VALUES`` logits, a divisor of D if one is near."""
    target = max(1, CHUNK_VALUES // ((num_rows or TYPICAL_ROWS) * num_levels))
    if target >= num_pixels:
        return num_pixels
    for size in range(target, (target + 1) // 2 - 1, -1):
        if num_pixels % size == 0:
            return size
    return target


def _wants_gradient(*tensors):
    """Whether a gradient tape records ops on ``tensors`` (True when TensorFlow cannot say)."""
    try:
        from tensorflow.python.eager import record
        return bool(record.should_record_backprop([tf.convert_to_tensor(t) for t in tensors]))
    except Exception:  # a TensorFlow without this internal: compute the gradient's parts anyway
        return True


def factored_level_log_mass(features, level_kernel, level_bias, levels):
    """``log P(k_nd) = l_nd[k_nd] - logsumexp_j l_nd[j]``, ``l_nd = f_nd W + b_d``, without materialising ``l``.

    Args:
        features: ``(rows, D, r)``, ``f``.
        level_kernel: ``(r, L)``, ``W``.
        level_bias: ``(D, L)``, ``b``.
        levels: ``(rows, D)`` int32, the observed ``k``.

    Returns ``(rows, D)``. The pixels are taken a chunk at a time (``pixels_per_chunk``), every row of them:
    ``l = f W + b`` by one matmul, ``S = sum_j exp(l_j - l_k)`` shifted by the observed level's logit
    (``S >= 1``, no max pass; a chunk where ``S > SAFE_TOTAL``, some level ``e^69`` times likelier than the
    observed one, takes the max instead), ``log P(k) = -log S``. With ``P = softmax(l)`` the gradient is::

        d log P(k) / d l = onehot(k) - P,   so  d/df = W_k - P W^T,  d/dW = f (onehot(k) - P),  d/db = onehot(k) - P

    When a tape records, the forward pass also keeps ``P W^T`` per value and ``sum_n f_n P_n``, ``sum_n P_n``
    over the rows; the backward pass scales them by the upstream gradient ``g`` when ``g`` is one number
    throughout (a batch-mean loss without sample weights, the training step), and otherwise runs the
    chunks again with ``g``. Only the ``D x L`` and ``r x L`` sums over rows need that: ``d/df`` is exact
    for any ``g``. The gradient is first order only (a custom gradient): no Hessians through it.
    """
    features = tf.convert_to_tensor(features)
    level_kernel = tf.convert_to_tensor(level_kernel, features.dtype)
    level_bias = tf.convert_to_tensor(level_bias, features.dtype)
    levels = tf.convert_to_tensor(levels, tf.int32)
    d, r = features.shape[1], features.shape[2]
    num_levels = level_kernel.shape[1]
    dc = pixels_per_chunk(d, features.shape[0], num_levels)
    n = -(-d // dc)
    with_parts = _wants_gradient(features, level_kernel, level_bias)

    def chunked(t):
        """``(rows, D, ...) -> (n, dc, rows, ...)``: pixel-major, padded to ``n * dc`` pixels."""
        t = tf.transpose(t, [1, 0] + list(range(2, t.shape.rank)))
        if n * dc > d:
            t = tf.pad(t, [[0, n * dc - d]] + [[0, 0]] * (t.shape.rank - 1))
        return tf.reshape(t, tf.concat([[n, dc], tf.shape(t)[1:]], 0))

    def unchunked(t):
        t = tf.reshape(t, tf.concat([[n * dc], tf.shape(t)[2:]], 0))[:d]
        return tf.transpose(t, [1, 0] + list(range(2, t.shape.rank)))

    def pixel_rows(t):
        """A stacked ``(n, dc, L)`` per-pixel result as ``(D, L)``."""
        return tf.reshape(t, (n * dc, num_levels))[:d]

    @tf.custom_gradient
    def log_mass(features, level_kernel, level_bias):
        f_chunks = chunked(features)                                          # (n, dc, rows, r)
        k_chunks = chunked(levels)                                            # (n, dc, rows)
        b_chunks = tf.reshape(tf.pad(level_bias, [[0, n * dc - d], [0, 0]]), (n, dc, num_levels))
        dtype = features.dtype

        def chunk_logits(i):
            flat = tf.matmul(tf.reshape(f_chunks[i], (-1, r)), level_kernel)
            return tf.reshape(flat, (dc, -1, num_levels)) + b_chunks[i][:, None, :]

        def shifted_exp(logits, shift):
            e = tf.exp(logits - shift[..., None])
            return shift, e, tf.reduce_sum(e, -1)

        def max_shifted_exp(i):
            logits = chunk_logits(i)  # again, not passed in: an operand of the cond would be materialised every time
            return shifted_exp(logits, tf.reduce_max(logits, -1))

        def forward(i, *carry):
            logits = chunk_logits(i)
            picked = tf.gather(logits, k_chunks[i][..., None], batch_dims=2)[..., 0]       # (dc, rows)
            shift, e, total = shifted_exp(logits, picked)
            # A bound, not is_finite: it does not depend on exp overflowing to inf (XLA's clamps its argument
            # at 88.8, just past float32's range; an exp that saturated would leave a wrong, finite sum).
            shift, e, total = tf.cond(tf.reduce_all(total < SAFE_TOTAL), lambda: (shift, e, total),
                                      lambda: max_shifted_exp(i))
            inverse = 1.0 / total                                             # P = e / total
            out = [carry[0].write(i, picked - shift - tf.math.log(total)), carry[1].write(i, shift),
                   carry[2].write(i, inverse)]
            if with_parts:  # P applied through the small sides: (e W^T) / total, (f / total)^T e
                flat_e = tf.reshape(e, (-1, num_levels))
                mean_w = tf.reshape(tf.matmul(flat_e, level_kernel, transpose_b=True), (dc, -1, r)) * inverse[..., None]
                scaled_f = tf.reshape(f_chunks[i] * inverse[..., None], (-1, r))
                out += [carry[3].write(i, mean_w), carry[4] + tf.matmul(scaled_f, flat_e, transpose_a=True),
                        carry[5].write(i, tf.matmul(inverse[:, None, :], e)[:, 0, :])]
            return (i + 1, *out)

        carry = [tf.TensorArray(dtype, n), tf.TensorArray(dtype, n), tf.TensorArray(dtype, n)]
        if with_parts:
            carry += [tf.TensorArray(dtype, n), tf.zeros((r, num_levels), dtype), tf.TensorArray(dtype, n)]
        result = tf.while_loop(lambda i, *_: i < n, forward, (tf.constant(0), *carry), maximum_iterations=n)
        log_p = unchunked(result[1].stack())                                  # (rows, D)
        # P again from the shift and 1 / total, as in the forward pass: exp(l - logsumexp l) would lose
        # float32's rounding of logsumexp l (6e-5 at logits of 1e3) in every probability.
        shifts, inverses = result[2].stack(), result[3].stack()              # (n, dc, rows)

        def rerun(g):
            """``(P W^T, sum_n g_n f_n P_n, sum_n g_n P_n)`` from the chunks again."""
            g_chunks = chunked(g)

            def backward(i, mean_w, kernel_sum, bias_sum):
                p = tf.exp(chunk_logits(i) - shifts[i][..., None]) * inverses[i][..., None]
                flat_p = tf.reshape(p, (-1, num_levels))
                mean_w = mean_w.write(i, tf.reshape(tf.matmul(flat_p, level_kernel, transpose_b=True), (dc, -1, r)))
                scaled_f = tf.reshape(f_chunks[i] * g_chunks[i][..., None], (-1, r))
                kernel_sum = kernel_sum + tf.matmul(scaled_f, flat_p, transpose_a=True)
                return i + 1, mean_w, kernel_sum, bias_sum.write(i, tf.matmul(g_chunks[i][:, None, :], p)[:, 0, :])

            carry = (tf.constant(0), tf.TensorArray(dtype, n), tf.zeros((r, num_levels), dtype), tf.TensorArray(dtype, n))
            _, mean_w, kernel_sum, bias_sum = tf.while_loop(lambda i, *_: i < n, backward, carry, maximum_iterations=n)
            return unchunked(mean_w.stack()), kernel_sum, pixel_rows(bias_sum.stack())

        def grad(g):
            g = tf.convert_to_tensor(g, dtype)
            kernel_at_level = tf.gather(tf.transpose(level_kernel), levels)   # (rows, D, r): W_k
            # The observed level's side: sum_n g_n f_n onehot(k_n) and sum_n g_n onehot(k_n), as scatter-adds.
            flat_levels = tf.reshape(levels, [-1])
            kernel_at_k = tf.transpose(tf.math.unsorted_segment_sum(
                tf.reshape(g[..., None] * features, (-1, r)), flat_levels, num_levels))
            cells = tf.reshape(tf.range(d)[None, :] * num_levels + levels, [-1])
            bias_at_k = tf.reshape(tf.math.unsorted_segment_sum(tf.reshape(g, [-1]), cells, d * num_levels), (d, num_levels))
            if not with_parts:
                mean_w, kernel_p, bias_p = rerun(g)
                return g[..., None] * (kernel_at_level - mean_w), kernel_at_k - kernel_p, bias_at_k - bias_p
            mean_w, kernel_mean, bias_mean = unchunked(result[4].stack()), result[5], pixel_rows(result[6].stack())
            g_max = tf.reduce_max(g)
            kernel_p, bias_p = tf.cond(tf.equal(tf.reduce_min(g), g_max),
                                       lambda: (g_max * kernel_mean, g_max * bias_mean), lambda: rerun(g)[1:])
            return g[..., None] * (kernel_at_level - mean_w), kernel_at_k - kernel_p, bias_at_k - bias_p

        return log_p, grad

    return log_mass(features, level_kernel, level_bias)
