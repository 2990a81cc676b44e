"""The encoder and decoder networks: MLP, plain convolutions and residual stages, each encoder ending in q(z | x).

An encoder maps ``x`` to ``q(z | x)`` (a :class:`GaussianEncoder`: a feature network followed by the posterior
layer); a decoder maps ``z`` to features that the likelihood layer turns into ``p(x | z)`` (the MLP), or to
``(H, W, params_per_pixel)`` parameters for a likelihood layer built with ``project=False`` (conv, resnet).
"""

import keras

from vae_tf.errors import InvalidInputError
from vae_tf.layers import DiagonalGaussianPosterior


@keras.saving.register_keras_serializable(package="vae_tf")
class GaussianEncoder(keras.layers.Layer):
    """A feature network followed by :class:`~vae_tf.layers.DiagonalGaussianPosterior`."""

    def __init__(self, network, latent_dim, **kwargs):
        super().__init__(**kwargs)
        self.network = network
        self.latent_dim = int(latent_dim)
        self.posterior = DiagonalGaussianPosterior(self.latent_dim, name="posterior")

    def build(self, input_shape):
        self.network.build(input_shape)
        self.posterior.build(self.network.compute_output_shape(input_shape))
        super().build(input_shape)

    def parameters(self, x, training=None):
        """``(z_mean, z_log_var)`` of ``q(z | x)``."""
        return self.posterior.parameters(self.network(x, training=training))

    def call(self, x, training=None):
        return self.posterior(self.network(x, training=training))

    def get_config(self):
        return {
            **super().get_config(),
            "network": keras.saving.serialize_keras_object(self.network),
            "latent_dim": self.latent_dim,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["network"] = keras.saving.deserialize_keras_object(config["network"])
        return cls(**config)


def check_image_shape(event_shape, stages, network):
    """``(H, W, C)`` as ints; :class:`~vae_tf.errors.InvalidInputError` unless rank 3 with ``H``, ``W`` divisible by
    ``2 ** stages``.

    Each of the ``stages`` stride-2 upsamplings doubles ``H`` and ``W``, so the decoder starts from
    ``(H / 2**stages, W / 2**stages)`` and only reaches ``(H, W)`` exactly when both divide.
    """
    shape = tuple(int(d) for d in event_shape)
    if len(shape) != 3:
        raise InvalidInputError(f"{network}: needs images of shape (height, width, channels), got event shape "
                                f"{shape}; use the mlp network for flat data.")
    h, w, _ = shape
    factor = 2 ** int(stages)
    if h % factor or w % factor:
        raise InvalidInputError(
            f"{network}: height and width {h}x{w} must be divisible by {factor} (2 ** {stages} stride-2 stages); "
            f"use fewer stages (widths), pad or crop the images, or the mlp network.")
    return shape


def mlp_encoder(latent_dim, hidden=(200, 200), activation="relu", name="mlp_encoder"):
    """``x -> flatten -> Dense(h, activation) for h in hidden -> q(z|x)`` over ``latent_dim``."""
    layers = [keras.layers.Flatten()] + [keras.layers.Dense(h, activation=activation) for h in hidden]
    return GaussianEncoder(keras.Sequential(layers, name=f"{name}_features"), latent_dim, name=name)


def mlp_decoder(hidden=(200, 200), activation="relu", name="mlp_decoder"):
    """``z -> Dense(h, activation) for h in hidden``: features for a likelihood layer to project."""
    return keras.Sequential([keras.layers.Dense(h, activation=activation) for h in hidden], name=name)


def conv_encoder(latent_dim, filters=(32, 64), dense=256, name="conv_encoder"):
    """Two stride-2 3x3 convolutions, then Dense(``dense``), then ``q(z|x)``; for image input ``(H, W, C)``."""
    layers = [keras.layers.Conv2D(f, 3, strides=2, padding="same", activation="relu") for f in filters]
    layers += [keras.layers.Flatten(), keras.layers.Dense(dense, activation="relu")]
    return GaussianEncoder(keras.Sequential(layers, name=f"{name}_features"), latent_dim, name=name)


def conv_decoder(event_shape, params_per_value=1, filters=(64, 32), name="conv_decoder", params_per_pixel=None):
    """Mirror of :func:`conv_encoder`; outputs ``(H, W, C * params_per_value)`` parameters.

    Use it with a likelihood layer built with ``project=False``, and
    ``params_per_value=2`` for ``IndependentNormal(scale="per_pixel")``. A likelihood
    whose parameters are per pixel rather than per value (the channel-coupled logistic
    mixture on RGB: ``10 K`` per pixel) passes ``params_per_pixel`` instead
    (:func:`vae_tf.networks.params_per_pixel`), which sets the output to ``(H, W, params_per_pixel)``.
    ``H`` and ``W`` must be divisible by ``2 ** len(filters)`` (else ``InvalidInputError``).
    """
    h, w, c = check_image_shape(event_shape, len(filters), "conv_decoder")
    f = 2 ** len(filters)
    layers = [
        keras.layers.Dense((h // f) * (w // f) * filters[0], activation="relu"),
        keras.layers.Reshape((h // f, w // f, filters[0])),
    ]
    layers += [keras.layers.Conv2DTranspose(n, 3, strides=2, padding="same", activation="relu") for n in filters]
    per_pixel = int(params_per_pixel) if params_per_pixel is not None else c * params_per_value
    layers += [keras.layers.Conv2D(per_pixel, 3, padding="same")]
    return keras.Sequential(layers, name=name)


#: ``ResidualBlock(resample=...)``: keep the size, halve it (stride 2) or double it (transposed stride 2).
RESAMPLES = (None, "down", "up")


@keras.saving.register_keras_serializable(package="vae_tf")
class ResidualBlock(keras.layers.Layer):
    """``y = act(skip(x) + conv3x3(act(conv3x3_s(x))))`` on ``(batch, H, W, C)`` images.

    ``conv3x3_s`` has stride 2 (``resample="down"``) or is a stride-2 transposed convolution
    (``resample="up"``); ``skip`` is the identity when size and width stay, else a 1x1 projection:
    a stride-2 1x1 convolution down, a nearest-neighbour upsampling (then a 1x1 convolution if the
    width changes) up.

    Args:
        filters: output channels.
        resample: ``None``, ``"down"`` or ``"up"``.
        activation: a Keras activation name.
    """

    def __init__(self, filters, resample=None, activation="relu", **kwargs):
        super().__init__(**kwargs)
        if resample not in RESAMPLES:
            raise ValueError(f"ResidualBlock: resample must be one of {RESAMPLES}, got {resample!r}")
        self.filters = int(filters)
        self.resample = resample
        self.activation = keras.activations.get(activation)
        self._activation_name = activation
        policy = self.dtype_policy
        if resample == "up":
            self.conv1 = keras.layers.Conv2DTranspose(self.filters, 3, strides=2, padding="same", dtype=policy,
                                                      name="conv1")
        else:
            self.conv1 = keras.layers.Conv2D(self.filters, 3, strides=2 if resample == "down" else 1, padding="same",
                                             dtype=policy, name="conv1")
        self.conv2 = keras.layers.Conv2D(self.filters, 3, padding="same", dtype=policy, name="conv2")
        self.upsample = keras.layers.UpSampling2D(2, dtype=policy, name="upsample") if resample == "up" else None
        self.projection = None

    def build(self, input_shape):
        channels = int(input_shape[-1])
        self.conv1.build(input_shape)
        inner = self.conv1.compute_output_shape(input_shape)
        self.conv2.build(inner)
        if self.resample == "down" or channels != self.filters:
            # A 1x1 stride-2 convolution down; after the (parameter-free) upsampling, a 1x1 convolution up.
            strides = 2 if self.resample == "down" else 1
            self.projection = keras.layers.Conv2D(self.filters, 1, strides=strides, dtype=self.dtype_policy,
                                                  name="projection")
            skip_input = input_shape if self.upsample is None else self.upsample.compute_output_shape(input_shape)
            self.projection.build(skip_input)
        super().build(input_shape)

    def call(self, x):
        h = self.conv2(self.activation(self.conv1(x)))
        skip = x if self.upsample is None else self.upsample(x)
        if self.projection is not None:
            skip = self.projection(skip)
        return self.activation(skip + h)

    def compute_output_shape(self, input_shape):
        return tuple(self.conv1.compute_output_shape(input_shape))[:-1] + (self.filters,)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "resample": self.resample,
                "activation": self._activation_name}


def _stage(width, blocks_per_stage, resample, activation, prefix):
    """One stage: ``blocks_per_stage`` residual blocks at ``width``, the first resampling."""
    return [ResidualBlock(width, resample=resample if i == 0 else None, activation=activation, name=f"{prefix}_block{i}")
            for i in range(blocks_per_stage)]


def _check_stages(widths, blocks_per_stage, network):
    widths = tuple(int(w) for w in widths)
    if not widths or any(w <= 0 for w in widths):
        raise ValueError(f"{network}: widths must be a non-empty tuple of positive ints, got {widths!r}")
    if int(blocks_per_stage) < 1:
        raise ValueError(f"{network}: blocks_per_stage must be >= 1, got {blocks_per_stage!r}")
    return widths, int(blocks_per_stage)


def resnet_encoder(latent_dim, widths=(32, 64), blocks_per_stage=1, activation="relu", name="resnet_encoder"):
    """``x -> conv3x3(widths[0]) -> stages (each /2) -> flatten -> q(z|x)``; for image input ``(H, W, C)``.

    Stage ``i`` has ``blocks_per_stage`` :class:`ResidualBlock` s of ``widths[i]`` channels, the first
    with stride 2, so the features are ``(H / 2**n, W / 2**n, widths[-1])`` for ``n = len(widths)``
    stages (rounded up when ``H`` or ``W`` do not divide).
    """
    widths, blocks_per_stage = _check_stages(widths, blocks_per_stage, "resnet_encoder")
    layers = [keras.layers.Conv2D(widths[0], 3, padding="same", activation=activation, name="stem")]
    for i, width in enumerate(widths):
        layers += _stage(width, blocks_per_stage, "down", activation, f"stage{i}")
    layers += [keras.layers.Flatten()]
    return GaussianEncoder(keras.Sequential(layers, name=f"{name}_features"), latent_dim, name=name)


def resnet_decoder(event_shape, params_per_value=1, widths=(64, 32), blocks_per_stage=1, activation="relu",
                   name="resnet_decoder", params_per_pixel=None):
    """Mirror of :func:`resnet_encoder`; outputs ``(H, W, C * params_per_value)`` parameters.

    ``z -> Dense -> (H / 2**n, W / 2**n, widths[0]) -> stages (each x2) -> conv3x3(C * params_per_value)``.
    Use it with a likelihood layer built with ``project=False``; ``params_per_pixel``
    (:func:`vae_tf.networks.params_per_pixel`, e.g. ``10 K`` for the channel-coupled logistic mixture on
    RGB) replaces ``C * params_per_value`` when given. ``H`` and ``W`` must be divisible by
    ``2 ** len(widths)`` (else ``InvalidInputError``).
    """
    widths, blocks_per_stage = _check_stages(widths, blocks_per_stage, "resnet_decoder")
    h, w, c = check_image_shape(event_shape, len(widths), "resnet_decoder")
    f = 2 ** len(widths)
    layers = [
        keras.layers.Dense((h // f) * (w // f) * widths[0], activation=activation, name="dense"),
        keras.layers.Reshape((h // f, w // f, widths[0])),
    ]
    for i, width in enumerate(widths):
        layers += _stage(width, blocks_per_stage, "up", activation, f"stage{i}")
    per_pixel = int(params_per_pixel) if params_per_pixel is not None else c * int(params_per_value)
    layers += [keras.layers.Conv2D(per_pixel, 3, padding="same", name="parameters")]
    return keras.Sequential(layers, name=name)
