"""The shared base of the distributions over grey levels: scalar events, the level grid, ``log_prob`` via the level.

Convention (shared by every subclass): level ``k = 0 .. L-1`` of an image with ``L`` grey levels
is the value ``x = k / (L - 1)`` in ``[0, 1]``, and ``mean()`` and ``sample()`` are on that scale
too. ``log_prob(x)`` of a value that is not on the grid is the log-probability of the nearest level,
``k = clip(round(x (L - 1)), 0, L - 1)`` (``validate_args=True`` refuses such values instead).
Every subclass has ``num_bins`` (``L``) and ``bin_log_probs()``, the ``(*batch_shape, L)`` tensor of
``log P(k)`` whose ``logsumexp`` over the last axis is 0.
"""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from vae_tf.distributions.bin_grid import levels_of, on_grid_check

tfd = tfp.distributions


def float_dtype(*values):
    """The floating dtype of the first parameter that has one, else float32."""
    for value in values:
        dtype = getattr(value, "dtype", None)
        if dtype is not None and tf.as_dtype(dtype).is_floating:
            return tf.as_dtype(dtype)
    return tf.float32


class DiscretizedDistribution(tfd.AutoCompositeTensorDistribution):
    """Shared plumbing: scalar events, the level grid, ``log_prob`` via the level of ``x``."""

    def _init(self, num_bins, dtype, validate_args, allow_nan_stats, parameters, name, reparameterization_type):
        super().__init__(
            dtype=dtype,
            reparameterization_type=reparameterization_type,
            validate_args=validate_args,
            allow_nan_stats=allow_nan_stats,
            parameters=parameters,
            name=name,
        )

    @property
    def num_bins(self):
        """``L``, the number of grey levels (a Python int)."""
        return self._num_bins

    def levels(self, x):
        """The level ``k`` of ``x`` (nearest ``k / (L - 1)``), as floats."""
        return levels_of(tf.convert_to_tensor(x, self.dtype), self._num_bins)

    def _event_shape(self):
        return tf.TensorShape([])

    def _event_shape_tensor(self):
        return tf.constant([], dtype=tf.int32)

    def _log_prob(self, x):
        return self._log_mass(self.levels(x))

    def bin_log_probs(self):
        """``log P(k)`` for ``k = 0 .. L-1``: a ``(*batch_shape, L)`` float tensor."""
        raise NotImplementedError

    def _sample_control_dependencies(self, x):
        return level_grid_assertions(x, self._num_bins, self.dtype) if self.validate_args else []

    def _level_sample(self, levels):
        return tf.clip_by_value(tf.round(levels), 0.0, float(self._num_bins - 1)) / (self._num_bins - 1)


def level_grid_assertions(x, num_bins, dtype):
    """``validate_args``' checks of values ``x``: in [0, 1] and on the grid ``k / (L - 1)`` (:func:`on_grid_check`)."""
    x = tf.convert_to_tensor(x, dtype)
    grid = f"k / {num_bins - 1} for integer k in 0..{num_bins - 1}"
    return [
        tf.debugging.assert_greater_equal(x, tf.zeros([], dtype), message="x must be >= 0"),
        tf.debugging.assert_less_equal(x, tf.ones([], dtype), message="x must be <= 1"),
        on_grid_check(x, num_bins, f"x must be on the grid {grid}"),
    ]


def positive_scale_properties(event_ndims=0):
    """TFP's ``ParameterProperties`` of a ``scale > 0``: unconstrained by a softplus kept above float32's tiny."""
    return tfp.util.ParameterProperties(
        event_ndims=event_ndims,
        default_constraining_bijector_fn=lambda: tfp.bijectors.Softplus(low=np.finfo(np.float32).tiny))


class LocationScale:
    """The ``loc`` and ``scale`` properties of a location-scale family (its ``_loc`` and ``_scale`` tensors)."""

    @property
    def loc(self):
        return self._loc

    @property
    def scale(self):
        return self._scale
