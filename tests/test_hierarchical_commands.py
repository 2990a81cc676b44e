"""The hierarchical VAE in the package's paths that are not the model itself: held_out_metrics, the SavedModel
export (the five signatures), loading a file of the wrong family, ``compare`` on two configurations and ``vae-tf
train --model hierarchical`` / ``evaluate`` / ``export``. Tiny images (8x8 digits) and networks: seconds each.
"""

import json

import numpy as np
import pytest
import tensorflow as tf
import keras

import vae_tf
import vae_tf_cli
from vae_tf import layers
from vae_tf.comparison import runner
from vae_tf.errors import UnsupportedModelError
from vae_tf.models import HierarchicalVAE, HierarchicalVAEConfig, LatentVariableModel, VAE, build_model
from vae_tf.models.vae import DEFAULT_CONFIGS

SHAPE = (8, 8, 1)
LEVELS = 17
TINY = HierarchicalVAEConfig(width=8, latent_channels=2, layers_per_resolution=(1, 1), patch_size=2)


def levels(n=24, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, LEVELS, (n,) + SHAPE) / (LEVELS - 1)).astype("float32")


@pytest.fixture(scope="module")
def model():
    m = HierarchicalVAE(TINY, layers.IndependentDiscretizedNormal(SHAPE, scale="per_pixel", num_levels=LEVELS,
                                                                 project=False), seed=0)
    m.compile(optimizer="adam", precision="float32")
    m.fit(levels(32), epochs=1, batch_size=16, verbose=0)
    return m


def test_held_out_metrics_give_the_kl_of_every_latent_layer(model):
    row = vae_tf.evaluation.held_out_metrics(model, levels(12, seed=1), k=3)
    assert len(row["layer_kl"]) == model.num_latent_layers == 2
    assert row["kl"] == pytest.approx(sum(row["layer_kl"]), rel=1e-5)
    assert row["latent_units"] == model.latent_dim == 2 * 2 * 2 + 4 * 4 * 2
    assert row["bits_per_dim_method"] == "exact" and 0 < row["bits_per_dim"] < np.log2(LEVELS) * 3
    assert row["test_iwae"] >= row["test_elbo"] - 5.0


def test_export_serves_the_five_signatures_of_the_hierarchy(model, tmp_path):
    path = vae_tf.export_saved_model(model, str(tmp_path / "1"))
    served = tf.saved_model.load(path)
    assert set(served.signatures) == {"serving_default", "encode", "decode", "sample", "elbo"}
    x = levels(6, seed=2)
    out = served.signatures["serving_default"](x=tf.constant(x))
    np.testing.assert_allclose(out["reconstruction"], model.reconstruct(x), rtol=1e-5, atol=1e-5)
    codes = served.signatures["encode"](x=tf.constant(x))
    assert codes["z_mean"].shape == (6, model.latent_dim) == codes["z_log_var"].shape
    # The top-down pass at the posterior means is the reconstruction.
    decoded = served.signatures["decode"](z=codes["z_mean"])["mean"]
    np.testing.assert_allclose(decoded, model.reconstruct(x), rtol=1e-5, atol=1e-5)
    images = served.signatures["sample"](num=tf.constant(5), seed=tf.constant(11))["images"]
    np.testing.assert_allclose(images, model.sample(5, seed=11), rtol=1e-5, atol=1e-5)
    elbo = served.signatures["elbo"](x=tf.constant(x))
    np.testing.assert_allclose(elbo["elbo"], -elbo["reconstruction_nll"] - elbo["kl"], rtol=1e-6)
    # Each example's noise is its own: the same ELBO alone as in a batch.
    np.testing.assert_allclose(served.signatures["elbo"](x=tf.constant(x[2:3]))["elbo"], elbo["elbo"][2:3], rtol=1e-5)
    assert np.all(np.asarray(elbo["kl"]) >= 0)


def test_a_file_of_another_family_is_refused_in_one_line(model, tmp_path):
    hierarchical = str(tmp_path / "h.keras")
    model.save(hierarchical)
    vae = VAE(vae_tf.networks.mlp_encoder(2, hidden=(8,)), vae_tf.networks.mlp_decoder(hidden=(8,)),
              layers.IndependentBernoulli(SHAPE), seed=0)
    vae.ensure_built(levels(2))
    flat = str(tmp_path / "v.keras")
    vae.save(flat)
    with pytest.raises(UnsupportedModelError, match="holds a VAE, not a HierarchicalVAE") as info:
        HierarchicalVAE.load(flat)
    assert "\n" not in str(info.value)
    with pytest.raises(UnsupportedModelError, match="holds a HierarchicalVAE, not a VAE"):
        VAE.load(hierarchical)
    loaded = HierarchicalVAE.load(hierarchical)
    assert isinstance(loaded, HierarchicalVAE) and isinstance(LatentVariableModel.load(flat), VAE)
    seed = tf.constant([4, 5], tf.int32)
    np.testing.assert_array_equal(loaded.log_importance_weights(levels(3), 2, seed),
                                  model.log_importance_weights(levels(3), 2, seed))


def test_compare_two_configurations_on_the_hierarchy(tmp_path):
    rows = runner.run_compare(dataset="digits", configs=["dnormal_per_pixel_sigma", "scaled_mse_sigma1"], epochs=1,
                              k=2, batch_size=50, out=str(tmp_path), verbose=0, train_size=150, test_size=30,
                              iwae_examples=10, jit_compile=False, codecs=False, model="hierarchical",
                              architecture=TINY)
    assert [r["name"] for r in rows] == ["dnormal_per_pixel_sigma", "scaled_mse_sigma1"]
    for r in rows:
        assert r["model"] == "hierarchical" and r["network"].startswith("hierarchical VAE, 2 latent layers 2x2x2, 4x4x2")
        assert len(r["layer_kl"]) == 2 and r["kl"] == pytest.approx(sum(r["layer_kl"]), rel=1e-5)
        assert np.isfinite(r["bits_per_dim"]) and r["latent_dim"] == r["latent_units"] == 40
    assert rows[1]["bits_per_dim_at_optimal_sigma"] is not None  # the fixed-sigma twin of a hierarchy
    report = (tmp_path / "report.md").read_text()
    assert "Every run: hierarchical VAE, 2 latent layers 2x2x2, 4x4x2 (40 units)" in report
    assert "`dnormal_per_pixel_sigma` on the hierarchical VAE" in report and "test KL per latent layer, top first" in report
    with pytest.raises(vae_tf.errors.InvalidInputError, match="trains on the ELBO"):
        build_model(DEFAULT_CONFIGS["categorical"].replace(objective="iwae", num_samples=5), SHAPE,
                    family="hierarchical")
    floored = build_model(DEFAULT_CONFIGS["categorical"].replace(free_bits=0.5), SHAPE, family="hierarchical",
                          architecture=TINY)
    assert floored.config.free_bits == 0.5 and floored.latent_shapes == ((2, 2, 2), (4, 4, 2))
    with pytest.raises(vae_tf.errors.InvalidInputError, match="own residual networks"):
        runner.run_compare(dataset="digits", configs=["categorical"], epochs=1, out=str(tmp_path / "b"), verbose=0,
                           codecs=False, model="hierarchical", network="mlp")


def test_train_evaluate_and_export_a_hierarchical_model_from_the_command_line(tmp_path, capsys):
    path = str(tmp_path / "h.keras")
    assert vae_tf_cli.main(["train", "--model", "hierarchical", "--config", "categorical", "--dataset", "digits",
                            "--epochs", "1", "--train-size", "100", "--batch-size", "50", "--out", path, "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "vae-tf train categorical on the hierarchical model" in printed
    assert "Network: hierarchical VAE, 4 latent layers 2x2x8, 2x2x8, 4x4x8, 4x4x8 (320 units), width 64" in printed
    assert json.loads(open(path + ".json").read())["model"] == "hierarchical"
    assert isinstance(keras.saving.load_model(path), HierarchicalVAE)
    assert vae_tf_cli.main(["evaluate", path, "--dataset", "digits", "--k", "2", "--test-size", "20"]) == 0
    assert "KL per latent layer" in capsys.readouterr().out
    assert vae_tf_cli.main(["export", "--model", path, "--out", str(tmp_path / "served")]) == 0
    assert "decode: z float32 (batch, 320) -> mean float32 (batch, 8, 8, 1)" in capsys.readouterr().out
