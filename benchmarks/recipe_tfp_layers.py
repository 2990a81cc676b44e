"""Recipe (c): TensorFlow Probability's probabilistic-layers VAE ("TFP Probabilistic Layers: VAE"), in tf_keras.

Written as the TFP example writes it, with the benchmark's MLP and a diagonal
posterior: the encoder ends in ``tfpl.IndependentNormal`` whose activity
regulariser ``tfpl.KLDivergenceRegularizer(prior)`` adds the KL (a one-sample
Monte-Carlo estimate, the layer's default), the decoder ends in
``tfpl.IndependentBernoulli``, and ``compile(loss=lambda x, rv: -rv.log_prob(x))``.
``tfp.layers`` are tf_keras (Keras 2) layers, so this recipe runs in its own
process with ``TF_USE_LEGACY_KERAS=1``.
"""

from benchmarks import workload


def build(tf):
    import tensorflow_probability as tfp
    import tf_keras as tfk

    tfd, tfpl, tfkl = tfp.distributions, tfp.layers, tfk.layers
    prior = tfd.Independent(tfd.Normal(loc=tf.zeros(workload.LATENT), scale=1), reinterpreted_batch_ndims=1)
    encoder = tfk.Sequential(
        [tfkl.InputLayer(input_shape=workload.IMAGE_SHAPE), tfkl.Flatten()]
        + [tfkl.Dense(width, activation="tanh") for width in workload.HIDDEN]
        + [
            tfkl.Dense(tfpl.IndependentNormal.params_size(workload.LATENT), activation=None),
            tfpl.IndependentNormal(workload.LATENT, activity_regularizer=tfpl.KLDivergenceRegularizer(prior)),
        ]
    )
    decoder = tfk.Sequential(
        [tfkl.InputLayer(input_shape=[workload.LATENT])]
        + [tfkl.Dense(width, activation="tanh") for width in workload.HIDDEN]
        + [
            tfkl.Dense(tfpl.IndependentBernoulli.params_size(workload.IMAGE_SHAPE), activation=None),
            tfpl.IndependentBernoulli(workload.IMAGE_SHAPE, tfd.Bernoulli.logits),
        ]
    )
    vae = tfk.Model(inputs=encoder.inputs, outputs=decoder(encoder.outputs[0]))
    vae.compile(optimizer=tfk.optimizers.Adam(learning_rate=workload.LEARNING_RATE), loss=lambda x, rv_x: -rv_x.log_prob(x))
    return vae


def train(tf, dataset, epochs, callback):
    """``fit`` for ``epochs`` on ``(x, x)`` pairs; returns the last epoch's loss."""
    import tf_keras as tfk

    model = build(tf)
    history = model.fit(dataset, epochs=epochs, verbose=0, callbacks=[callback(tfk.callbacks.Callback)])
    return float(history.history["loss"][-1])
