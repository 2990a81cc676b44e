"""Runs in a subprocess of ``tests/test_distribute.py``: one device vs ``MirroredStrategy`` on two logical CPUs.

Logical devices must be configured before TensorFlow initialises its devices,
which a pytest process has long done, hence a separate interpreter. Prints one
JSON object on its last line of stdout.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

_cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(_cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import numpy as np  # noqa: E402
import keras  # noqa: E402

import vae_tf  # noqa: E402

EVENT = (8, 8, 1)
LATENT = 4


class ExampleNoiseVAE(vae_tf.VAE):
    """A VAE whose latent noise is a fixed function of each example.

    ``eps_j(x) = sin(j * (1 + sum_d x_d))``, ``z = mu(x) + sigma(x) * eps(x)``:
    still a reparameterised draw through ``q``'s mean and scale, but one that
    cannot depend on which replica sees the example or on a seed stream.
    """

    def sample_latent(self, q, x):
        total = tf.reduce_sum(tf.reshape(tf.cast(x, tf.float32), (tf.shape(x)[0], -1)), axis=1, keepdims=True)
        eps = tf.sin((1.0 + total) * tf.range(1.0, LATENT + 1.0))
        return q.mean() + q.stddev() * eps


def build(cls, seed=0, optimizer=None):
    keras.utils.set_random_seed(seed)
    decoder = keras.Sequential(
        [keras.layers.Dense(32, activation="tanh", kernel_regularizer=keras.regularizers.L2(1e-3))], name="decoder"
    )
    model = cls(
        encoder=vae_tf.networks.mlp_encoder(latent_dim=LATENT, hidden=(32,)),
        decoder=decoder,
        likelihood=vae_tf.layers.IndependentNormal(EVENT, scale="learned"),
        beta=0.7,
        seed=3,
    )
    model.build((None,) + EVENT)
    # SGD for the one-step comparison: Adam's first step is lr * sign(g), which
    # would magnify float round-off in near-zero gradients.
    model.compile(optimizer=optimizer or keras.optimizers.SGD(0.01), jit_compile=False)
    return model


def metrics(model, x, w):
    return model.evaluate(x, x, sample_weight=w, batch_size=40, verbose=0, return_dict=True)


def main():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(120,) + EVENT).astype("float32")
    w = rng.uniform(0.5, 1.5, size=len(x)).astype("float32")
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    out = {"replicas": strategy.num_replicas_in_sync}

    single = build(ExampleNoiseVAE)
    with strategy.scope():
        mirrored = build(ExampleNoiseVAE, seed=1)  # different init, overwritten below
    mirrored.set_weights(single.get_weights())
    out["compile"] = {"jit_compile": mirrored.jit_compile, "steps_per_execution": mirrored.steps_per_execution}

    out["evaluate"] = {"single": metrics(single, x, w), "mirrored": metrics(mirrored, x, w)}
    # One SGD step on one global batch of 120 (60 per replica).
    fit = {}
    for name, model in (("single", single), ("mirrored", mirrored)):
        history = model.fit(x, x, sample_weight=w, batch_size=len(x), epochs=1, shuffle=False, verbose=0).history
        fit[name] = {k: v[0] for k, v in history.items()}
    out["train_step"] = fit
    out["max_weight_diff_after_step"] = max(
        float(np.max(np.abs(a - b))) for a, b in zip(single.get_weights(), mirrored.get_weights())
    )
    out["max_weight_change_of_step"] = max(
        float(np.max(np.abs(a - b))) for a, b in zip(build(ExampleNoiseVAE).get_weights(), single.get_weights())
    )
    out["evaluate_after_step"] = {"single": metrics(single, x, w), "mirrored": metrics(mirrored, x, w)}

    # The real model: the seed stream in replica context.
    with strategy.scope():
        real = build(vae_tf.VAE, optimizer="adam")
    state_before = real.seed_generator.state.numpy().tolist()
    same_x = tf.constant(x[:5])
    draw = tf.function(lambda xb: real.sample_latent(real.encode(xb), xb))
    per_replica = strategy.experimental_local_results(strategy.run(draw, args=(same_x,)))
    out["replica_noise_max_abs_diff"] = float(np.max(np.abs(per_replica[0].numpy() - per_replica[1].numpy())))
    out["seed_state_advance_per_call"] = (real.seed_generator.state.numpy() - np.array(state_before)).tolist()
    history = real.fit(x, epochs=2, batch_size=40, verbose=0).history
    out["real_fit"] = history
    out["seed_state_replicas"] = [v.numpy().tolist() for v in strategy.experimental_local_results(real.seed_generator.state.value)]
    out["seed_state_after_fit"] = real.seed_generator.state.numpy().tolist()

    # A KL warm-up under the strategy: the callback assigns beta in cross-replica context.
    with strategy.scope():
        warm = build(vae_tf.VAE, optimizer="adam")
    history = warm.fit(x, epochs=3, batch_size=40, verbose=0, callbacks=[vae_tf.callbacks.KLWarmup(epochs=2)]).history
    out["warmup_beta_history"] = history["beta"]
    out["warmup_beta_replicas"] = [float(v.numpy()) for v in strategy.experimental_local_results(warm.beta.value)]
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
