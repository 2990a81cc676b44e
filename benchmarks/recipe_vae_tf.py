"""Recipe (a): vae-tf as its README tells a user to use it: ``VAE`` + ``compile(loss=...)`` + ``fit``, defaults."""

import keras

import losses
import vae_tf
from benchmarks import workload


def build():
    """The MLP VAE with a Bernoulli decoder, compiled with the settings a user gets (only the learning rate given)."""
    model = vae_tf.VAE(
        encoder=vae_tf.networks.mlp_encoder(latent_dim=workload.LATENT, hidden=workload.HIDDEN, activation="tanh"),
        decoder=vae_tf.networks.mlp_decoder(hidden=workload.HIDDEN, activation="tanh"),
        likelihood=vae_tf.layers.IndependentBernoulli(workload.IMAGE_SHAPE),
        seed=0,
    )
    model.compile(optimizer=keras.optimizers.Adam(workload.LEARNING_RATE), loss=losses.NegativeLogLikelihood())
    return model


def train(tf, dataset, epochs, callback):
    """``fit`` for ``epochs``; returns the last epoch's loss (negative ELBO, nats per image)."""
    model = build()
    history = model.fit(dataset, epochs=epochs, verbose=0, callbacks=[callback(keras.callbacks.Callback)])
    return float(history.history["loss"][-1])
