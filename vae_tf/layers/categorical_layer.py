"""A free distribution over the L levels of every value, through a factored (low-rank) logit map."""

import numpy as np
import tensorflow as tf
import keras

from vae_tf import distributions
from vae_tf.argument_checks import check_integer
from vae_tf.layers.distribution_layer import DistributionLayer, event_shape_of
from vae_tf.support import Support


@keras.saving.register_keras_serializable(package="vae_tf")
class IndependentCategorical(DistributionLayer):
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
        if rank is not None:
            check_integer(rank, "IndependentCategorical: rank", expected="a positive integer or None")
        self.num_bins = distributions.check_num_bins(num_bins)
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
        d = int(np.prod(event_shape_of(event_shape)))
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
        return self.independent(distributions.LevelCategorical(self.logits(inputs), self.num_bins))

    def get_config(self):
        return {**super().get_config(), "num_bins": self.num_bins, "rank": self.rank}

    @property
    def support(self):
        """The ``num_bins`` levels ``k / (L - 1)``: exact probabilities of integer images."""
        return Support.levels(self.num_bins)
