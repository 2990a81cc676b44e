"""A categorical distribution over the grey levels, valued ``k / (L - 1)``."""

import tensorflow as tf
import tensorflow_probability as tfp

from vae_tf.distributions.bin_grid import check_num_bins, level_values
from vae_tf.distributions.discretized_distribution import DiscretizedDistribution, float_dtype

tfd = tfp.distributions


class LevelCategorical(DiscretizedDistribution):
    """A categorical distribution over the ``L`` grey levels, valued ``k / (L - 1)``.

    Mathematical details: ``P(k) = softmax(logits)_k``, ``k = 0 .. L-1``;
    ``log P(k) = logits_k - logsumexp(logits)``;
    ``mean() = sum_k (k / (L - 1)) P(k)``. It is ``tfd.Categorical`` on the
    ``k / (L - 1)`` scale, with the interface of the other distributions here.

    Args:
        logits: ``(*batch_shape, L)``, the level axis last.
        num_bins: ``L``, a Python int >= 2; must equal the size of the last axis of ``logits``.
    """

    def __init__(self, logits, num_bins, validate_args=False, allow_nan_stats=True, name="LevelCategorical"):
        parameters = dict(locals())
        self._num_bins = check_num_bins(num_bins)
        with tf.name_scope(name) as name:
            dtype = float_dtype(logits)
            self._logits = tf.convert_to_tensor(logits, dtype, name="logits")
            last = self._logits.shape[-1] if self._logits.shape.rank else None
            if self._logits.shape.rank == 0 or (last is not None and last != self._num_bins):
                raise ValueError(
                    f"LevelCategorical: logits must have a last axis of size num_bins={self._num_bins}, "
                    f"got shape {self._logits.shape}."
                )
            self._init(self._num_bins, dtype, validate_args, allow_nan_stats, parameters, name, tfd.NOT_REPARAMETERIZED)

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
        chosen = tf.equal(k[..., None], tf.cast(tf.range(self._num_bins), self.dtype))
        picked = tf.reduce_sum(tf.where(chosen, shifted, tf.zeros([], self.dtype)), axis=-1)
        return picked - tf.math.log(tf.reduce_sum(tf.exp(shifted), axis=-1))

    def bin_log_probs(self):
        """``log P(k)`` for ``k = 0 .. L-1``: ``log_softmax(logits)``, ``(*batch_shape, L)``."""
        return tf.nn.log_softmax(self._logits, axis=-1)

    def _mean(self):
        return tf.reduce_sum(tf.nn.softmax(self._logits, axis=-1) * level_values(self._num_bins, self.dtype), axis=-1)

    def _sample_n(self, n, seed=None):
        index = tfd.Categorical(logits=self._logits, dtype=tf.int32).sample(n, seed=seed)
        return tf.cast(index, self.dtype) / (self._num_bins - 1)
