"""Mixed precision: the networks compute in float16/bfloat16, the distributions in float32."""

import numpy as np
import pytest
import tensorflow as tf
import keras

import vae_tf

EVENT = (28, 28, 1)


@pytest.fixture
def policy(request):
    keras.mixed_precision.set_global_policy(request.param)
    try:
        yield request.param
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.fixture(scope="module")
def mnist_sized():
    """2000 x 28 x 28 x 1 in [0, 1]: MNIST's size, with smooth blobs so there is something to learn."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:28, :28]
    centres = rng.uniform(6, 22, size=(2000, 2, 1, 1))
    img = np.exp(-((yy - centres[:, 0]) ** 2 + (xx - centres[:, 1]) ** 2) / 20.0)
    return np.clip(img + rng.uniform(0, 0.05, size=img.shape), 0, 1).astype("float32")[..., None]


def mlp_model(likelihood):
    return vae_tf.VAE(vae_tf.networks.mlp_encoder(8, (128,)), vae_tf.networks.mlp_decoder((128,)), likelihood, seed=1)


def conv_model():
    return vae_tf.VAE(
        vae_tf.networks.conv_encoder(8, filters=(4, 8), dense=32),
        vae_tf.networks.conv_decoder(EVENT, params_per_value=2, filters=(8, 4)),
        vae_tf.layers.IndependentNormal(EVENT, scale="per_pixel", project=False),
        seed=1,
    )


MODELS = {
    "mlp_learned_sigma": lambda: mlp_model(vae_tf.layers.IndependentNormal(EVENT, scale="learned")),
    "mlp_continuous_bernoulli": lambda: mlp_model(vae_tf.layers.IndependentContinuousBernoulli(EVENT)),
    "conv_per_pixel_sigma": conv_model,
}


def leaves(dist):
    """The innermost distribution of an ``Independent`` wrapper."""
    while hasattr(dist, "distribution"):
        dist = dist.distribution
    return dist


# Three of the six combinations, to keep CI time down (float16 and bfloat16
# are emulated on a CPU): float16, the narrower range, gets the conv decoder
# with a per-pixel sigma; bfloat16, the coarser mantissa, the continuous
# Bernoulli, whose normaliser log C(p) is the most precision-hungry density here.
@pytest.mark.parametrize(
    "policy, name",
    [
        ("mixed_float16", "mlp_learned_sigma"),
        ("mixed_float16", "conv_per_pixel_sigma"),
        ("mixed_bfloat16", "mlp_continuous_bernoulli"),
    ],
    indirect=["policy"],
)
def test_trains_without_nan_and_distributions_are_float32(policy, name, mnist_sized):
    x = mnist_sized
    model = MODELS[name]()
    # Without XLA: it triples this test's time on a CPU and is not what is under test.
    model.compile(optimizer="adam", jit_compile=False)
    low = "float16" if policy == "mixed_float16" else "bfloat16"
    # The networks really run in low precision; the distribution layers do not.
    assert model.decoder.compute_dtype == low
    assert model.encoder.posterior.compute_dtype == "float32"
    assert model.likelihood.compute_dtype == "float32"
    if policy == "mixed_float16":
        assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)

    history = model.fit(x, epochs=2, batch_size=200, verbose=0).history
    for key in ("loss", "kl", "reconstruction_nll"):
        assert np.all(np.isfinite(history[key])), (key, history[key])
    assert history["loss"][1] < history["loss"][0]
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())

    q = model.encode(x[:16])
    h = model.encoder.network(x[:16])
    assert h.dtype == low  # the encoder's features are low precision...
    for t in (q.mean(), q.stddev(), leaves(q).loc, leaves(q).scale):
        assert t.dtype == tf.float32  # ...its distribution parameters are not
    px = model.decode(q.mean())
    params = [v for v in leaves(px).parameters.values() if tf.is_tensor(v)]
    assert params and all(p.dtype == tf.float32 for p in params)
    log_prob = px.log_prob(x[:16])
    assert log_prob.dtype == tf.float32 and np.all(np.isfinite(log_prob.numpy()))
    elbo = model.elbo(x[:16])
    assert elbo.dtype == np.float32 and np.all(np.isfinite(elbo))
