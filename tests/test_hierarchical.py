"""The hierarchical VAE (vae_tf.models.hierarchical): shapes, the ELBO's terms, IWAE, per-layer KL, save and load,
every likelihood on top, the step-by-step top-down pass a coder needs, and one-line errors for bad input.

Tiny images (8x8) and networks (width 8) on generated data: each test runs in seconds.
"""

import math

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
import keras

import losses
import vae_tf
from vae_tf import layers
from vae_tf.errors import InvalidInputError
from vae_tf.models import build_model
from vae_tf.models.hierarchical import HierarchicalVAE, HierarchicalVAEConfig, gaussian_kl, log_normal
from vae_tf.models.vae import DEFAULT_CONFIGS, build_loss

tfd = tfp.distributions
SHAPE = (8, 8, 3)
LEVELS = 16
TINY = dict(width=8, latent_channels=2, layers_per_resolution=(1, 2), patch_size=2)


def levels_data(n=32, shape=SHAPE, levels=LEVELS, seed=0):
    """Images of ``levels`` grey levels ``k / (L - 1)`` with some structure (a smooth ramp plus noise)."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 1, shape[0])[None, :, None, None] * rng.uniform(0.3, 1.0, (n, 1, 1, shape[-1]))
    k = np.clip(np.round((ramp + rng.normal(0, 0.15, (n,) + shape)) * (levels - 1)), 0, levels - 1)
    return (k / (levels - 1)).astype("float32")


def make_model(likelihood=None, seed=0, **config):
    likelihood = likelihood or layers.IndependentDiscretizedLogisticMixture(SHAPE, num_components=2, num_levels=LEVELS,
                                                                            project=False)
    return HierarchicalVAE(HierarchicalVAEConfig(**{**TINY, **config}), likelihood=likelihood, seed=seed)


@pytest.fixture(scope="module")
def trained():
    """A tiny model after a few steps of training (float32 networks: exact comparisons)."""
    model = make_model()
    model.compile(optimizer=keras.optimizers.Adam(3e-3), precision="float32")
    x = levels_data(64)
    history = model.fit(x, epochs=2, batch_size=16, verbose=0)
    return model, x, history


def test_shapes(trained):
    model, x, _ = trained
    assert model.latent_shapes == ((2, 2, 2), (4, 4, 2), (4, 4, 2))
    assert model.latent_dim == 8 + 32 + 32
    assert model.event_shape == SHAPE
    px = model(x[:5])
    assert tuple(px.event_shape) == SHAPE and tuple(px.batch_shape) == (5,)
    assert model.reconstruct(x[:3]).shape == (3,) + SHAPE
    assert model.sample(4, seed=1).shape == (4,) + SHAPE
    draw = model.sample(2, seed=1, mean=False).numpy()
    assert draw.shape == (2,) + SHAPE and np.allclose(draw * (LEVELS - 1), np.round(draw * (LEVELS - 1)), atol=1e-4)
    terms = model.layer_parameters(x[:5], [t.z for t in model.top_down(5, model.bottom_up(x[:5]), seed=[1, 2])[0]])
    for t, shape in zip(terms, model.latent_shapes):
        for tensor in t:
            assert tensor.shape == (5,) + shape
    assert model.predict(x[:4], verbose=0).shape == (4,) + SHAPE


def test_cifar_and_mnist_default_latent_shapes():
    config = HierarchicalVAEConfig()
    assert config.latent_shapes_for((32, 32, 3)) == ((8, 8, 8), (8, 8, 8), (16, 16, 8), (16, 16, 8))
    assert config.latent_shapes_for((28, 28, 1)) == ((7, 7, 8), (7, 7, 8), (14, 14, 8), (14, 14, 8))
    single = HierarchicalVAEConfig(layers_per_resolution=(1, 0), latent_channels=16)
    assert single.latent_shapes_for((32, 32, 3)) == ((8, 8, 16),)
    explicit = HierarchicalVAEConfig(latent_shapes=[(4, 4, 3), (16, 16, 2)])
    assert explicit.latent_shapes_for((32, 32, 3)) == ((4, 4, 3), (16, 16, 2))


def test_training_logs_every_layers_kl_and_loss_is_reconstruction_plus_kl(trained):
    model, x, history = trained
    names = [f"kl_{i}" for i in range(model.num_latent_layers)]
    for name in ["loss", "kl", "reconstruction_nll", "beta", *names]:
        assert name in history.history, name
    logs = model.evaluate(x, x, batch_size=64, verbose=0, return_dict=True)
    # beta = 1, NegativeLogLikelihood: loss = -log p(x|z) + sum_i KL_i, and kl = sum_i kl_i (same batch, same draw).
    assert logs["loss"] == pytest.approx(logs["reconstruction_nll"] + logs["kl"], rel=1e-5)
    assert logs["kl"] == pytest.approx(sum(logs[n] for n in names), rel=1e-5)
    assert all(logs[n] >= 0 for n in names)


def test_elbo_is_log_likelihood_minus_summed_kl(trained):
    model, x, _ = trained
    seed = tf.constant([3, 4], tf.int32)
    log_px, kls = model.batch_elbo(x[:8], seed=seed)
    terms, px = model.top_down(8, model.bottom_up(x[:8]), seed=seed)
    np.testing.assert_allclose(log_px, px.log_prob(x[:8]), rtol=1e-5)
    for kl, t in zip(kls, terms):
        per_unit = tfd.kl_divergence(tfd.Normal(t.posterior_loc, t.posterior_scale), tfd.Normal(t.prior_loc, t.prior_scale))
        np.testing.assert_allclose(kl, tf.reduce_sum(per_unit, axis=[1, 2, 3]), rtol=1e-4, atol=1e-4)
    elbo = model.elbo(x)
    assert elbo.shape == (len(x),) and np.all(np.isfinite(elbo))


def test_gaussian_kl_and_log_density_match_tfp():
    rng = np.random.default_rng(1)
    a, b, c, d = (rng.normal(size=50), np.exp(rng.normal(size=50)), rng.normal(size=50), np.exp(rng.normal(size=50)))
    np.testing.assert_allclose(gaussian_kl(a, b, c, d), tfd.kl_divergence(tfd.Normal(a, b), tfd.Normal(c, d)), rtol=1e-10)
    np.testing.assert_allclose(log_normal(c, a, b), tfd.Normal(a, b).log_prob(c), rtol=1e-10)


def test_iwae_bounds_the_elbo_and_one_sample_matches_it(trained):
    model, x, _ = trained
    x = x[:16]
    elbos = np.stack([model.elbo(x) for _ in range(20)])
    iwae1 = np.stack([model.iwae_log_likelihood(x, k=1, seed=s) for s in range(20)])
    iwae50 = model.iwae_log_likelihood(x, k=50, seed=0)
    # IWAE(1) is the ELBO's estimator with a Monte-Carlo KL: the same mean, within a few standard errors.
    spread = np.sqrt(elbos.var(axis=0).mean() / elbos.size + iwae1.var(axis=0).mean() / iwae1.size)
    assert abs(elbos.mean() - iwae1.mean()) < 4 * spread + 1e-3
    assert iwae50.mean() > elbos.mean()
    weights = model.log_importance_weights(x, 3, tf.constant([0, 1], tf.int32))
    assert weights.shape == (3, 16)


def test_analytic_kl_is_the_mean_log_ratio(trained):
    model, x, _ = trained
    features = model.bottom_up(x[:4])
    # Teacher forcing: fix z of the layers above, draw many z of the last layer; E_q[log q - log p] = KL.
    terms, _ = model.top_down(4, features, seed=[5, 6])
    last = terms[-1]
    q = tfd.Normal(last.posterior_loc, last.posterior_scale)
    z = q.sample(4000, seed=[7, 8])
    log_ratio = tf.reduce_sum(log_normal(z, last.posterior_loc, last.posterior_scale)
                              - log_normal(z, last.prior_loc, last.prior_scale), axis=[2, 3, 4])
    np.testing.assert_allclose(tf.reduce_mean(log_ratio, axis=0), last.kl(), rtol=0.05, atol=0.2)


def test_step_by_step_passes_match_the_whole_pass(trained):
    """What a bits-back coder does: priors one layer at a time from z's above, posteriors given x, teacher forcing."""
    model, x, _ = trained
    xb = tf.constant(x[:3])
    features = model.bottom_up(xb)
    terms, px = model.top_down(3, features, seed=[9, 9])
    h = model.initial_state(3)
    for i, t in enumerate(terms):
        h, (p_loc, p_scale) = model.layer_prior(i, h)
        q_loc, q_scale = model.layer_posterior(i, h, features, (p_loc, p_scale))
        for got, want in ((p_loc, t.prior_loc), (p_scale, t.prior_scale), (q_loc, t.posterior_loc),
                          (q_scale, t.posterior_scale)):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        h = model.layer_absorb(i, h, t.z)
    np.testing.assert_allclose(model.output_distribution(h).log_prob(xb), px.log_prob(xb), rtol=1e-5)
    forced = model.layer_parameters(xb, [t.z for t in terms])
    for f, t in zip(forced, terms):
        np.testing.assert_allclose(f.posterior_loc, t.posterior_loc, rtol=1e-5, atol=1e-6)
    # Generation is the same pass without x: the prior's parameters depend only on the z's above.
    gen_terms, _ = model.top_down(3, latents=[t.z for t in terms])
    for g, t in zip(gen_terms, terms):
        np.testing.assert_allclose(g.prior_scale, t.prior_scale, rtol=1e-5)
        assert g.posterior_loc is None


def test_save_and_load_round_trip(trained, tmp_path):
    model, x, _ = trained
    path = str(tmp_path / "hier.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, HierarchicalVAE)
    assert loaded.config == model.config and loaded.latent_shapes == model.latent_shapes
    seed = tf.constant([1, 2], tf.int32)
    np.testing.assert_array_equal(loaded.log_importance_weights(x[:4], 2, seed), model.log_importance_weights(x[:4], 2, seed))
    np.testing.assert_array_equal(loaded.sample(3, seed=5), model.sample(3, seed=5))
    np.testing.assert_array_equal(loaded.reconstruct(x[:2]), model.reconstruct(x[:2]))
    loaded.fit(x[:16], epochs=1, batch_size=16, verbose=0)  # the optimizer state came back and training resumes


@pytest.mark.parametrize("name", list(DEFAULT_CONFIGS))
def test_every_configuration_of_the_registry_trains_and_scores(name):
    """Every named configuration (all six likelihood layers, every loss) on a tiny hierarchy, built as compare and
    train build it."""
    config = DEFAULT_CONFIGS[name]
    model = build_model(config, SHAPE, family="hierarchical", num_levels=2 if config.binarized else LEVELS,
                        architecture=HierarchicalVAEConfig(**{**TINY, "width": 4, "layers_per_resolution": (1,)}))
    x = levels_data(16)
    if config.binarized:
        x = (x > 0.5).astype("float32")
    model.compile(optimizer="adam", loss=build_loss(config, SHAPE), precision="float32")
    history = model.fit(x, epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"][-1]) and "kl_0" in history.history
    if config.has_likelihood:
        assert np.all(np.isfinite(model.iwae_log_likelihood(x[:4], k=3)))
    assert model.sample(2, seed=0).shape == (2,) + SHAPE


def test_a_keras_loss_gets_the_mean_and_fit_reports_the_true_nll():
    model = make_model(layers.IndependentNormal(SHAPE, scale=0.5, project=False), width=4, layers_per_resolution=(1,))
    model.compile(optimizer="adam", loss="mse", precision="float32")
    x = np.tile(levels_data(16), (8, 1, 1, 1))  # 8 draws of z per image, so one evaluation is near its mean
    logs = model.evaluate(x, x, batch_size=128, verbose=0, return_dict=True)
    # "mse" averages over pixels: loss = mean (x - mu)^2 + KL, far below -log p(x|z) with sigma 0.5.
    assert logs["loss"] < logs["reconstruction_nll"] + logs["kl"]
    mse = np.mean([float(tf.reduce_mean(tf.square(x - model(x).mean()))) for _ in range(4)])
    assert logs["loss"] == pytest.approx(mse + logs["kl"], rel=0.2)


def test_single_layer_spatial_configuration():
    model = make_model(layers_per_resolution=(1, 0), latent_channels=3)
    assert model.latent_shapes == ((2, 2, 3),)
    model.compile(optimizer="adam")
    history = model.fit(levels_data(16), epochs=1, batch_size=8, verbose=0)
    assert "kl_0" in history.history and "kl_1" not in history.history


def test_free_bits_floor_each_layer():
    model = make_model(free_bits=1.0)
    model.compile(optimizer="adam", precision="float32")
    x = levels_data(16)
    logs = model.evaluate(x, x, batch_size=16, verbose=0, return_dict=True)
    units = sum(np.prod(s) for s in model.latent_shapes)
    # At initialisation every KL is ~0, under its floor of 1 nat per unit: the KL term is the floors' sum.
    assert logs["kl"] < 1.0
    assert logs["loss"] == pytest.approx(logs["reconstruction_nll"] + units, rel=1e-4)


def test_outlier_updates_are_skipped():
    model = make_model(skip_gradient_norm=1e-9)
    model.compile(optimizer="adam", precision="float32")
    x = levels_data(16)
    model.ensure_built(x)
    before = [v.numpy().copy() for v in model.trainable_variables]
    history = model.fit(x, epochs=1, batch_size=8, verbose=0)
    for b, v in zip(before, model.trainable_variables):
        np.testing.assert_array_equal(b, v.numpy())
    assert history.history["skipped"][-1] == 1.0 and history.history["grad_norm"][-1] > 0
    model = make_model(skip_gradient_norm=1e12)
    model.compile(optimizer="adam", precision="float32")
    model.ensure_built(x)
    before = [v.numpy().copy() for v in model.trainable_variables]
    history = model.fit(x, epochs=1, batch_size=8, verbose=0)
    assert history.history["skipped"][-1] == 0.0
    assert any(not np.array_equal(b, v.numpy()) for b, v in zip(before, model.trainable_variables))


def test_updates_far_above_the_running_gradient_norm_are_skipped():
    from vae_tf.models.hierarchical.updates import RUNNING_NORM_WARMUP

    # A tiny factor skips every update once the running mean holds: exactly the warm-up's updates are applied.
    model = make_model(skip_gradient_factor=1e-6)
    model.compile(optimizer="adam", precision="float32")
    x = levels_data(64)
    # 16 steps an epoch: the 50 warm-up updates end in the fourth epoch, and the fifth skips every one of its steps.
    history = model.fit(x, epochs=5, batch_size=4, verbose=0)
    assert model.applied_updates.numpy() == RUNNING_NORM_WARMUP  # applied updates; every step moves the mean
    assert history.history["skipped"][-1] == 1.0 and model.running_grad_norm.numpy() > 0


def test_soft_clamp_bounds_the_heads_outputs():
    model = make_model(soft_clamp=2.0)
    x = levels_data(4)
    model.ensure_built(x)
    head = model.latent_layers[0].prior_head
    head.parameters_conv.bias.assign(np.full(head.parameters_conv.bias.shape, 100.0, "float32"))
    loc, raw = head(tf.zeros((1, 2, 2, 8)))
    assert float(tf.reduce_max(loc)) <= 2.0 and float(tf.reduce_max(raw)) <= 2.0
    terms, _ = model.top_down(2, model.bottom_up(x[:2]), seed=[0, 0])
    assert np.all(np.isfinite(terms[0].kl()))


def test_kl_stays_finite_for_far_apart_scales():
    kl = gaussian_kl(tf.constant([0.0]), tf.constant([1e-3]), tf.constant([0.0]), tf.constant([1e30]))
    assert np.isfinite(kl.numpy()).all() and kl.numpy()[0] > 70


def test_bfloat16_keeps_distribution_parameters_in_float32():
    model = make_model()
    model.compile(optimizer="adam", precision="mixed_bfloat16")
    assert model.precision == "mixed_bfloat16"
    x = levels_data(8)
    model.ensure_built(x)
    assert model.output_conv.compute_dtype == "float32"
    assert model.latent_layers[0].prior_head.parameters_conv.compute_dtype == "float32"
    assert model.latent_layers[0].prior_head.features.compute_dtype == "bfloat16"
    terms, px = model.top_down(2, model.bottom_up(x[:2]), seed=[0, 0])
    assert terms[0].posterior_scale.dtype == tf.float32 and px.log_prob(x[:2]).dtype == tf.float32
    model.fit(x, epochs=1, batch_size=8, verbose=0)


def test_bits_per_dim_of_levels(trained):
    model, x, _ = trained
    bpd = model.bits_per_dim(x[:8], k=4)
    assert 0 < bpd < 2 * math.log2(LEVELS)


@pytest.mark.parametrize("config, shape, message", [
    (dict(latent_shapes=[(3, 3, 2)]), (8, 8, 3), "does not fit 8x8 images"),
    (dict(latent_shapes=[(4, 4, 2)], patch_size=4), (8, 8, 3), "does not fit 8x8 images"),
    (dict(latent_shapes=[(4, 4, 2), (2, 2, 2)]), (8, 8, 3), "must not fall"),
    (dict(layers_per_resolution=(1, 1, 1, 1)), (8, 8, 3), "allows at most 2"),
    (dict(layers_per_resolution=(1, 1, 1)), (28, 28, 1), "allows at most 1"),
    (dict(patch_size=3), (8, 8, 3), "patch_size=3 does not divide"),
    (dict(), (64,), "needs images of shape"),
])
def test_bad_shapes_give_one_line_errors(config, shape, message):
    likelihood = layers.IndependentBernoulli(shape, project=False)
    with pytest.raises(InvalidInputError, match=message) as info:
        HierarchicalVAE(HierarchicalVAEConfig(**{**TINY, **config}), likelihood=likelihood)
    assert "\n" not in str(info.value)


def test_bad_arguments_give_one_line_errors():
    with pytest.raises(InvalidInputError, match="project=False"):
        HierarchicalVAE(HierarchicalVAEConfig(**TINY), likelihood=layers.IndependentBernoulli(SHAPE))
    with pytest.raises(InvalidInputError, match="posterior must be one of"):
        HierarchicalVAEConfig(posterior="sideways")
    with pytest.raises(InvalidInputError, match="holds no latent layer"):
        HierarchicalVAEConfig(layers_per_resolution=(0, 0))
    with pytest.raises(InvalidInputError, match="free_bits"):
        HierarchicalVAEConfig(free_bits=-1)
    with pytest.raises(InvalidInputError, match="soft_clamp"):
        HierarchicalVAEConfig(soft_clamp=-1)
    model = make_model()
    with pytest.raises(InvalidInputError, match="event_shape"):
        model.fit(np.zeros((4, 16, 16, 3), "float32"), epochs=1, verbose=0)


def test_vae_gives_the_same_evaluation_methods():
    """Every family gives ``log_importance_weights(x, k, seed)`` ``(k, batch)`` and ``elbo_estimate(x)``."""
    model = vae_tf.VAE(vae_tf.networks.mlp_encoder(2, hidden=(8,)), vae_tf.networks.mlp_decoder(hidden=(8,)),
                       layers.IndependentBernoulli((4, 4, 1)), seed=0)
    x = (np.random.default_rng(0).random((5, 4, 4, 1)) > 0.5).astype("float32")
    model.ensure_built(x)
    assert model.log_importance_weights(x, 3, tf.constant([0, 0], tf.int32)).shape == (3, 5)
    assert model.per_example_elbo(x).shape == (5,)
    assert model.iwae_log_likelihood(x, k=4).shape == (5,)
