"""The VAE model: training, metrics, KL, save/load, inference methods."""

import math
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
import keras

import losses
import vae_tf

tfd = tfp.distributions


def make_vae(event_shape, likelihood, latent=8, hidden=(64, 64), seed=1, **kwargs):
    return vae_tf.VAE(
        encoder=vae_tf.networks.mlp_encoder(latent_dim=latent, hidden=hidden),
        decoder=vae_tf.networks.mlp_decoder(hidden=hidden),
        likelihood=likelihood,
        seed=seed,
        **kwargs,
    )


def test_analytic_kl_matches_tfp_and_monte_carlo():
    rng = np.random.default_rng(0)
    mu = rng.normal(size=(6, 5)).astype("float32")
    log_var = rng.normal(scale=0.7, size=(6, 5)).astype("float32")
    q = tfd.Independent(tfd.Normal(mu, np.exp(0.5 * log_var)), 1)
    p = vae_tf.standard_normal_prior(5)
    ours = vae_tf.diagonal_gaussian_kl(mu, log_var).numpy()
    np.testing.assert_allclose(ours, tfd.kl_divergence(q, p).numpy(), rtol=1e-5)
    z = q.sample(200_000, seed=(1, 2))
    terms = (q.log_prob(z) - p.log_prob(z)).numpy()
    se = terms.std(axis=0) / math.sqrt(len(terms))
    assert np.all(np.abs(terms.mean(axis=0) - ours) < 4 * se)


@pytest.mark.parametrize(
    "likelihood, loss, binarize",
    [
        (lambda: vae_tf.layers.IndependentNormal((8, 8, 1), scale="learned"), losses.NegativeLogLikelihood, False),
        (lambda: vae_tf.layers.IndependentNormal((8, 8, 1), scale=0.1), lambda: losses.ScaledMSE(sigma=0.1), False),
        (lambda: vae_tf.layers.IndependentBernoulli((8, 8, 1)), losses.BinaryCrossentropy, True),
        (lambda: vae_tf.layers.IndependentBernoulli((8, 8, 1)), losses.NegativeLogLikelihood, True),
    ],
)
def test_snippet_trains_on_digits(digits, likelihood, loss, binarize):
    x = (digits > 0.5).astype("float32") if binarize else digits
    model = make_vae((8, 8, 1), likelihood())
    model.compile(optimizer="adam", loss=loss())
    history = model.fit(x[:1500], x[:1500], epochs=6, batch_size=100, validation_data=(x[1500:], x[1500:]), verbose=0)
    h = history.history
    for key in ("loss", "kl", "reconstruction_nll", "val_loss", "val_kl", "val_reconstruction_nll"):
        assert key in h and np.all(np.isfinite(h[key])), key
    assert h["loss"][-1] < h["loss"][0]
    assert h["val_reconstruction_nll"][-1] < h["val_reconstruction_nll"][0]
    px = model(x[:3])
    assert isinstance(px, tfd.Independent) and tuple(px.event_shape) == (8, 8, 1)


def test_compiled_loss_swaps_only_the_reconstruction_term(digits):
    """With identical weights and noise, "mse" + KL and ScaledMSE(sqrt(D/2)) + KL give one loss: the hidden beta."""
    x = digits[:200]
    d = 64
    model = make_vae((8, 8, 1), vae_tf.layers.IndependentNormal((8, 8, 1), scale=1.0))
    results = {}
    for name, loss in [("keras_mse", "mse"), ("scaled", losses.ScaledMSE(sigma=math.sqrt(d / 2)))]:
        model.compile(optimizer="adam", loss=loss, jit_compile=False)
        model.build(x.shape)
        model.seed_generator.state.assign(np.array([7, 0], "uint32"))
        results[name] = model.evaluate(x, x, batch_size=200, verbose=0, return_dict=True)
    np.testing.assert_allclose(results["keras_mse"]["loss"], results["scaled"]["loss"], rtol=1e-5)
    np.testing.assert_allclose(results["keras_mse"]["kl"], results["scaled"]["kl"], rtol=1e-5)


def test_nll_and_bce_train_identically_on_binary_data(digits):
    x = (digits[:400] > 0.5).astype("float32")
    runs = []
    for loss in (losses.NegativeLogLikelihood(), losses.BinaryCrossentropy()):
        keras.utils.set_random_seed(3)
        model = make_vae((8, 8, 1), vae_tf.layers.IndependentBernoulli((8, 8, 1)), seed=3)
        model.compile(optimizer="adam", loss=loss)
        runs.append(model.fit(x, epochs=2, batch_size=100, verbose=0, shuffle=False).history["loss"])
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-4)


def test_save_load_roundtrip_and_inference_methods(digits, tmp_path):
    x = digits[:300]
    model = make_vae((8, 8, 1), vae_tf.layers.IndependentNormal((8, 8, 1), scale="per_pixel"), beta=0.5)
    model.compile(optimizer="adam", loss=losses.NegativeLogLikelihood())
    model.fit(x, epochs=1, batch_size=100, verbose=0, callbacks=[keras.callbacks.EarlyStopping(monitor="loss")])
    path = str(tmp_path / "m.keras")
    model.save(path)
    again = keras.models.load_model(path)
    assert again.beta_target == 0.5 and float(again.beta) == 0.5
    np.testing.assert_allclose(again.reconstruct(x[:10]).numpy(), model.reconstruct(x[:10]).numpy(), atol=1e-6)
    np.testing.assert_allclose(again.sample(4, seed=5).numpy(), model.sample(4, seed=5).numpy(), atol=1e-6)
    again.fit(x, epochs=1, batch_size=100, verbose=0)  # restored compile state trains on
    assert model.predict(x[:7], verbose=0).shape == (7, 8, 8, 1)
    assert model.elbo(x[:9]).shape == (9,)
    assert isinstance(model.encode(x[:2]), tfd.Distribution) and isinstance(model.decode(tf.zeros((2, 8))), tfd.Distribution)


def test_iwae_is_at_least_the_elbo_on_average(digits):
    x = (digits[:100] > 0.5).astype("float32")
    model = make_vae((8, 8, 1), vae_tf.layers.IndependentBernoulli((8, 8, 1)))
    model.compile(optimizer="adam")
    model.fit(x, epochs=3, batch_size=50, verbose=0)
    elbo = np.mean([model.elbo(x).mean() for _ in range(5)])
    iwae = model.iwae_log_likelihood(x, k=200).mean()
    assert iwae > elbo
    # chunking does not change the estimator: many small chunks give the same mean within noise
    small_chunks = model.iwae_log_likelihood(x, k=200, max_rows=64, seed=1).mean()
    assert abs(small_chunks - iwae) < 0.5


def test_conv_networks(digits):
    x = np.pad(digits[:200], ((0, 0), (0, 0), (0, 0), (0, 0)))
    model = vae_tf.VAE(
        encoder=vae_tf.networks.conv_encoder(latent_dim=4, filters=(8, 16), dense=32),
        decoder=vae_tf.networks.conv_decoder((8, 8, 1), params_per_value=2, filters=(16, 8)),
        likelihood=vae_tf.layers.IndependentNormal((8, 8, 1), scale="per_pixel", project=False),
    )
    model.compile(optimizer="adam")
    h = model.fit(x, epochs=3, batch_size=50, verbose=0).history
    assert h["loss"][-1] < h["loss"][0]


def test_mnist_snippet(mnist_path):
    with np.load(mnist_path) as f:
        x = (f["x_train"][:3000] / 255.0).astype("float32")[..., None]
    xb = (x > 0.5).astype("float32")
    for likelihood, loss, data in [
        (vae_tf.layers.IndependentNormal(event_shape=(28, 28, 1), scale="learned"), losses.NegativeLogLikelihood(), x),
        (vae_tf.layers.IndependentBernoulli(event_shape=(28, 28, 1)), losses.BinaryCrossentropy(), xb),
    ]:
        model = vae_tf.VAE(
            encoder=vae_tf.networks.mlp_encoder(latent_dim=50, hidden=(200, 200)),
            decoder=vae_tf.networks.mlp_decoder(hidden=(200, 200)),
            likelihood=likelihood,
        )
        model.compile(optimizer="adam", loss=loss)
        h = model.fit(data[:2500], data[:2500], epochs=3, validation_data=(data[2500:], data[2500:]), verbose=0).history
        assert h["val_loss"][-1] < h["val_loss"][0]


@pytest.mark.parametrize("bad, match", [(dict(beta=-1.0), "beta"), (dict(beta=float("nan")), "beta")])
def test_bad_model_arguments(bad, match):
    with pytest.raises(ValueError, match=match):
        make_vae((8, 8, 1), vae_tf.layers.IndependentBernoulli((8, 8, 1)), **bad)


def test_console_entry_point_help():
    out = subprocess.run([sys.executable, "-m", "vae_tf_cli", "--help"], capture_output=True, text=True, check=True)
    assert "vae-tf" in out.stdout


# -- your own encoder and decoder: what VAE(...) needs, said in one line when it is built -------------------------

def _functional_encoder(features=32):
    inputs = keras.Input((8, 8, 1))
    return keras.Model(inputs, keras.layers.Dense(features)(keras.layers.Flatten()(inputs)))


def test_an_encoder_that_returns_a_vector_is_refused_with_the_wrapping_to_use():
    """A functional encoder declares its output: refused at construction (it failed at fit with
    "'EagerTensor' object has no attribute 'mean'")."""
    likelihood = vae_tf.layers.IndependentNormal((8, 8, 1), scale="learned")
    with pytest.raises(vae_tf.errors.InvalidInputError) as error:
        vae_tf.VAE(_functional_encoder(), vae_tf.networks.mlp_decoder((16,)), likelihood)
    message = str(error.value)
    assert "\n" not in message
    assert "encoder must return a distribution q(z|x)" in message
    assert "a tensor of shape (batch, 32)" in message
    assert "vae_tf.networks.GaussianEncoder(net, latent_dim)" in message


def test_a_subclassed_encoder_that_returns_a_vector_is_refused_when_built(digits):
    class Features(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(6)

        def call(self, x):
            return self.dense(keras.ops.reshape(x, (-1, 64)))

    model = vae_tf.VAE(Features(), vae_tf.networks.mlp_decoder((16,)), vae_tf.layers.IndependentNormal((8, 8, 1)))
    model.compile(jit_compile=False)
    with pytest.raises(vae_tf.errors.InvalidInputError, match=r"returned a tensor of shape \(batch, 6\): wrap"):
        model.fit(digits[:20], epochs=1, verbose=0)


def test_a_decoder_of_the_wrong_size_for_project_false_is_named_with_params_size_and_per_pixel(digits):
    encoder = vae_tf.networks.GaussianEncoder(_functional_encoder(), latent_dim=4)
    likelihood = vae_tf.layers.IndependentNormal((8, 8, 1), scale="per_pixel", project=False)
    model = vae_tf.VAE(encoder, vae_tf.networks.conv_decoder((8, 8, 1), filters=(8, 8)), likelihood)
    model.compile(jit_compile=False)
    with pytest.raises(vae_tf.errors.InvalidInputError) as error:
        model.fit(digits[:20], epochs=1, verbose=0)
    message = str(error.value)
    assert "\n" not in message
    assert "the decoder returns (batch, 8, 8, 1), 64 numbers per example" in message
    assert "params_size = 128" in message and "(batch, 8, 8, 2)" in message and "params_per_pixel = 2" in message
    assert "project=True" in message


def test_a_functional_decoder_is_checked_at_construction():
    z = keras.Input((4,))
    decoder = keras.Model(z, keras.layers.Dense(64)(z))
    likelihood = vae_tf.layers.IndependentNormal((8, 8, 1), scale="per_pixel", project=False)
    with pytest.raises(vae_tf.errors.InvalidInputError, match=r"\(batch, 64\), 64 numbers per example.*params_size = 128"):
        vae_tf.VAE(vae_tf.networks.mlp_encoder(4, (8,)), decoder, likelihood)


def test_a_decoder_that_outputs_the_parameters_to_a_projecting_layer_is_warned_about(digits):
    decoder = vae_tf.networks.conv_decoder((8, 8, 1), params_per_value=2, filters=(8, 8))
    model = vae_tf.VAE(vae_tf.networks.mlp_encoder(4, (8,)), decoder,
                       vae_tf.layers.IndependentNormal((8, 8, 1), scale="per_pixel"))
    with pytest.warns(UserWarning, match=r"project=True and projects them through a Dense layer of 128 x 128 "
                                         r"weights: build it with project=False"):
        model.build(digits[:1].shape)


def test_your_own_functional_networks_train_once_wrapped(digits):
    """The README's "bring your own encoder and decoder": a functional encoder in GaussianEncoder, a functional conv
    decoder outputting the parameters of a likelihood built with project=False."""
    encoder = vae_tf.networks.GaussianEncoder(_functional_encoder(16), latent_dim=4)
    likelihood = vae_tf.layers.IndependentNormal((8, 8, 1), scale="per_pixel", project=False)
    z = keras.Input((4,))
    h = keras.layers.Reshape((4, 4, 8))(keras.layers.Dense(128, activation="relu")(z))
    h = keras.layers.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu")(h)
    decoder = keras.Model(z, keras.layers.Conv2D(vae_tf.networks.params_per_pixel(likelihood), 3, padding="same")(h))
    model = vae_tf.VAE(encoder, decoder, likelihood)
    model.compile(jit_compile=False)
    h = model.fit(digits[:200], epochs=2, batch_size=50, verbose=0).history
    assert np.all(np.isfinite(h["loss"])) and model.latent_dim == 4
