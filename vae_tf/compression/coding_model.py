"""A VAE seen by the entropy coder: integer weights for ``q(z|x)`` over latent bins and ``p(x|z)`` over levels.

Every number the coder sees comes out of two XLA-compiled functions that always run on
``batch_size`` rows (a shorter batch is padded with zeros and the padding dropped after):

    posterior_weights(levels)  (rows, *event) int  -> (rows * latent, 2^bits) integer weights
    pixel_weights(idx)         (rows, latent) int32 -> (rows * D, L) integer weights

The level tables come from ``level_tables.level_probabilities`` (CDF differences in float32 for
the discretized normal and the logistic mixture, a softmax for the others). A decoder whose
colour channels depend on each other (``channels_coupled``: its distribution has
``channel_bin_log_probs``, e.g. the channel-coupled logistic mixture on RGB) has no
``pixel_weights``; its sub-pixels are coded channel by channel, each given the channels before it::

    channel_weights(idx, levels, c)  (rows, latent), (rows, H, W, C), c -> (rows * H * W, L) weights of channel c

Only the channels ``< c`` of ``levels`` are read (the rest are zeroed inside the program), so
the compressor, which knows the whole image, and the decompressor, which has decoded channels
``0 .. c-1`` so far, feed the program identical tensors: exact whatever the distribution's
arithmetic does with the channels it should not read. ``channel_bin_log_probs(x, channel=c)``
computes only channel ``c``'s rows, so three calls cost about one call for every channel.

The compressor and the decompressor feed them identical tensors (the same integer images,
the same bin indices) of one fixed shape through the same compiled program, and the integer
weights are computed inside that program (``quantization.integer_weights``), so both sides
hand the coder the same integers. XLA fuses the per-level work of the discretized
likelihoods (``bin_log_probs`` builds ``(rows, D, L[, K])`` tensors), about halving the
time of a pass; one fixed shape means one compilation per function.
"""

import hashlib

import numpy as np
import tensorflow as tf

from vae_tf.compression.tables import (EqualMassBins, channel_level_probabilities, has_coupled_channels,
                                       integer_weights, level_probabilities)
from vae_tf.errors import UnsupportedModelError
from vae_tf.evaluation.estimators import cached_for
from vae_tf.support import support_of

#: Likelihood layers that give a probability density rather than level probabilities, and
#: the discretized layer that codes the same kind of image.
_DISCRETIZED_INSTEAD = {
    "IndependentNormal": "IndependentDiscretizedNormal (the Gaussian integrated over each grey level)",
    "IndependentContinuousBernoulli": "IndependentCategorical or IndependentDiscretizedLogisticMixture",
}


def coded_levels(likelihood):
    """``L``, the number of levels the coder codes: the likelihood's support's ``num_levels``; raises for a density."""
    support = support_of(likelihood)
    if support.exact:
        return support.num_levels
    name = type(likelihood).__name__
    instead = _DISCRETIZED_INSTEAD.get(
        name, "IndependentDiscretizedNormal, IndependentDiscretizedLogisticMixture or IndependentCategorical")
    raise UnsupportedModelError(
        f"Cannot entropy-code with a {name} decoder: it is a density over continuous values ({support}), not a "
        f"probability of each integer level. Train the model with {instead} from vae_tf.layers "
        f"(or IndependentBernoulli for binary images).")


def model_fingerprint(model):
    """First 16 bytes (hex) of SHA-256 over the likelihood class, the shapes and every weight's bytes, in order.

    Not the weights' paths: Keras names them differently in the model that was built ("vae/mlp_encoder/.../dense/
    kernel") and in the same model saved and loaded again ("dense/kernel"), and both must read the same files.
    """
    digest = hashlib.sha256()
    digest.update(f"{type(model.likelihood).__name__}|{model.event_shape}|{model.latent_dim}".encode())
    for weight in model.weights:
        value = np.ascontiguousarray(np.asarray(weight.numpy()))
        digest.update(f"|{value.dtype.str}|{value.shape}|".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()[:32]


class CodingModel:
    """A trained :class:`vae_tf.VAE` wrapped for bits-back coding with ``2^latent_bits`` bins per latent."""

    def __init__(self, model, latent_bits, batch_size):
        self.model = model
        if getattr(model, "_prior", None) is not None:
            raise UnsupportedModelError("The bits-back codec needs the standard normal prior; this model has a custom prior.")
        self.num_levels = coded_levels(model.likelihood)
        self.event_shape = tuple(int(d) for d in model.event_shape)
        self.event_size = int(np.prod(self.event_shape))
        self.latent_dim = int(model.latent_dim)
        self.bins = EqualMassBins(latent_bits)
        self.batch_size = int(batch_size)
        if not model.built:
            model.build((None,) + self.event_shape)
        self._posterior_fn = tf.function(
            self._posterior_weights, jit_compile=True,
            input_signature=[tf.TensorSpec((self.batch_size,) + self.event_shape, tf.float32)])
        probe = model.decode(tf.zeros((1, self.latent_dim)), training=False)
        #: True when each channel of a pixel is coded given the channels before it (``channel_weights``).
        self.channels_coupled = has_coupled_channels(probe)
        if self.channels_coupled:
            self._channel_fn = tf.function(
                self._channel_weights, jit_compile=True,
                input_signature=[tf.TensorSpec((self.batch_size, self.latent_dim), tf.int32),
                                 tf.TensorSpec((self.batch_size,) + self.event_shape, tf.int32),
                                 tf.TensorSpec((), tf.int32)])
        else:
            self._pixel_fn = tf.function(
                self._pixel_weights, jit_compile=True,
                input_signature=[tf.TensorSpec((self.batch_size, self.latent_dim), tf.int32)])

    @property
    def num_channels(self):
        return self.event_shape[-1]

    def warm_up(self):
        """Runs every compiled function once on zeros (XLA compiles here, not inside the first timed batch)."""
        self.posterior_weights(np.zeros((1,) + self.event_shape, np.int32))
        indices = np.zeros((1, self.latent_dim), np.int32)
        if self.channels_coupled:
            self.channel_weights(indices, np.zeros((1,) + self.event_shape, np.int32), 0)
        else:
            self.pixel_weights(indices)

    @classmethod
    def for_model(cls, model, latent_bits, batch_size):
        """The model's cached CodingModel for these parameters (compiled once per process)."""
        return cached_for(model, ("coding model", int(latent_bits), int(batch_size)),
                          lambda: cls(model, latent_bits, batch_size))

    def _padded(self, rows):
        if len(rows) > self.batch_size:
            raise ValueError(f"a coding batch holds at most {self.batch_size} images, got {len(rows)}.")
        if len(rows) == self.batch_size:
            return rows
        pad = np.zeros((self.batch_size - len(rows),) + rows.shape[1:], rows.dtype)
        return np.concatenate([rows, pad])

    def posterior_weights(self, levels):
        """``(rows * latent, 2^bits)`` integer weights of ``Q(bin | x)`` for integer images ``levels``."""
        x = (levels.astype(np.float32) / np.float32(self.num_levels - 1)).reshape((-1,) + self.event_shape)
        return self._posterior_fn(self._padded(x)).numpy()[:len(x) * self.latent_dim]

    def pixel_weights(self, indices):
        """``(rows * D, L)`` integer weights of ``P(level | z)`` for latent bin ``indices`` ``(rows, latent)``."""
        return self._pixel_fn(self._padded(indices.astype(np.int32))).numpy()[:len(indices) * self.event_size]

    def channel_weights(self, indices, levels, channel):
        """``(rows * H * W, L)`` integer weights of ``P(x_c = level | z, x_{<c})`` for channel ``c`` of every pixel.

        ``indices`` ``(rows, latent)`` are the latent bins; only channels ``< channel`` of the
        integer images ``levels`` ``(rows, H, W, C)`` are read.
        """
        out = self._channel_fn(self._padded(indices.astype(np.int32)), self._padded(levels.astype(np.int32)),
                               np.int32(channel))
        return out.numpy()[:len(indices) * (self.event_size // self.num_channels)]

    def _posterior_weights(self, x):
        _, loc, log_var = self.model.posterior(x, training=False)
        scale = tf.exp(0.5 * log_var)
        masses = self.bins.posterior_masses(loc, scale)
        return tf.reshape(integer_weights(masses), (-1, self.bins.count))

    def _pixel_weights(self, indices):
        px = self.model.decode(self.bins.values(indices), training=False)
        probs = level_probabilities(px)
        return integer_weights(tf.reshape(probs, (-1, self.num_levels)))

    def _channel_weights(self, indices, levels, channel):
        px = self.model.decode(self.bins.values(indices), training=False)
        before = tf.range(self.num_channels) < channel  # the channels already known to the decoder
        x = tf.cast(tf.where(before, levels, tf.zeros_like(levels)), tf.float32) / float(self.num_levels - 1)
        probs = channel_level_probabilities(px, x, channel)
        return integer_weights(tf.reshape(probs, (-1, self.num_levels)))
