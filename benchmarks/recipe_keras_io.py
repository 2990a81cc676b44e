"""Recipe (b): the keras.io VAE example (fchollet, "Variational AutoEncoder"), with the benchmark's MLP.

Written as the example writes it: a functional encoder returning
``(z_mean, z_log_var, z)`` through a ``Sampling`` layer, a sigmoid decoder, and a
``keras.Model`` subclass whose ``train_step`` minimises binary cross-entropy summed
over pixels plus the analytic KL ``-0.5 * sum(1 + log sigma^2 - mu^2 - sigma^2)``.
Compiled with ``compile(optimizer=Adam)`` and nothing else, as in the example
(Keras then runs without XLA on a CPU-only machine, one step per call).
"""

import keras
from keras import layers, ops

from benchmarks import workload


class Sampling(layers.Layer):
    """Uses ``(z_mean, z_log_var)`` to sample ``z``, the vector encoding a digit."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = ops.shape(z_mean)[0]
        dim = ops.shape(z_mean)[1]
        epsilon = keras.random.normal(shape=(batch, dim), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


def build_encoder():
    inputs = keras.Input(shape=workload.IMAGE_SHAPE)
    x = layers.Flatten()(inputs)
    for width in workload.HIDDEN:
        x = layers.Dense(width, activation="tanh")(x)
    z_mean = layers.Dense(workload.LATENT, name="z_mean")(x)
    z_log_var = layers.Dense(workload.LATENT, name="z_log_var")(x)
    z = Sampling()([z_mean, z_log_var])
    return keras.Model(inputs, [z_mean, z_log_var, z], name="encoder")


def build_decoder():
    inputs = keras.Input(shape=(workload.LATENT,))
    x = inputs
    for width in workload.HIDDEN:
        x = layers.Dense(width, activation="tanh")(x)
    x = layers.Dense(workload.PIXELS, activation="sigmoid")(x)
    outputs = layers.Reshape(workload.IMAGE_SHAPE)(x)
    return keras.Model(inputs, outputs, name="decoder")


class VAE(keras.Model):
    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def train_step(self, data):
        import tensorflow as tf

        with tf.GradientTape() as tape:
            z_mean, z_log_var, z = self.encoder(data)
            reconstruction = self.decoder(z)
            reconstruction_loss = ops.mean(
                ops.sum(keras.losses.binary_crossentropy(data, reconstruction), axis=(1, 2))
            )
            kl_loss = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
            kl_loss = ops.mean(ops.sum(kl_loss, axis=1))
            total_loss = reconstruction_loss + kl_loss
        grads = tape.gradient(total_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {
            "loss": self.total_loss_tracker.result(),
            "reconstruction_loss": self.reconstruction_loss_tracker.result(),
            "kl_loss": self.kl_loss_tracker.result(),
        }


def train(tf, dataset, epochs, callback):
    """``fit`` for ``epochs`` on images only (the example's ``train_step`` takes ``x``); returns the last loss."""
    model = VAE(build_encoder(), build_decoder())
    model.compile(optimizer=keras.optimizers.Adam(workload.LEARNING_RATE))
    images = dataset.map(lambda x, y: x)
    history = model.fit(images, epochs=epochs, verbose=0, callbacks=[callback(keras.callbacks.Callback)])
    return float(history.history["loss"][-1])
