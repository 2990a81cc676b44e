"""The networks: residual conv encoder/decoder, the choice of network, saving and loading, the CLI's --network."""

import json

import numpy as np
import pytest
import tensorflow as tf
import keras

import vae_tf
import vae_tf_cli as cli
from vae_tf.errors import InvalidInputError
from vae_tf.models.vae.config import VAEConfig, build_vae
from vae_tf.networks import (choose_network, describe_network, params_per_pixel, params_per_value, resnet_decoder,
                             resnet_encoder)

RGB = (16, 16, 3)
TOL = dict(rtol=1e-5, atol=1e-5)

#: Every likelihood layer, built to take a conv decoder's per-pixel parameters (project=False).
LIKELIHOODS = {
    "normal_fixed": lambda s: vae_tf.layers.IndependentNormal(s, scale=0.3, project=False),
    "normal_learned": lambda s: vae_tf.layers.IndependentNormal(s, scale="learned", project=False),
    "normal_per_pixel": lambda s: vae_tf.layers.IndependentNormal(s, scale="per_pixel", project=False),
    "bernoulli": lambda s: vae_tf.layers.IndependentBernoulli(s, project=False),
    "continuous_bernoulli": lambda s: vae_tf.layers.IndependentContinuousBernoulli(s, project=False),
    "discretized_normal": lambda s: vae_tf.layers.IndependentDiscretizedNormal(s, scale="per_pixel", num_levels=17,
                                                                               project=False),
    "logistic_mixture": lambda s: vae_tf.layers.IndependentDiscretizedLogisticMixture(s, num_components=3, num_levels=17,
                                                                                      project=False),
    "categorical": lambda s: vae_tf.layers.IndependentCategorical(s, num_levels=17, rank=4, project=False),
}


def _levels(shape, n=4, seed=0):
    """``n`` images of ``shape`` on the 17-level grid ``k / 16`` (valid for every likelihood above but the Bernoulli)."""
    return (np.random.default_rng(seed).integers(0, 17, size=(n,) + shape) / 16).astype("float32")


@pytest.mark.parametrize("shape", [(8, 8, 1), RGB])
def test_resnet_shapes(shape):
    x = _levels(shape, n=3)
    encoder = resnet_encoder(5, widths=(8, 16), blocks_per_stage=2)
    z_mean, z_log_var = encoder.parameters(x)
    assert z_mean.shape == (3, 5) and z_log_var.shape == (3, 5)
    # Two stride-2 stages: the features are (H/4, W/4, widths[-1]).
    assert encoder.network(x).shape == (3, (shape[0] // 4) * (shape[1] // 4) * 16)
    decoder = resnet_decoder(shape, params_per_value=3, widths=(16, 8), blocks_per_stage=2)
    out = decoder(tf.zeros((3, 5)))
    assert out.shape == (3, shape[0], shape[1], shape[2] * 3)
    blocks = [layer for layer in decoder.layers if isinstance(layer, vae_tf.networks.ResidualBlock)]
    assert [b.resample for b in blocks] == ["up", None, "up", None]


def test_resnet_block_projects_only_when_needed():
    x = tf.zeros((2, 8, 8, 4))
    same = vae_tf.networks.ResidualBlock(4)
    wider = vae_tf.networks.ResidualBlock(6)
    down = vae_tf.networks.ResidualBlock(4, resample="down")
    up = vae_tf.networks.ResidualBlock(4, resample="up")
    assert same(x).shape == (2, 8, 8, 4) and same.projection is None  # identity skip
    assert wider(x).shape == (2, 8, 8, 6) and wider.projection is not None
    assert down(x).shape == (2, 4, 4, 4) and down.projection is not None
    assert up(x).shape == (2, 16, 16, 4) and up.projection is None  # nearest upsampling, same width


@pytest.mark.parametrize("network", ["conv", "resnet"])
@pytest.mark.parametrize("shape", [(10, 12, 1), (8, 6, 3)])
def test_sides_not_divisible_by_four_are_refused(network, shape):
    with pytest.raises(InvalidInputError, match="divisible by 4"):
        build_vae(VAEConfig("x", network=network), shape)


def test_flat_data_need_the_mlp():
    with pytest.raises(InvalidInputError, match="height, width, channels"):
        build_vae(VAEConfig("x", network="resnet"), (64,))
    assert build_vae(VAEConfig("x", network="auto"), (64,)).likelihood.project


@pytest.mark.parametrize("key", sorted(LIKELIHOODS))
def test_each_pixel_gets_the_parameters_computed_at_it(key):
    """A conv decoder's output at pixel (i, j) moves the log-probability of pixel (i, j) and of no other."""
    shape = (4, 4, 2)
    layer = LIKELIHOODS[key](shape)
    x = _levels(shape, n=1, seed=1)
    if key == "bernoulli":
        x = np.round(x)
    params = np.random.default_rng(2).normal(size=(1,) + shape[:2] + (params_per_pixel(layer),)).astype("float32")
    moved = params.copy()
    moved[0, 1, 2, :] += 0.7
    per_value = [layer(p).distribution.log_prob(x).numpy()[0] for p in (params, moved)]
    changed = np.abs(per_value[1] - per_value[0]) > 1e-6
    assert changed.shape == shape
    assert changed[1, 2].all() and changed.sum() == shape[2]


@pytest.mark.parametrize("key,expected", [("normal_fixed", 1), ("normal_per_pixel", 2), ("bernoulli", 1),
                                          ("discretized_normal", 2), ("logistic_mixture", 9), ("categorical", 4)])
def test_params_per_value_and_pixel(key, expected):
    grey = LIKELIHOODS[key]((8, 8, 1))
    assert params_per_value(grey) == params_per_pixel(grey) == expected
    rgb = LIKELIHOODS[key](RGB)
    if key == "logistic_mixture":  # on RGB the mixture couples the channels: 10 K parameters per pixel, none per value
        assert params_per_pixel(rgb) == 10 * 3
        with pytest.raises(ValueError, match="params_per_pixel"):
            params_per_value(rgb)
    else:
        assert params_per_pixel(rgb) == 3 * expected


def test_every_likelihood_gets_gradients_through_a_resnet_decoder():
    x = _levels(RGB, n=4)
    for key, likelihood in LIKELIHOODS.items():
        data = np.round(x) if key == "bernoulli" else x
        layer = likelihood(RGB)
        model = vae_tf.VAE(resnet_encoder(3, widths=(4, 8)),
                           resnet_decoder(RGB, widths=(8, 4), params_per_pixel=params_per_pixel(layer)), layer, seed=0)
        model.build((None,) + RGB)
        with tf.GradientTape() as tape:
            nll = -tf.reduce_mean(model(data).log_prob(data))
        grads = tape.gradient(nll, model.decoder.trainable_variables + model.encoder.trainable_variables)
        assert np.isfinite(nll.numpy()), key
        assert all(g is not None and np.all(np.isfinite(g.numpy())) for g in grads), key
        assert np.any(grads[-1].numpy() != 0), key  # the encoder is reached through the reparameterised z


@pytest.mark.parametrize("network", ["mlp", "conv", "resnet"])
def test_saves_and_loads_with_identical_outputs(network, tmp_path):
    config = VAEConfig("m", likelihood="logistic_mixture", latent_dim=3, hidden=(16,), network=network)
    model = build_vae(config, RGB, seed=0, num_levels=17)
    x = _levels(RGB, n=4)
    model.build((None,) + RGB)
    assert model.likelihood.project == (network == "mlp")
    path = tmp_path / f"{network}.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    assert describe_network(restored) == describe_network(model)
    assert describe_network(model).startswith(f"{network}, ")
    for ours, theirs in zip(model.encoder.parameters(x), restored.encoder.parameters(x)):
        np.testing.assert_allclose(theirs.numpy(), ours.numpy(), **TOL)
    z = np.random.default_rng(3).normal(size=(4, 3)).astype("float32")
    np.testing.assert_allclose(restored.decode(z).log_prob(x).numpy(), model.decode(z).log_prob(x).numpy(), **TOL)


def test_describe_network_counts_the_parameters():
    model = build_vae(VAEConfig("m", likelihood="bernoulli", latent_dim=2, hidden=(5,), network="mlp"), (4, 4, 1))
    assert describe_network(model) == "mlp, not built yet"
    model.build((None, 4, 4, 1))
    # Flatten 16 -> Dense 5 -> posterior Dense 2*2; decoder Dense 2 -> 5; Bernoulli projection 5 -> 16; beta.
    expected = (16 * 5 + 5) + (5 * 4 + 4) + (2 * 5 + 5) + (5 * 16 + 16) + 1
    assert describe_network(model) == f"mlp, {expected:,} parameters"


@pytest.mark.parametrize("shape,expected", [
    ((8, 8, 1), "mlp"),      # scikit-learn digits
    ((28, 28, 1), "mlp"),    # MNIST stays an MLP (the demo's budget)
    ((32, 32, 1), "resnet"),
    ((64, 48, 1), "resnet"),
    ((16, 16, 3), "resnet"),  # colour
    ((32, 32, 3), "resnet"),  # CIFAR-10
    ((30, 30, 3), "mlp"),    # sides not divisible by 4
    ((784,), "mlp"),
])
def test_choose_network_auto(shape, expected):
    assert choose_network(shape) == expected


def test_choose_network_by_name():
    assert choose_network((8, 8, 1), "resnet") == "resnet"
    assert choose_network((32, 32, 3), "mlp") == "mlp"
    with pytest.raises(InvalidInputError, match="network must be one of"):
        choose_network((8, 8, 1), "transformer")
    assert vae_tf.networks.NETWORKS == ("auto", "mlp", "conv", "resnet")


@pytest.mark.parametrize("network,xla", [("mlp", True), ("conv", False), ("resnet", False)])
def test_xla_only_without_convolutions(network, xla):
    model = build_vae(VAEConfig("m", likelihood="bernoulli", latent_dim=2, hidden=(8,), network=network), (8, 8, 1))
    model.compile(optimizer="adam")
    assert model.jit_compile is xla
    model.compile(optimizer="adam", jit_compile=True)  # an explicit choice still wins
    assert model.jit_compile is True


def _train(tmp_path, capsys, name, *args):
    out = tmp_path / f"{name}.keras"
    rc = cli.main(["train", "--config", "dnormal_learned_sigma", "--epochs", "1", "--latent-dim", "2",
                   "--hidden", "8", "--out", str(out), "--quiet", *args])
    return rc, out, capsys.readouterr()


def test_cli_network_reaches_the_model(tmp_path, capsys):
    # 16x16 grey images: "auto" would pick the MLP, so a resnet in the file came from --network.
    rng = np.random.default_rng(0)
    data = tmp_path / "tiny16.npz"
    np.savez(data, x_train=rng.integers(0, 256, (120, 16, 16), dtype=np.uint8), y_train=np.zeros(120),
             x_test=rng.integers(0, 256, (20, 16, 16), dtype=np.uint8), y_test=np.zeros(20))
    assert choose_network((16, 16, 1)) == "mlp"
    rc, out, printed = _train(tmp_path, capsys, "tiny_resnet", "--data", str(data), "--network", "resnet")
    assert rc == 0, printed.err
    assert "Network: resnet, " in printed.out
    assert json.loads(open(str(out) + ".json").read())["config"]["network"] == "resnet"
    model = keras.saving.load_model(out)
    assert describe_network(model).startswith("resnet, ") and not model.likelihood.project


@pytest.mark.parametrize("network", ["mlp", "conv"])
def test_cli_compare_passes_the_network_on(network, monkeypatch, tmp_path):
    seen = {}
    monkeypatch.setattr("vae_tf.comparison.runner.run_compare", lambda **kwargs: seen.update(kwargs))
    assert cli.main(["compare", "--configs", "categorical", "--network", network, "--out", str(tmp_path)]) == 0
    assert seen["network"] == network


def test_cli_refuses_a_resnet_for_sides_it_cannot_reach(tmp_path, capsys):
    data = tmp_path / "tiny10.npz"
    rng = np.random.default_rng(0)
    np.savez(data, x_train=rng.integers(0, 256, (40, 10, 10), dtype=np.uint8), y_train=np.zeros(40),
             x_test=rng.integers(0, 256, (10, 10, 10), dtype=np.uint8), y_test=np.zeros(10))
    rc, _, printed = _train(tmp_path, capsys, "bad", "--data", str(data), "--network", "resnet")
    assert rc == 2
    assert "divisible by 4" in printed.err and "Traceback" not in printed.err
    assert len(printed.err.strip().splitlines()) == 1


def test_a_resnet_model_exports(tmp_path):
    model = build_vae(VAEConfig("m", likelihood="bernoulli", latent_dim=3, network="resnet"), RGB, seed=0)
    x = np.round(_levels(RGB, n=4))
    path = vae_tf.export_saved_model(model, tmp_path / "m" / "1")
    signatures = tf.saved_model.load(path).signatures
    served = signatures["encode"](x=tf.constant(x))
    np.testing.assert_allclose(served["z_mean"].numpy(), model.encoder.parameters(x)[0].numpy(), **TOL)
    z = np.random.default_rng(1).normal(size=(2, 3)).astype("float32")
    np.testing.assert_allclose(signatures["decode"](z=tf.constant(z))["mean"].numpy(), model.decode(z).mean().numpy(),
                               **TOL)
