"""A mixture of logistics integrated over the bins of the grey levels (PixelCNN++, Salimans et al., 2017)."""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from vae_tf.data.levels import check_num_levels
from vae_tf.distributions.discretized import (DiscretizedDistribution, LocationScale, float_dtype, log1mexp,
                                              positive_scale_properties, standardized_bin, thresholds)

tfd = tfp.distributions


def discretized_logistic_log_mass(k, loc, scale, num_levels):
    """``log P(k)`` of ``Logistic(loc, scale)`` integrated over bin ``k`` of ``num_levels`` (element-wise).

    With ``h = 1 / (L - 1)``, ``a = ((k - 1/2) h - loc) / scale`` and
    ``b = ((k + 1/2) h - loc) / scale`` (so ``b - a = h / scale``), the
    logistic CDF ``sigmoid`` gives ``P(k) = sigmoid(b) - sigmoid(a)``, which factors
    exactly as ``sigmoid(b) sigmoid(-a) (1 - exp(-(b - a)))``::

        log P(k)   = -softplus(-b) - softplus(a) + log(1 - exp(-h / scale))    0 < k < L-1
        log P(0)   = -softplus(-b)                                             (log sigmoid(b))
        log P(L-1) = -softplus(a)                                              (log sigmoid(-a))

    No difference of probabilities is formed, so unlike PixelCNN++'s
    ``sigmoid(b) - sigmoid(a)`` (Salimans et al., 2017) this needs no mid-bin
    density fallback: it is accurate in both tails and finite for any finite
    ``loc`` and ``scale > 0``.
    """
    h = 1.0 / (num_levels - 1)
    _, _, a, b = standardized_bin(k, loc, scale, num_levels, reflect=False)
    bottom = tf.equal(k, 0.0)
    top = tf.equal(k, float(num_levels - 1))
    log_width = log1mexp(h / scale)
    zero = tf.zeros_like(a)
    return (
        tf.where(bottom, zero, -tf.nn.softplus(a))
        + tf.where(top, zero, -tf.nn.softplus(-b))
        + tf.where(bottom | top, zero, log_width)
    )


#: Thresholds per slice when a mean sums over them (bounds its memory, see :func:`discretized_logistic_mean`).
_MEAN_SLICE = 32


def discretized_logistic_mean(loc, scale, num_levels):
    """``E[x]`` of ``Logistic(loc, scale)`` discretized to the levels ``k / (L - 1)`` (element-wise).

    ``E[k] = sum_{j=1}^{L-1} P(k >= j) = sum_j sigmoid((loc - t_j) / scale)`` with
    ``t_j = (j - 1/2) / (L - 1)``, divided by ``L - 1``. The sum runs over slices of the
    ``L - 1`` thresholds: the whole ``(..., L-1)`` tensor is 4 GB for 1000 MNIST images at K = 5.
    """
    t = thresholds(num_levels, loc.dtype)
    loc, scale = loc[..., None], scale[..., None]
    exceed = tf.add_n([tf.reduce_sum(tf.sigmoid((loc - t[j:j + _MEAN_SLICE]) / scale), axis=-1)
                       for j in range(0, num_levels - 1, _MEAN_SLICE)])
    return exceed / (num_levels - 1)


class MixtureWeights:
    """The mixture weights of a mixture over its last axis: ``logits``, ``num_components`` and
    ``log_softmax(logits)`` (from its ``_logits``)."""

    @property
    def logits(self):
        return self._logits

    @property
    def num_components(self):
        return tf.compat.dimension_value(self._logits.shape[-1])

    def _log_weights(self):
        return tf.nn.log_softmax(self._logits, axis=-1)


class DiscretizedLogisticMixture(MixtureWeights, LocationScale, DiscretizedDistribution):
    r"""A mixture of ``K`` logistics integrated over the ``L`` bins of ``k / (L - 1)`` (PixelCNN++).

    Mathematical details: with mixture weights ``pi = softmax(logits)`` over the
    last axis and ``P_i(k)`` the mass of ``Logistic(loc_i, scale_i)`` on bin ``k``
    (edge bins taking the tails; see :func:`discretized_logistic_log_mass`)::

        P(k) = sum_i pi_i P_i(k),
        log P(k) = logsumexp_i [log_softmax(logits)_i + log P_i(k)]

    .. math::

        P(k) = \sum_{i=1}^{K} \pi_i P_i(k), \qquad
        P_i(k) = \operatorname{sigmoid}\Big(\frac{(k + \tfrac12) h - \mu_i}{s_i}\Big)
        - \operatorname{sigmoid}\Big(\frac{(k - \tfrac12) h - \mu_i}{s_i}\Big)

    as in Salimans et al. (2017), PixelCNN++, for one channel per pixel.
    ``mean() = sum_i pi_i h sum_{j=1}^{L-1} sigmoid((loc_i - (j - 1/2) h) / scale_i)``;
    ``sample()`` picks a component, draws the logistic and rounds to the nearest
    level, clipped to ``[0, 1]``.

    Args:
        logits, loc, scale: ``(*batch_shape, K)`` each (the component axis last);
            ``scale > 0``; ``loc`` and ``scale`` on the ``k / (L - 1)`` scale.
        num_levels: ``L``, a Python int >= 2.
    """

    def __init__(self, logits, loc, scale, num_levels, validate_args=False, allow_nan_stats=True,
                 name="DiscretizedLogisticMixture"):
        parameters = dict(locals())
        self._num_levels = check_num_levels(num_levels)
        with tf.name_scope(name) as name:
            dtype = float_dtype(logits, loc, scale)
            self._logits = tf.convert_to_tensor(logits, dtype, name="logits")
            self._loc = tf.convert_to_tensor(loc, dtype, name="loc")
            self._scale = tf.convert_to_tensor(scale, dtype, name="scale")
            for what, t in (("logits", self._logits), ("loc", self._loc), ("scale", self._scale)):
                if t.shape.rank == 0:
                    raise ValueError(f"DiscretizedLogisticMixture: {what} needs a last (component) axis, got a scalar.")
            self._init(self._num_levels, dtype, validate_args, allow_nan_stats, parameters, name, tfd.NOT_REPARAMETERIZED)

    @classmethod
    def _parameter_properties(cls, dtype, num_classes=None):
        return dict(
            logits=tfp.util.ParameterProperties(event_ndims=1),
            loc=tfp.util.ParameterProperties(event_ndims=1),
            scale=positive_scale_properties(event_ndims=1),
        )

    def _log_mass(self, k):
        component = discretized_logistic_log_mass(k[..., None], self._loc, self._scale, self._num_levels)
        return tf.reduce_logsumexp(self._log_weights() + component, axis=-1)

    def bin_log_probs(self):
        """``log P(k)`` for ``k = 0 .. L-1``: a ``(*batch_shape, L)`` float tensor (builds ``(*batch, L, K)``)."""
        k = tf.cast(tf.range(self._num_levels), self.dtype)[:, None]
        component = discretized_logistic_log_mass(k, self._loc[..., None, :], self._scale[..., None, :], self._num_levels)
        out = tf.reduce_logsumexp(self._log_weights()[..., None, :] + component, axis=-1)
        return tf.broadcast_to(out, tf.concat([self.batch_shape_tensor(), [self._num_levels]], 0))

    def _mean(self):
        component_means = discretized_logistic_mean(self._loc, self._scale, self._num_levels)
        mean = tf.reduce_sum(tf.nn.softmax(self._logits, axis=-1) * component_means, axis=-1)
        return tf.broadcast_to(mean, self.batch_shape_tensor())

    def _sample_n(self, n, seed=None):
        component_seed, logistic_seed = tfp.random.split_seed(seed, n=2)
        batch = self.batch_shape_tensor()
        k = tf.cast(self._logits.shape[-1], tf.int32) if self._logits.shape[-1] is not None else tf.shape(self._logits)[-1]
        logits = tf.broadcast_to(self._logits, tf.concat([batch, [k]], 0))
        index = tfd.Categorical(logits=logits).sample(n, seed=component_seed)  # (n, *batch)
        chosen = tf.one_hot(index, k, dtype=self.dtype)
        loc = tf.reduce_sum(chosen * tf.broadcast_to(self._loc, tf.shape(logits)), -1)
        scale = tf.reduce_sum(chosen * tf.broadcast_to(self._scale, tf.shape(logits)), -1)
        uniform = tf.random.stateless_uniform(
            tf.shape(index), seed=logistic_seed, minval=np.finfo(np.float32).tiny, maxval=1.0, dtype=self.dtype
        )
        x = loc + scale * (tf.math.log(uniform) - tf.math.log1p(-uniform))
        return self._level_sample(x * (self._num_levels - 1))

    def _parameter_control_dependencies(self, is_init):
        if not self.validate_args or not is_init:
            return []
        return [tf.debugging.assert_positive(self._scale, message="DiscretizedLogisticMixture: scale must be > 0")]
