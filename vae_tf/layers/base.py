"""The plumbing every layer here shares: flat float32 features, an owned Dense projection, the reshape, a bounded sigma.

Each likelihood layer owns the final projection from decoder features to its parameters (a ``Dense``
layer plus a reshape to the event shape), so a decoder only has to produce features. Pass
``project=False`` when the decoder already outputs exactly ``params_size(event_shape)`` numbers per
example. The layers compute in float32 whatever the global mixed-precision policy: densities and
their logarithms are where float16 loses the most. Every likelihood layer declares its ``support``
(:class:`vae_tf.support.Support`): what its distribution is over.
"""

import math

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from vae_tf.distributions import check_num_levels
from vae_tf.losses import first_non_finite
from vae_tf.support import BINARY, Support

tfd = tfp.distributions


def bounded_scale(log_scale, min_scale):
    r"""A standard deviation that stays above ``min_scale``, smoothly.

    Formula::

        sigma = min_scale * exp(softplus(log_scale - log(min_scale)))

    .. math::

        \sigma = m \exp\big(\operatorname{softplus}(\log s - \log m)\big),
        \qquad m = \text{min_scale},\ \log s = \text{log_scale}

    i.e. ``log sigma = log m + softplus(log_scale - log m)``. It is
    ``exp(log_scale)`` when that is well above ``m``, never below ``m``, and its
    gradient never vanishes abruptly as a hard clip's would.
    """
    if not min_scale > 0:
        raise ValueError(f"bounded_scale: min_scale must be > 0, got {min_scale!r}.")
    log_m = math.log(min_scale)
    return tf.exp(log_m + tf.nn.softplus(log_scale - log_m))


def event_shape_of(event_shape):
    if isinstance(event_shape, int):
        event_shape = (event_shape,)
    event_shape = tuple(int(d) for d in event_shape)
    if not event_shape or any(d <= 0 for d in event_shape):
        raise ValueError(f"event_shape must be a non-empty tuple of positive ints, got {event_shape!r}")
    return event_shape


def check_finite_features(x, layer_name):
    """Eager calls only: NaN/Inf input to a distribution layer raises ``ValueError`` naming where.

    Inside compiled training steps the check is skipped (the data were checked
    before training); called eagerly, e.g. ``model.decode(z)``, a NaN input
    would otherwise come back as a distribution full of NaN.
    """
    bad = first_non_finite(x.numpy()) if tf.executing_eagerly() and hasattr(x, "numpy") else None
    if bad is not None:
        raise ValueError(f"{layer_name}: its input contains NaN or Inf ({bad[1]} at index {bad[0]}): "
                         f"the data or the network before this layer produced non-finite values.")


class ProjectedLayer(keras.layers.Layer):
    """A layer that flattens its input features and may own a Dense ``projection`` to its parameters."""

    projection = None

    def build(self, input_shape):
        if self.projection is not None:
            self.projection.build((input_shape[0], int(np.prod(input_shape[1:]))))
        super().build(input_shape)

    def flat_features(self, inputs):
        """``inputs`` as float32 ``(batch, features)``; eager NaN/Inf input raises ``ValueError``."""
        x = tf.cast(inputs, self.compute_dtype)
        check_finite_features(x, self.name)
        if x.shape.rank is not None and x.shape.rank != 2:
            x = tf.reshape(x, (tf.shape(x)[0], -1))
        return x


class DistributionLayer(ProjectedLayer):
    """Shared plumbing: float32 compute, the projection, the reshape, the declared support.

    A subclass sets ``support_kind`` (a kind of :mod:`vae_tf.support`); :attr:`support` adds the
    ``num_levels`` the layer was built with: ``L`` of a distribution over the levels, or for a density the ``L`` of
    the integer images it is scored against (None: not given).
    """

    support_kind = None

    def __init__(self, event_shape, project=True, num_params=None, num_levels=None, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.num_levels = 2 if self.support_kind == BINARY else (
            None if num_levels is None else check_num_levels(num_levels))
        self.event_shape = event_shape_of(event_shape)
        self.event_size = int(np.prod(self.event_shape))
        self.project = bool(project)
        self._num_params = num_params if num_params is not None else self.params_size(self.event_shape)
        self.projection = (
            keras.layers.Dense(self._num_params, dtype=self.dtype_policy, name="projection") if self.project else None
        )

    def num_params(self):
        """Parameters per example this layer turns into a distribution."""
        return self._num_params

    def values_per_row(self):
        """Floats of distribution parameters one decoder row holds (sizes the IWAE estimator's chunks)."""
        return self.num_params()

    def parameters_from(self, inputs):
        """Flat float32 parameters ``(batch, params_size)`` from features or ready parameters."""
        x = self.flat_features(inputs)
        if self.projection is not None:
            return self.projection(x)
        if x.shape[-1] is not None and x.shape[-1] != self.num_params():
            raise ValueError(
                f"{self.name}: with project=False the input must hold {self.num_params()} parameters per "
                f"example (params_size of event_shape {self.event_shape}), got {x.shape[-1]}."
            )
        return x

    def reshape_event(self, flat):
        return tf.reshape(flat, tf.concat([tf.shape(flat)[:1], self.event_shape], 0))

    def independent(self, base):
        return tfd.Independent(base, reinterpreted_batch_ndims=len(self.event_shape))

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self.event_shape

    @property
    def support(self):
        """What the distribution is over (:class:`vae_tf.support.Support`), with the layer's ``num_levels``."""
        return Support(self.support_kind, self.num_levels)

    def get_config(self):
        config = {**super().get_config(), "event_shape": list(self.event_shape), "project": self.project}
        if self.num_levels is not None and self.support_kind != BINARY:
            config["num_levels"] = self.num_levels
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "num_bins" in config:  # files saved before the number of levels had one name
            config["num_levels"] = config.pop("num_bins")
        return cls(**config)
