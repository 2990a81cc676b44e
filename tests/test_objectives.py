"""The objectives: free bits, the IWAE bound (k=1 is ELBO training), their errors, save/load/export."""

import math

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
import keras

import losses
import vae_tf
from vae_tf.objectives import free_bits_kl, kl_per_unit

tfd = tfp.distributions
EVENT = (8, 8, 1)


def make_vae(likelihood=None, latent=4, seed=1, **kwargs):
    return vae_tf.VAE(
        encoder=vae_tf.networks.mlp_encoder(latent_dim=latent, hidden=(32,)),
        decoder=vae_tf.networks.mlp_decoder(hidden=(32,)),
        likelihood=likelihood or vae_tf.layers.IndependentBernoulli(EVENT),
        seed=seed,
        **kwargs,
    )


@pytest.fixture(scope="module")
def binary_digits(digits):
    return (digits[:400] > 0.5).astype("float32")


class FixedNoiseVAE(vae_tf.VAE):
    """Latent noise from a fixed array, so a test can recompute the objective independently."""

    eps = None  # (k, batch, latent)

    def sample_latent(self, q, x):
        return q.mean() + q.stddev() * self.eps[0, :tf.shape(x)[0]]

    def sample_latents(self, q, x, num_samples):
        return q.mean() + q.stddev() * self.eps[:num_samples, :tf.shape(x)[0]]


def fixed_noise_model(k, x, **kwargs):
    model = FixedNoiseVAE(vae_tf.networks.mlp_encoder(4, (32,)), vae_tf.networks.mlp_decoder((32,)),
                          vae_tf.layers.IndependentBernoulli(EVENT), seed=0, **kwargs)
    model.build((None,) + EVENT)
    model.eps = tf.constant(np.random.default_rng(3).normal(size=(k, len(x), 4)).astype("float32"))
    return model


def test_free_bits_formula_and_gradient():
    kl = tf.constant([[0.1, 2.0, 0.5], [0.3, 4.0, 0.5]])
    w = tf.constant([1.0, 3.0])
    with tf.GradientTape() as tape:
        tape.watch(kl)
        value = free_bits_kl(kl, 1.0, w)
    # per-unit batch means (weights 1, 3; B = 2): 0.5, 7.0, 1.0 -> max(1, .) summed = 1 + 7 + 1
    assert float(value) == pytest.approx(9.0)
    grad = tape.gradient(value, kl).numpy()
    np.testing.assert_allclose(grad[:, 0], 0.0)  # below the floor: no gradient
    np.testing.assert_allclose(grad[:, 1], [0.5, 1.5])


def test_kl_per_unit_sums_to_the_kl():
    q = tfd.Independent(tfd.Normal([[0.5, -1.0], [0.0, 2.0]], [[0.3, 1.2], [1.0, 0.5]]), 1)
    prior = vae_tf.standard_normal_prior(2)
    per_unit = kl_per_unit(q, prior, q.sample(seed=(1, 2)))
    np.testing.assert_allclose(tf.reduce_sum(per_unit, -1).numpy(), tfd.kl_divergence(q, prior).numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="factorises over latent units"):
        kl_per_unit(tfd.MultivariateNormalDiag(tf.zeros((2, 2))), prior, tf.zeros((2, 2)))


def test_free_bits_loss_and_true_kl(binary_digits):
    x = binary_digits[:100]
    lam = 2.0
    plain, floored = fixed_noise_model(1, x), fixed_noise_model(1, x, free_bits=lam)
    floored.set_weights(plain.get_weights())
    for m in (plain, floored):
        m.compile(jit_compile=False)
    a = plain.evaluate(x, batch_size=100, verbose=0, return_dict=True)
    b = floored.evaluate(x, batch_size=100, verbose=0, return_dict=True)
    assert b["kl"] == pytest.approx(a["kl"], rel=1e-6)  # the reported KL is the true KL
    assert b["reconstruction_nll"] == pytest.approx(a["reconstruction_nll"], rel=1e-6)
    q = floored.encode(x)
    per_unit = tfd.kl_divergence(q.distribution, floored.prior().distribution).numpy().mean(axis=0)
    assert per_unit.min() < lam  # the floor binds for some unit, so the test can tell
    assert b["loss"] == pytest.approx(b["reconstruction_nll"] + np.maximum(per_unit, lam).sum(), rel=1e-5)
    h = floored.fit(x, epochs=2, batch_size=50, verbose=0).history
    assert np.all(np.isfinite(h["loss"])) and np.all(np.array(h["loss"]) >= np.array(h["reconstruction_nll"]))


def test_iwae_k1_is_exactly_elbo_training(binary_digits):
    runs = []
    for kwargs in (dict(), dict(objective="iwae", num_samples=1)):
        keras.utils.set_random_seed(5)
        model = make_vae(seed=5, **kwargs)
        model.compile(optimizer="adam")  # default path: XLA, 8 steps per execution
        history = model.fit(binary_digits, epochs=2, batch_size=50, shuffle=False, verbose=0).history
        runs.append((history, model.get_weights()))
    (h_elbo, w_elbo), (h_iwae, w_iwae) = runs
    assert h_elbo == h_iwae
    for a, b in zip(w_elbo, w_iwae):
        np.testing.assert_array_equal(a, b)


def test_iwae_loss_is_the_negative_bound(binary_digits):
    x = binary_digits[:60]
    k = 5
    model = fixed_noise_model(k, x, objective="iwae", num_samples=k, beta=1.0)
    model.compile(jit_compile=False)
    got = model.evaluate(x, batch_size=len(x), verbose=0, return_dict=True)
    # Independently: log w = log p(x|z) + log p(z) - log q(z|x), with TFP's own log-densities.
    q = model.encode(x)
    z = q.mean() + q.stddev() * model.eps  # (k, B, L)
    log_px = tf.stack([model.decode(z[i]).log_prob(x) for i in range(k)])
    log_w = log_px + model.prior().log_prob(z) - q.log_prob(z)
    bound = tf.reduce_logsumexp(log_w, axis=0) - math.log(k)
    assert got["loss"] == pytest.approx(-float(tf.reduce_mean(bound)), rel=1e-5)
    assert got["kl"] == pytest.approx(float(tf.reduce_mean(tfd.kl_divergence(q, model.prior()))), rel=1e-5)
    assert got["reconstruction_nll"] == pytest.approx(-float(tf.reduce_mean(log_px)), rel=1e-5)
    # The bound is at least the average single-sample ELBO of the same draws (Jensen).
    assert float(tf.reduce_mean(bound)) >= float(tf.reduce_mean(log_w))


def test_the_one_sample_bound_itself_is_the_elbo(binary_digits):
    """IWAEBound(1), called directly (get_objective runs k = 1 as ELBO), is the one-sample ELBO on the same draw:
    ``-(log p(x|z) + log p(z) - log q(z|x))``, the ELBO with the KL estimated from that z; its reported terms
    are the ELBO's."""
    x = tf.constant(binary_digits[:40])
    model = fixed_noise_model(1, binary_digits[:40])
    bound = vae_tf.objectives.IWAEBound(1)(model, x, x)
    elbo = vae_tf.objectives.ELBO()(model, x, x)
    np.testing.assert_allclose(bound.reconstruction_nll.numpy(), elbo.reconstruction_nll.numpy(), rtol=1e-5)
    np.testing.assert_allclose(bound.kl.numpy(), elbo.kl.numpy(), rtol=1e-6)
    q = model.encode(x)
    z = model.sample_latent(q, x)
    terms = vae_tf.objectives.elbo_terms(model, x, q, z)
    one_sample = terms.log_px + model.prior().log_prob(z) - q.log_prob(z)
    assert float(bound.loss) == pytest.approx(-float(tf.reduce_mean(one_sample)), rel=1e-5)
    # The ELBO objective is the same with the analytic KL: E_z[log q(z|x) - log p(z)] = KL.
    assert float(elbo.loss) == pytest.approx(-float(tf.reduce_mean(terms.elbo)), rel=1e-5)


def test_the_five_sample_bound_itself_matches_tfp(binary_digits):
    """IWAEBound(5), called directly, is ``logsumexp_i [log p(x|z_i) + log p(z_i) - log q(z_i|x)] - log 5`` on
    fixed draws z_i, each density taken from the TFP distributions the model returns."""
    k = 5
    x = tf.constant(binary_digits[:40])
    model = fixed_noise_model(k, binary_digits[:40])
    bound = vae_tf.objectives.IWAEBound(k)(model, x, x)
    q = model.encode(x)
    z = q.mean() + q.stddev() * model.eps  # (k, B, L): the draws the bound sees
    log_w = tf.stack([model.decode(z[i]).log_prob(x) + model.prior().log_prob(z[i]) - q.log_prob(z[i])
                      for i in range(k)])
    per_example = tf.reduce_logsumexp(log_w, axis=0) - math.log(k)
    assert float(bound.loss) == pytest.approx(-float(tf.reduce_mean(per_example)), rel=1e-5)
    # Not the one-sample ELBO in disguise: the k draws differ, so the bound differs from each single-draw value.
    assert not np.allclose(per_example.numpy(), log_w[0].numpy(), rtol=1e-3)


def test_the_bound_rises_with_k_towards_log_p(binary_digits):
    """E[L_k] is non-decreasing in k and below log p(x) (Burda et al., 2015, theorem 1), on a fixed model."""
    x = tf.constant(binary_digits[:20])
    model = make_vae(seed=2)
    model.compile(optimizer="adam", jit_compile=False)
    model.fit(binary_digits, epochs=3, batch_size=50, verbose=0)
    means = {}
    for k in (1, 4, 32):
        objective = vae_tf.objectives.IWAEBound(k)
        means[k] = np.mean([-float(objective(model, x, x).loss) for _ in range(30)])
    log_p = float(np.mean(vae_tf.evaluation.iwae_log_likelihood(model, binary_digits[:20], k=2000, seed=1)))
    assert means[1] < means[4] < means[32] <= log_p + 0.05, (means, log_p)


@pytest.mark.parametrize("likelihood, binarize", [
    (lambda: vae_tf.layers.IndependentNormal(EVENT, scale="learned"), False),
    (lambda: vae_tf.layers.IndependentNormal(EVENT, scale="per_pixel"), False),
    (lambda: vae_tf.layers.IndependentContinuousBernoulli(EVENT), False),
    (lambda: vae_tf.layers.IndependentBernoulli(EVENT), True),
])
def test_iwae_trains_with_every_likelihood_through_nll(digits, likelihood, binarize):
    x = (digits[:400] > 0.5).astype("float32") if binarize else digits[:400]
    model = make_vae(likelihood(), objective="iwae", num_samples=4)
    model.compile(optimizer="adam", loss=losses.NegativeLogLikelihood(), jit_compile=False)
    h = model.fit(x, epochs=3, batch_size=50, verbose=0).history
    assert np.all(np.isfinite(h["loss"])) and h["loss"][-1] < h["loss"][0]


def test_iwae_accepts_log_densities_up_to_a_constant_and_rejects_the_rest():
    bernoulli = make_vae(objective="iwae", num_samples=3)
    bernoulli.compile(loss=losses.BinaryCrossentropy())
    fixed = make_vae(vae_tf.layers.IndependentNormal(EVENT, scale=0.1), objective="iwae", num_samples=3)
    fixed.compile(loss=losses.ScaledMSE(sigma=0.1))
    with pytest.raises(ValueError, match="Keras' 'mse'.*NegativeLogLikelihood"):
        fixed.compile(loss="mse")
    with pytest.raises(ValueError, match="ScaledMSE\\(sigma=0.2\\)"):
        fixed.compile(loss=losses.ScaledMSE(sigma=0.2))
    gaussian = make_vae(vae_tf.layers.IndependentNormal(EVENT, scale="learned"), objective="iwae", num_samples=3)
    with pytest.raises(ValueError, match="BinaryCrossentropy.*IndependentNormal"):
        gaussian.compile(loss=losses.BinaryCrossentropy())


@pytest.mark.parametrize("bad, match", [
    (dict(objective="vi"), "objective"),
    (dict(num_samples=5), "needs objective='iwae'"),
    (dict(objective="iwae", num_samples=0), "num_samples"),
    (dict(free_bits=-1.0), "free_bits"),
    (dict(objective="iwae", num_samples=5, free_bits=0.5), "free_bits"),
])
def test_bad_objective_arguments(bad, match):
    with pytest.raises(ValueError, match=match):
        make_vae(**bad)


def test_iwae_model_saves_loads_and_exports(binary_digits, tmp_path):
    x = binary_digits[:200]
    model = make_vae(objective="iwae", num_samples=5)
    model.compile(optimizer="adam", jit_compile=False)
    model.fit(x, epochs=1, batch_size=50, verbose=0)
    path = str(tmp_path / "iwae.keras")
    model.save(path)
    again = keras.models.load_model(path)
    assert (again.objective, again.num_samples) == ("iwae", 5)
    np.testing.assert_allclose(again.reconstruct(x[:4]).numpy(), model.reconstruct(x[:4]).numpy(), atol=1e-6)
    again.fit(x, epochs=1, batch_size=50, verbose=0)  # trains on with the restored objective
    served = tf.saved_model.load(vae_tf.export_saved_model(again, str(tmp_path / "serve" / "1")))
    out = served.signatures["elbo"](x=tf.constant(x[:3]))
    assert out["elbo"].shape == (3,) and np.all(np.isfinite(out["elbo"].numpy()))


# -- a loss that trains only the decoder's mean: said at compile, scored at the loss's sigma -----------------------

@pytest.mark.parametrize("layer, loss, sigma, says", [
    (lambda: vae_tf.layers.IndependentNormal(EVENT, scale="learned", num_levels=17), lambda: losses.ScaledMSE(0.1),
     0.1, "ScaledMSE(sigma=0.1) trains only the mean of IndependentNormal(scale='learned')"),
    (lambda: vae_tf.layers.IndependentNormal(EVENT, scale="per_pixel", num_levels=17), lambda: "mse",
     math.sqrt(64 / 2), "Keras' 'mse' trains only the mean of IndependentNormal(scale='per_pixel'): it is the Gaussian "
                        "negative log-likelihood at sigma = sqrt(D/2) = 5.657 for the D = 64 values"),
    (lambda: vae_tf.layers.IndependentDiscretizedNormal(EVENT, scale="learned", num_levels=17),
     lambda: losses.ScaledMSE(0.1), 0.1, "IndependentDiscretizedNormal(scale='learned')"),
], ids=["ScaledMSE-learned", "keras-mse-per-pixel", "ScaledMSE-discretized-learned"])
def test_a_loss_that_ignores_the_layers_sigma_is_said_at_compile_and_scored_at_its_own_sigma(digits, layer, loss,
                                                                                               sigma, says):
    model = make_vae(layer())
    with pytest.warns(UserWarning) as caught:
        model.compile(loss=loss(), jit_compile=False)
    ours = [str(w.message) for w in caught if "trains only the mean" in str(w.message)]
    assert len(ours) == 1 and "\n" not in ours[0], ours
    assert says in ours[0]
    assert "gets no gradient and is not trained" in ours[0]
    assert f"scored (reconstruction_nll, ELBO, bits/dim) at sigma = {sigma:.4g}" in ours[0]
    assert "losses.NegativeLogLikelihood()" in ours[0] and f"scale={sigma:.4g}" in ours[0]
    assert model.scored_sigma == pytest.approx(sigma)

    x = digits[:50]
    model.fit(x, x, epochs=1, batch_size=50, verbose=0)
    # -log p(x|z), as fit reports it and every score takes it, is the Gaussian at the decoder's means with the
    # loss's sigma, not the layer's untrained one (a tenth of the loss's sigma in these rows, or about 1).
    q = model.encode(x)
    z = q.mean()
    terms = vae_tf.objectives.elbo_terms(model, x, q, z)
    mean = model.decode(z).mean()
    expected = model.likelihood.at_fixed_scale(mean, sigma).log_prob(x)
    np.testing.assert_allclose(terms.log_px.numpy(), expected.numpy(), rtol=1e-5)
    untrained = model.decode(z).log_prob(x)
    assert np.all(np.abs(untrained.numpy() - expected.numpy()) > 1.0)
    if isinstance(model.likelihood, vae_tf.layers.IndependentNormal):
        gaussian = -np.sum((x - mean.numpy()) ** 2, axis=(1, 2, 3)) / (2 * sigma**2) - 64 * math.log(
            sigma * math.sqrt(2 * math.pi))
        np.testing.assert_allclose(terms.log_px.numpy(), gaussian, rtol=1e-4)
    metrics = vae_tf.evaluation.held_out_metrics(model, x, k=4)
    assert metrics["decoder_sigma"] == pytest.approx(sigma)
    twin = vae_tf.evaluation.with_fixed_sigma(model, sigma, x)  # compare's fixed-sigma scoring: the same path
    assert model.bits_per_dim(x, k=4) == pytest.approx(twin.bits_per_dim(x, k=4), rel=1e-5)


def test_a_loss_that_uses_the_sigma_or_a_fixed_sigma_is_scored_as_the_layer_gives_it(recwarn):
    for layer, loss in [(vae_tf.layers.IndependentNormal(EVENT, scale="learned"), losses.NegativeLogLikelihood()),
                        (vae_tf.layers.IndependentDiscretizedNormal(EVENT, scale=0.1, num_levels=17),
                         losses.ScaledMSE(0.1)),
                        (vae_tf.layers.IndependentDiscretizedNormal(EVENT, scale=math.sqrt(32), num_levels=17), "mse")]:
        model = make_vae(layer)
        model.compile(loss=loss, jit_compile=False)
        assert model.scored_sigma is None
    assert not [w for w in recwarn if "trains only the mean" in str(w.message)]


def test_a_mean_only_loss_that_implies_no_sigma_says_the_scores_stay_at_the_untrained_sigma():
    model = make_vae(vae_tf.layers.IndependentNormal(EVENT, scale="learned"))
    with pytest.warns(UserWarning, match="Keras' 'mae' trains only the mean .* implies no Gaussian sigma"):
        model.compile(loss="mae", jit_compile=False)
    assert model.scored_sigma is None


@pytest.mark.parametrize("weighted", [False, True], ids=["batch_mean", "sample_weights"])
def test_a_compiled_elbo_takes_the_nll_term_from_the_log_p_it_already_has(digits, monkeypatch, weighted):
    """In a traced step the NegativeLogLikelihood term reuses log p(x|z): FactoredLevelCategorical's chunked
    log-mass runs once, not twice (XLA does not merge two of its loops), and the loss is the eager one."""
    from vae_tf.distributions import categorical

    calls = []
    log_mass = categorical.factored_level_log_mass
    monkeypatch.setattr(categorical, "factored_level_log_mass", lambda *args: calls.append(1) or log_mass(*args))
    model = FixedNoiseVAE(vae_tf.networks.mlp_encoder(4, (32,)), vae_tf.networks.mlp_decoder((32,)),
                          vae_tf.layers.IndependentCategorical(EVENT, num_levels=5, rank=2), seed=0)
    model.build((None,) + EVENT)
    x = tf.constant(np.round(digits[:40] * 4) / 4, tf.float32)
    model.eps = tf.constant(np.random.default_rng(3).normal(size=(1, 40, 4)).astype("float32"))
    weights = tf.constant(np.random.default_rng(4).uniform(0.5, 2.0, 40).astype("float32")) if weighted else None
    eager = vae_tf.objectives.ELBO()(model, x, x, sample_weight=weights)
    calls.clear()
    traced = tf.function(lambda x: vae_tf.objectives.ELBO()(model, x, x, sample_weight=weights).loss)(x)
    assert len(calls) == 1
    assert float(traced) == pytest.approx(float(eager.loss), rel=1e-6)
