"""The networks' arithmetic: bfloat16 hidden layers for conv networks where the CPU has it, float32 where it counts."""

import numpy as np
import pytest
import keras
import tensorflow as tf

import losses
import vae_tf
from vae_tf.errors import InvalidInputError
from vae_tf.networks import precision as precision_module

SHAPE = (8, 8, 3)


def resnet_vae(likelihood=None):
    likelihood = likelihood or vae_tf.layers.IndependentDiscretizedNormal(SHAPE, scale="per_pixel", project=False)
    encoder = vae_tf.networks.resnet_encoder(latent_dim=4, widths=(8, 8))
    decoder = vae_tf.networks.resnet_decoder(SHAPE, params_per_pixel=vae_tf.networks.params_per_pixel(likelihood),
                                             widths=(8, 8))
    model = vae_tf.VAE(encoder=encoder, decoder=decoder, likelihood=likelihood, seed=0)
    model.build((None,) + SHAPE)
    return model


def images(n=16, seed=0):
    return (np.random.default_rng(seed).integers(0, 256, (n,) + SHAPE) / 255.0).astype("float32")


@pytest.mark.parametrize("text, expected", [
    ("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f avx512_bf16\n", True),
    ("processor\t: 0\nflags\t\t: fpu sse avx2 amx_bf16 amx_tile\n", True),
    ("processor\t: 0\nflags\t\t: fpu sse avx2 fma avx512f\n", False),
    ("processor\t: 0\nFeatures\t: fp asimd sve bf16 i8mm\n", True),
    ("processor\t: 0\nFeatures\t: fp asimd\n", False),
])
def test_native_bfloat16_is_read_from_the_cpu_flags(tmp_path, text, expected):
    path = tmp_path / "cpuinfo"
    path.write_text(text)
    assert precision_module.cpu_has_native_bfloat16(str(path)) is expected


def test_no_cpuinfo_means_no_native_bfloat16(tmp_path):
    assert precision_module.cpu_has_native_bfloat16(str(tmp_path / "missing")) is False


@pytest.mark.parametrize("native", [True, False])
def test_auto_gives_conv_networks_bfloat16_only_on_a_cpu_that_has_it(monkeypatch, native):
    monkeypatch.setattr(precision_module, "cpu_has_native_bfloat16", lambda: native)
    model = resnet_vae()
    assert vae_tf.networks.choose_precision(model.encoder, model.decoder) == ("mixed_bfloat16" if native else "float32")
    mlp = vae_tf.VAE(encoder=vae_tf.networks.mlp_encoder(4, hidden=(8,)), decoder=vae_tf.networks.mlp_decoder(hidden=(8,)),
                     likelihood=vae_tf.layers.IndependentBernoulli((6,)))
    assert vae_tf.networks.choose_precision(mlp.encoder, mlp.decoder) == "float32"


def test_a_bad_precision_is_one_clear_error():
    model = resnet_vae()
    with pytest.raises(InvalidInputError, match="precision must be one of"):
        model.compile(precision="float16")


def test_bfloat16_networks_keep_the_distribution_parameters_in_float32():
    model = resnet_vae()
    model.compile(precision="mixed_bfloat16")
    assert model.precision == "mixed_bfloat16"
    hidden = model.decoder.layers[2]  # the first residual block
    assert hidden.dtype_policy.compute_dtype == "bfloat16"
    assert model.decoder.layers[-1].dtype_policy.compute_dtype == "float32"
    assert model.encoder.posterior.dtype_policy.compute_dtype == "float32"
    assert all(v.dtype == "float32" for v in model.weights)
    x = images()
    q = model.encoder(x)
    assert q.mean().dtype == tf.float32
    params = model.decoder(q.mean())
    assert params.dtype == tf.float32
    log_px = model.decode(q.mean()).log_prob(x)
    assert log_px.dtype == tf.float32 and np.all(np.isfinite(log_px.numpy()))


def test_bfloat16_networks_train_and_go_back_to_float32():
    model = resnet_vae()
    x = images(64)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=losses.NegativeLogLikelihood(),
                  precision="mixed_bfloat16")
    history = model.fit(x, epochs=3, batch_size=16, verbose=0)
    loss = history.history["loss"]
    assert np.all(np.isfinite(loss)) and loss[-1] < loss[0]
    model.compile(loss=losses.NegativeLogLikelihood(), precision="float32")
    assert model.precision == "float32"
    assert all(layer.dtype_policy.name == "float32" for layer in vae_tf.networks.selection.all_sublayers(model.decoder))


def test_a_saved_bfloat16_model_loads_and_scores_the_same(tmp_path):
    model = resnet_vae()
    model.compile(loss=losses.NegativeLogLikelihood(), precision="mixed_bfloat16")
    x = images()
    z = model.encoder(x).mean()
    expected = model.decode(z).log_prob(x).numpy()
    path = str(tmp_path / "bf16.keras")
    model.save(path)
    loaded = keras.models.load_model(path, compile=False)
    assert loaded.precision == "mixed_bfloat16"
    np.testing.assert_allclose(loaded.decode(loaded.encoder(x).mean()).log_prob(x).numpy(), expected, rtol=1e-5)


def test_a_global_policy_other_than_float32_is_left_to_rule():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = resnet_vae()
        model.compile(loss=losses.NegativeLogLikelihood())
        assert model.decoder.layers[2].dtype_policy.name == "mixed_float16"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_user_networks_that_are_not_sequential_cannot_get_bfloat16():
    class Decoder(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(8)

        def call(self, z):
            return self.dense(z)

    encoder = vae_tf.networks.mlp_encoder(4, hidden=(8,))
    with pytest.raises(InvalidInputError, match="must stay float32"):
        vae_tf.networks.set_network_precision(encoder, Decoder(), "mixed_bfloat16")
