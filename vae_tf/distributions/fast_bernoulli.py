"""A ``tfd.Bernoulli`` with a cheaper log-density and, like the distributions over grey levels, ``bin_log_probs()``."""

import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions


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
