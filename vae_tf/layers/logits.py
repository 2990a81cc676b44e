"""Decoders parameterised by logits: the Bernoulli (binary pixels), the continuous Bernoulli ([0, 1]) and a free
categorical over the L levels of every value (a factored logit map).
"""

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from vae_tf import distributions
from vae_tf.errors import check_integer
from vae_tf.distributions import FastBernoulli
from vae_tf.layers.base import DistributionLayer, event_shape_of
from vae_tf.support import BINARY, LEVELS, UNIT_INTERVAL

tfd = tfp.distributions


class LogitLayer(DistributionLayer):
    """``D`` logits per example, reshaped to the event: the base of the Bernoulli-type decoders."""

    @staticmethod
    def params_size(event_shape):
        """``D`` logits per example."""
        return int(np.prod(event_shape_of(event_shape)))

    def logits(self, inputs):
        """``(batch, *event_shape)`` float32 logits."""
        return self.reshape_event(self.parameters_from(inputs))


@keras.saving.register_keras_serializable(package="vae_tf")
class IndependentBernoulli(LogitLayer):
    r"""``p(x | h) = prod_d Bernoulli(x_d; sigmoid(l_d(h)))``, parameterised by logits::

        -log p(x) = sum_d softplus(l_d) - x_d l_d

    .. math::

        -\log p(x \mid h) = \sum_{d=1}^{D} \big[\operatorname{softplus}(l_d(h)) - x_d\, l_d(h)\big]

    binary cross-entropy summed over pixels. Samples and the mean are float32.
    """

    #: Binary pixels (grey values in [0, 1] train through BCE, but only binary images have a probability).
    support_kind = BINARY

    def call(self, inputs):
        return self.independent(FastBernoulli(logits=self.logits(inputs), dtype=tf.float32))


@keras.saving.register_keras_serializable(package="vae_tf")
class IndependentContinuousBernoulli(LogitLayer):
    r"""``p(x | h) = prod_d CB(x_d; sigmoid(l_d(h)))`` on ``[0, 1]`` (Loaiza-Ganem & Cunningham, 2019).

    With the normaliser ``C(p) = 2 artanh(1 - 2p) / (1 - 2p)`` (``C(1/2) = 2``)::

        log CB(x; p) = x log p + (1 - x) log(1 - p) + log C(p)

    .. math::

        \log \mathcal{CB}(x; p) = x \log p + (1 - x) \log(1 - p) + \log C(p),
        \qquad C(p) = \frac{2\,\operatorname{artanh}(1 - 2p)}{1 - 2p}

    the Bernoulli density made a proper density for grey values.
    """

    #: A density on [0, 1]; ``num_levels``, when given, is the ``L`` of the integer images it is scored against.
    support_kind = UNIT_INTERVAL

    def call(self, inputs):
        return self.independent(tfd.ContinuousBernoulli(logits=self.logits(inputs)))


@keras.saving.register_keras_serializable(package="vae_tf")
class IndependentCategorical(DistributionLayer):
    r"""``P(k | h) = prod_d softmax(l_d(h))_{k_d}``: a free distribution over the ``L`` levels of every pixel.

    Why a factored parameterisation: a Dense map from ``F`` features straight
    to ``D L`` logits has ``F D L`` weights (40M for a 200-unit MLP on MNIST,
    ``D = 784``, ``L = 256``), a hundred times the other decoders. Instead, with
    ``rank = r``, the network gives each pixel ``r`` features ``f_d(h)`` (the
    projection is ``F -> D r``) and one level map shared by all pixels turns
    them into logits::

        l_dk = sum_j f_dj(h) W_jk + b_dk,      W: (r, L) shared,  b: (*event_shape, L) per pixel

    .. math::

        P(k_d \mid h) = \operatorname{softmax}(l_d)_{k_d}, \qquad
        l_{dk} = \sum_{j=1}^{r} f_{dj}(h)\, W_{jk} + b_{dk}

    with ``W`` of shape ``(r, L)``, shared, and ``b`` of shape ``(*event_shape, L)``, per pixel.

    ``b_d`` is each pixel's own level histogram (e.g. MNIST's always-black
    border); ``W`` is a learned basis of ``r`` level profiles, so each pixel's
    distribution is an ``r``-parameter exponential family over the levels,
    free enough to be multimodal, at ``F D r + r L + D L`` weights
    (1.5M for the example above with ``r = 8``).

    With ``rank=None`` the parameters are the ``D L`` logits themselves
    (no level map): the unrestricted categorical, for small ``D L``.

    The distribution is ``Independent(FactoredLevelCategorical(f, W, b))`` with a rank,
    ``Independent(LevelCategorical(logits))`` without; both have ``.logits``. The factored one's
    ``log_prob`` never holds the ``(batch, D, L)`` logits, which made the training step 12-30x the
    discretized normal's on an AVX2 CPU (see ``distributions.FactoredLevelCategorical``).

    ``params_size`` and ``project=False`` refer to the network's part: with
    ``project=False`` the input is the per-pixel features ``(batch, D r)`` or
    ``(batch, H, W, C r)`` (pixel-major), and the layer still owns ``W`` and ``b``;
    with ``rank=None`` it is the logits, ``(batch, D L)``.

    Args:
        event_shape: shape of one example.
        num_levels: ``L``.
        rank: ``r``, features per pixel (default 8), or None for direct logits.
        project: own the Dense projection from features, or take ready per-pixel features.
    """

    #: The ``num_levels`` levels ``k / (L - 1)``: exact probabilities of integer images.
    support_kind = LEVELS

    def __init__(self, event_shape, num_levels=256, rank=8, project=True, **kwargs):
        if rank is not None:
            check_integer(rank, "IndependentCategorical: rank", expected="a positive integer or None")
        num_levels = distributions.check_num_levels(num_levels)
        self.rank = None if rank is None else int(rank)
        super().__init__(event_shape, project=project, num_params=self.params_size(event_shape, num_levels, self.rank),
                         num_levels=num_levels, **kwargs)

    def values_per_row(self):
        """``D x L`` logits per decoder row, whatever the projection's rank."""
        return self.event_size * self.num_levels

    @staticmethod
    def params_size(event_shape, num_levels=256, rank=8):
        """``D r`` per-pixel features (``D L`` logits when ``rank`` is None)."""
        d = int(np.prod(event_shape_of(event_shape)))
        return d * (int(num_levels) if rank is None else int(rank))

    def build(self, input_shape):
        if self.rank is not None:
            self.level_kernel = self.add_weight(
                shape=(self.rank, self.num_levels), initializer="glorot_uniform", name="level_kernel"
            )
            self.level_bias = self.add_weight(
                shape=self.event_shape + (self.num_levels,), initializer="zeros", name="level_bias"
            )
        super().build(input_shape)

    def logits(self, inputs):
        """``(batch, *event_shape, L)`` float32 logits."""
        params = self.parameters_from(inputs)
        shape = tf.concat([tf.shape(params)[:1], self.event_shape, [self.num_levels]], 0)
        if self.rank is None:
            return tf.reshape(params, shape)
        # One (batch * D, r) x (r, L) matmul: XLA on CPU ran the equivalent einsum ~20x slower.
        logits = tf.matmul(tf.reshape(params, (-1, self.rank)), self.level_kernel)
        return tf.reshape(logits, shape) + self.level_bias

    def call(self, inputs):
        if self.rank is None:
            return self.independent(distributions.LevelCategorical(self.logits(inputs), self.num_levels))
        # The factors, not the (batch, D, L) logits: its log_prob then never materialises them (fast on CPU).
        params = self.parameters_from(inputs)
        features = tf.reshape(params, tf.concat([tf.shape(params)[:1], self.event_shape, [self.rank]], 0))
        return self.independent(distributions.FactoredLevelCategorical(
            features, self.level_kernel, self.level_bias, self.num_levels))

    def get_config(self):
        return {**super().get_config(), "rank": self.rank}
