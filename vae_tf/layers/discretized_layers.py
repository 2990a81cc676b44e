"""Likelihood layers over the ``L`` grey levels of an image: exact probabilities of integer images.

Each takes pixels as ``x = k / (L - 1)`` in ``[0, 1]`` (``L = num_bins``) and
returns ``Independent(base, len(event_shape))`` over a per-pixel distribution
of :mod:`vae_tf.distributions`, so ``-log_prob(x)`` is the number of nats
needed to code the integer image exactly, and ``mean()`` is on the same
``[0, 1]`` scale. ``p.distribution.bin_log_probs()`` is ``(rows, *event_shape, L)``.

Like the continuous layers they own their projection (``project=True``) or
take ready parameters (``project=False``), compute in float32 whatever the
mixed-precision policy, and run under XLA.

Parameter layout with ``project=False``: the ``P`` numbers of one pixel are
contiguous (pixel-major), i.e. an input ``(batch, D * P)`` or a convolutional
output ``(batch, H, W, C * P)`` is read as ``(batch, *event_shape, P)``.
:class:`IndependentDiscretizedNormal` keeps :class:`IndependentNormal`'s
layout instead (all means, then all raw log-sigmas), so the two are drop-in
replacements for each other.

Note on speed: the training step's flat-event view (``flat_event_view`` in
``vae_tf.models.vae.model``) applies to :class:`IndependentDiscretizedNormal`
(its ``loc`` and ``scale`` have the full ``(rows, *event_shape)`` shape); the
mixture and the categorical keep a trailing component / level axis, which is
already the minor axis XLA vectorises along, so the view leaves them as they are.
"""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import keras

from vae_tf.distributions import discretized
from vae_tf.support import Support
from vae_tf.layers.distribution_layers import _DistributionLayer, _GaussianParameterLayer, _event_shape, bounded_scale

tfd = tfp.distributions


@keras.saving.register_keras_serializable(package="vae_tf")
class IndependentDiscretizedNormal(_GaussianParameterLayer):
    """``P(k | h) = prod_d DiscretizedNormal(k_d; mu_d(h), sigma_d, L)``: the Gaussian integrated over each bin.

    With ``h_L = 1 / (L - 1)``, pixel value ``x_d = k_d h_L`` and ``Phi`` the
    standard normal CDF::

        P(x_d) = Phi((x_d + h_L/2 - mu_d) / sigma_d) - Phi((x_d - h_L/2 - mu_d) / sigma_d)

    the two edge bins taking the tails to -inf and +inf. This is what "MSE
    with a sigma" (:class:`IndependentNormal`) becomes as a probability of
    ``L``-level pixels: ``-log P(x) >= 0`` always, and as ``sigma >> h_L``,
    ``log P(x) -> log N(x; mu, sigma^2 I) + D log h_L``.

    The scale options, ``min_scale`` and the parameter layout are those of
    :class:`IndependentNormal` (the same machinery). ``mean()`` is the mean of
    the discretized variable (see ``DiscretizedNormal``), which
    ``losses.ScaledMSE`` and Keras' ``"mse"`` train through.

    Args:
        event_shape: shape of one example, e.g. ``(28, 28, 1)``.
        scale: a float (fixed sigma), ``"learned"`` or ``"per_pixel"``.
        min_scale: lower bound of a learned or predicted sigma.
        num_bins: ``L``, the number of grey levels (256 for 8-bit images).
        project: own the Dense projection from features, or take ready parameters.
    """

    def __init__(self, event_shape, scale=1.0, min_scale=1e-3, num_bins=256, project=True, **kwargs):
        self.num_bins = discretized.check_num_bins(num_bins)
        super().__init__(event_shape, scale=scale, min_scale=min_scale, project=project, **kwargs)

    def call(self, inputs):
        loc, scale = self.loc_and_scale(inputs)
        return self.independent(discretized.DiscretizedNormal(loc, scale, self.num_bins))

    def get_config(self):
        return {**super().get_config(), "num_bins": self.num_bins}

    @property
    def support(self):
        """The ``num_bins`` levels ``k / (L - 1)``: exact probabilities of integer images."""
        return Support.levels(self.num_bins)


@keras.saving.register_keras_serializable(package="vae_tf")
class DiscretizedLogisticMixture(_DistributionLayer):
    """``P(k | h) = prod_d sum_i pi_di(h) DiscretizedLogistic(k_d; mu_di(h), s_di(h), L)`` (PixelCNN++).

    Every pixel gets a mixture of ``K = num_components`` logistics integrated
    over the bins of ``k / (L - 1)``, the edge bins taking the tails
    (Salimans et al., 2017; one channel per pixel, no autoregression)::

        log P(x_d) = logsumexp_i [log_softmax(l_d)_i + log(sigmoid(b_di) - sigmoid(a_di))]
        a_di = (x_d - h_L/2 - mu_di) / s_di,   b_di = (x_d + h_L/2 - mu_di) / s_di

    computed without differences of probabilities (see
    ``vae_tf.distributions.discretized.discretized_logistic_log_mass``).

    Parameters per pixel, ``3 K``, contiguous: ``K`` mixture logits, ``K``
    locations, ``K`` raw log-scales; ``s = bounded_scale(raw, min_scale)``.

    Args:
        event_shape: shape of one example.
        num_components: ``K``.
        num_bins: ``L``.
        min_scale: lower bound of every component's scale ``s``.
        project: own the Dense projection from features, or take ready parameters.
    """

    def __init__(self, event_shape, num_components=5, num_bins=256, min_scale=1e-3, project=True, **kwargs):
        if isinstance(num_components, bool) or not isinstance(num_components, (int, np.integer)) or num_components < 1:
            raise ValueError(f"DiscretizedLogisticMixture: num_components must be an integer >= 1, got {num_components!r}")
        if not min_scale > 0:
            raise ValueError(f"DiscretizedLogisticMixture: min_scale must be > 0, got {min_scale!r}")
        self.num_components = int(num_components)
        self.num_bins = discretized.check_num_bins(num_bins)
        self.min_scale = float(min_scale)
        super().__init__(
            event_shape, project=project, num_params=self.params_size(event_shape, self.num_components), **kwargs
        )

    @staticmethod
    def params_size(event_shape, num_components=5):
        """``3 K D``: logits, locations and raw log-scales of ``K`` components for each of ``D`` values."""
        return 3 * int(num_components) * int(np.prod(_event_shape(event_shape)))

    def call(self, inputs):
        params = self.parameters_from(inputs)
        params = tf.reshape(params, tf.concat([tf.shape(params)[:1], self.event_shape, [3 * self.num_components]], 0))
        logits, loc, raw_scale = tf.split(params, 3, axis=-1)
        scale = bounded_scale(raw_scale, self.min_scale)
        return self.independent(discretized.DiscretizedLogisticMixture(logits, loc, scale, self.num_bins))

    def get_config(self):
        return {
            **super().get_config(),
            "num_components": self.num_components,
            "num_bins": self.num_bins,
            "min_scale": self.min_scale,
        }

    @property
    def support(self):
        """The ``num_bins`` levels ``k / (L - 1)``: exact probabilities of integer images."""
        return Support.levels(self.num_bins)


@keras.saving.register_keras_serializable(package="vae_tf")
class IndependentCategorical(_DistributionLayer):
    """``P(k | h) = prod_d softmax(l_d(h))_{k_d}``: a free distribution over the ``L`` levels of every pixel.

    Why a factored parameterisation: a Dense map from ``F`` features straight
    to ``D L`` logits has ``F D L`` weights (40M for a 200-unit MLP on MNIST,
    ``D = 784``, ``L = 256``), a hundred times the other decoders. Instead, with
    ``rank = r``, the network gives each pixel ``r`` features ``f_d(h)`` (the
    projection is ``F -> D r``) and one level map shared by all pixels turns
    them into logits::

        l_dk = sum_j f_dj(h) W_jk + b_dk,      W: (r, L) shared,  b: (*event_shape, L) per pixel

    ``b_d`` is each pixel's own level histogram (e.g. MNIST's always-black
    border); ``W`` is a learned basis of ``r`` level profiles, so each pixel's
    distribution is an ``r``-parameter exponential family over the levels,
    free enough to be multimodal, at ``F D r + r L + D L`` weights
    (1.5M for the example above with ``r = 8``).

    With ``rank=None`` the parameters are the ``D L`` logits themselves
    (no level map): the unrestricted categorical, for small ``D L``.

    ``params_size`` and ``project=False`` refer to the network's part: with
    ``project=False`` the input is the per-pixel features ``(batch, D r)`` or
    ``(batch, H, W, C r)`` (pixel-major), and the layer still owns ``W`` and ``b``;
    with ``rank=None`` it is the logits, ``(batch, D L)``.

    Args:
        event_shape: shape of one example.
        num_bins: ``L``.
        rank: ``r``, features per pixel (default 8), or None for direct logits.
        project: own the Dense projection from features, or take ready per-pixel features.
    """

    def __init__(self, event_shape, num_bins=256, rank=8, project=True, **kwargs):
        if rank is not None and (isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or rank < 1):
            raise ValueError(f"IndependentCategorical: rank must be a positive integer or None, got {rank!r}")
        self.num_bins = discretized.check_num_bins(num_bins)
        self.rank = None if rank is None else int(rank)
        super().__init__(
            event_shape, project=project, num_params=self.params_size(event_shape, self.num_bins, self.rank), **kwargs
        )

    def values_per_row(self):
        """``D x L`` logits per decoder row, whatever the projection's rank."""
        return self.event_size * self.num_bins

    @staticmethod
    def params_size(event_shape, num_bins=256, rank=8):
        """``D r`` per-pixel features (``D L`` logits when ``rank`` is None)."""
        d = int(np.prod(_event_shape(event_shape)))
        return d * (int(num_bins) if rank is None else int(rank))

    def build(self, input_shape):
        if self.rank is not None:
            self.level_kernel = self.add_weight(
                shape=(self.rank, self.num_bins), initializer="glorot_uniform", name="level_kernel"
            )
            self.level_bias = self.add_weight(
                shape=self.event_shape + (self.num_bins,), initializer="zeros", name="level_bias"
            )
        super().build(input_shape)

    def logits(self, inputs):
        """``(batch, *event_shape, L)`` float32 logits."""
        params = self.parameters_from(inputs)
        shape = tf.concat([tf.shape(params)[:1], self.event_shape, [self.num_bins]], 0)
        if self.rank is None:
            return tf.reshape(params, shape)
        # One (batch * D, r) x (r, L) matmul: XLA on CPU ran the equivalent einsum ~20x slower.
        logits = tf.matmul(tf.reshape(params, (-1, self.rank)), self.level_kernel)
        return tf.reshape(logits, shape) + self.level_bias

    def call(self, inputs):
        return self.independent(discretized.LevelCategorical(self.logits(inputs), self.num_bins))

    def get_config(self):
        return {**super().get_config(), "num_bins": self.num_bins, "rank": self.rank}

    @property
    def support(self):
        """The ``num_bins`` levels ``k / (L - 1)``: exact probabilities of integer images."""
        return Support.levels(self.num_bins)
