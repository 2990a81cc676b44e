"""Distributions with a logit per level: a categorical over the grey levels, and a fast Bernoulli (levels 0 and 1)."""

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
