"""The ``(loc, scale)`` of a Gaussian decoder, its sigma fixed, learned (one shared) or predicted per pixel."""

import math

import numpy as np
import tensorflow as tf

from vae_tf.layers.bounded_scale import bounded_scale
from vae_tf.layers.distribution_layer import DistributionLayer, check_finite_features, event_shape_of

SCALE_MODES = ("learned", "per_pixel")


class GaussianParameterLayer(DistributionLayer):
    """A Gaussian's ``(loc, scale)`` over ``event_shape``, the scale fixed, learned or per pixel.

    The machinery shared by :class:`IndependentNormal` and
    ``IndependentDiscretizedNormal``: subclasses turn :meth:`loc_and_scale`
    into their distribution.

    Args:
        event_shape: shape of one example, e.g. ``(28, 28, 1)``.
        scale: a float (fixed sigma), ``"learned"`` (one shared trainable
            log-sigma, the sigma-VAE / calibrated decoder) or ``"per_pixel"``
            (sigma predicted by the network for every value).
        min_scale: lower bound of a learned or predicted sigma (see
            :func:`bounded_scale`).
        project: own the Dense projection from features (default) or take
            ready parameters: ``D`` means, then (per-pixel sigma) ``D`` raw
            log-sigmas; or a convolutional output ``(batch, H, W, 2C)`` whose
            first ``C`` channels are means and last ``C`` raw log-sigmas.
    """

    def __init__(self, event_shape, scale=1.0, min_scale=1e-3, project=True, **kwargs):
        name = type(self).__name__
        if isinstance(scale, str):
            if scale not in SCALE_MODES:
                raise ValueError(f"{name}: scale must be a float > 0 or one of {SCALE_MODES}, got {scale!r}")
        else:
            scale = float(scale)
            if not scale > 0 or not math.isfinite(scale):
                raise ValueError(f"{name}: a fixed scale (sigma) must be > 0, got {scale!r}")
        if not min_scale > 0:
            raise ValueError(f"{name}: min_scale must be > 0, got {min_scale!r}")
        super().__init__(event_shape, project=project, num_params=self.params_size(event_shape, scale), **kwargs)
        self.scale = scale
        self.min_scale = float(min_scale)

    @staticmethod
    def params_size(event_shape, scale=1.0):
        """Numbers per example: ``D`` for fixed or learned sigma, ``2 D`` for per-pixel sigma."""
        d = int(np.prod(event_shape_of(event_shape)))
        return 2 * d if scale == "per_pixel" else d

    def build(self, input_shape):
        if self.scale == "learned":
            self.log_scale = self.add_weight(shape=(), initializer="zeros", name="log_scale")
        super().build(input_shape)

    def current_scale(self):
        """The shared sigma (fixed or learned); None for per-pixel sigma."""
        if self.scale == "learned":
            return bounded_scale(self.log_scale, self.min_scale)
        if self.scale == "per_pixel":
            return None
        return tf.constant(self.scale, self.compute_dtype)

    def loc_and_scale(self, inputs):
        """``(loc, scale)``, each float32 ``(batch, *event_shape)`` (a shared sigma is broadcast)."""
        if self.scale == "per_pixel" and not self.project and inputs.shape.rank > 2:
            # A convolutional decoder's output (batch, H, W, 2C): mean and log-sigma channels.
            check_finite_features(inputs, self.name)
            loc, log_scale = tf.split(tf.cast(inputs, self.compute_dtype), 2, axis=-1)
            return self.reshape_event(loc), self.reshape_event(bounded_scale(log_scale, self.min_scale))
        params = self.parameters_from(inputs)
        if self.scale == "per_pixel":
            loc, log_scale = tf.split(params, 2, axis=-1)
            return self.reshape_event(loc), self.reshape_event(bounded_scale(log_scale, self.min_scale))
        loc = self.reshape_event(params)
        # Full-shape parameters: the training step's flat view reshapes every parameter (model.flat_event_view).
        return loc, tf.broadcast_to(self.current_scale(), tf.shape(loc))

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "min_scale": self.min_scale}
