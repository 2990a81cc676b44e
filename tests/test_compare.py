"""vae_tf.compare on tiny data, every default configuration: the files, the ranking by bits/dim, the NLL = BCE
rows, the learning curves."""

import csv
import json
import math

import numpy as np
import pytest

import vae_tf
import vae_tf_cli
from vae_tf.comparison import findings, report, runner
from vae_tf.models.vae import DEFAULT_CONFIGS, resolve_configs
from vae_tf.errors import UnknownConfigError

CONFIGS = list(DEFAULT_CONFIGS)
D = 64  # the digits' 8x8 pixels


@pytest.fixture(scope="module")
def run_with_references(tmp_path_factory):
    """`make demo`'s command on the digits (what a new user without MNIST runs), on a smaller budget."""
    out = tmp_path_factory.mktemp("compare")
    assert vae_tf_cli.main(["compare", "--preset", "demo", "--dataset", "digits", "--epochs", "5", "--latent-dim", "4",
                            "--hidden", "64", "--k", "10", "--quiet", "--out", str(out)]) == 0
    return json.loads((out / "results.json").read_text()), out


@pytest.fixture(scope="module")
def run(run_with_references):
    """The trained models' rows only."""
    rows, out = run_with_references
    return [r for r in rows if r["kind"] == "model"], out


def test_classic_codecs_are_ranked_with_the_models(run_with_references):
    rows, out = run_with_references
    references = [r for r in rows if r["kind"] == "reference"]
    names = {(r["table"], r["name"]) for r in references}
    for table in ("grey", "binarized"):
        assert {(table, n) for n in ("gzip -9", "bz2 -9", "LZMA -9e", "PNG", "WebP lossless")} <= names
    assert ("grey", "per-pixel marginals") in names
    assert all(r["bits_per_dim"] > 0 for r in references)
    text = (out / "report.md").read_text()
    assert "LZMA -9e" in text and "**Against the references**" in text


def test_files_exist_and_parse(run):
    rows, out = run
    for name in ("report.md", "results.json", "results.csv", "learning_curves.png"):
        assert (out / name).stat().st_size > 0, name
    results = [r for r in json.loads((out / "results.json").read_text()) if r["kind"] == "model"]
    assert results == json.loads(json.dumps(rows))
    with open(out / "results.csv") as f:
        table = list(csv.DictReader(f))
    assert [r["name"] for r in table if r["kind"] == "model"] == CONFIGS
    for r in rows:
        for png in (r["reconstructions_png"], r["samples_png"]):
            assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = (out / "report.md").read_text()
    assert all(name in text for name in CONFIGS)
    assert "ranked by test bits/dim" in text and "**Ranking.**" in text and "has no bits/dim" in text


def test_bits_per_dim_is_never_negative_and_only_bce_on_grey_is_na(run):
    rows, _ = run
    for r in rows:
        if r["name"] == "bernoulli_bce_grey":
            assert r["bits_per_dim"] is None and "no probability" in r["no_bits_reason"]
            continue
        # Never negative; finite and of the order of log2 L, the uniform code's (17 levels, or 2 if binarized).
        assert 0 < r["bits_per_dim"] < 2 * math.log2(2 if r["binarized"] else 17), r["name"]
        method = "dequantized bound" if r["likelihood"] in ("gaussian", "continuous_bernoulli") else "exact"
        assert r["bits_per_dim_method"] == method, r["name"]
        offset = D * math.log(17) if method == "dequantized bound" else 0.0
        assert r["bits_per_dim"] == pytest.approx((-r["test_iwae"] + offset) / (D * math.log(2)), rel=1e-6)
        assert r["log_prob"] == pytest.approx(-r["bits_per_dim"] * D * math.log(2), rel=1e-6)
        assert all(v > 0 for v in r["history"]["val_bits_per_dim"]), r["name"]


def test_ranking_table_orders_by_bits_per_dim_and_takes_reference_rows(run):
    results, _ = run
    grey = report.ranked(results + [report.reference_row("gzip -9", 3.1, "a classic codec")])
    assert {r["table"] for r in grey} == {"grey"} and not any(r["binarized"] for r in grey if r["kind"] == "model")
    bits = [r["bits_per_dim"] for r in grey if r["rank"] is not None]
    assert bits == sorted(bits) and [r["rank"] for r in grey if r["rank"]] == list(range(1, len(bits) + 1))
    assert grey[-1]["name"] == "bernoulli_bce_grey" and grey[-1]["rank"] is None
    assert "gzip -9" in report.markdown_table(grey)
    assert {r["name"] for r in report.ranked(results, report.BINARIZED)} == {"bin_bernoulli_nll", "bin_bernoulli_bce"}
    words = report.ranking_in_words(results, D)
    best_model = next(r for r in grey if r["kind"] == "model")
    runner_up = next(r for r in grey if r["kind"] == "model" and r is not best_model)
    if findings.is_tie(best_model, runner_up):
        assert f"`{best_model['name']}`" in words and "tie for the best" in words
    else:
        assert f"`{best_model['name']}` models the test images best" in words


def test_columns_are_finite_and_bounds_are_ordered(run):
    rows, _ = run
    for r in rows:
        for key in ("test_elbo", "test_iwae", "recon_mse", "kl", "train_seconds", "examples_per_second"):
            assert math.isfinite(r[key]), (r["name"], key)
        assert 0 <= r["active_units"] <= 4
        # IWAE with k samples is a tighter bound than the one-sample ELBO (up to Monte-Carlo noise).
        assert r["test_iwae"] > r["test_elbo"] - 1.0
    by = {r["name"]: r for r in rows}
    mse = by["keras_mse"]
    assert mse["implied_sigma"] == pytest.approx(math.sqrt(64 / 2)) and mse["implied_beta"] == pytest.approx(32)
    assert mse["optimal_sigma"] == pytest.approx(math.sqrt(mse["recon_mse"]))
    # At its best sigma the "mse" model's discretized Gaussian codes the data better than at sigma = sqrt(D/2).
    assert mse["bits_per_dim_at_optimal_sigma"] < mse["bits_per_dim"]


def test_bernoulli_nll_and_bce_rows_agree(run):
    rows, _ = run
    by = {r["name"]: r for r in rows}
    a, b = by["bin_bernoulli_nll"], by["bin_bernoulli_bce"]
    for key in ("test_elbo", "test_iwae", "kl", "recon_mse"):
        assert a[key] == pytest.approx(b[key], rel=1e-2, abs=1e-2), key
    np.testing.assert_allclose(a["history"]["val_reconstruction_nll"], b["history"]["val_reconstruction_nll"], rtol=1e-2)


def test_validation_curves_go_down(run):
    rows, _ = run
    for r in rows:
        curve = r["history"]["val_bits_per_dim"] or r["history"]["val_reconstruction_nll"]
        assert len(curve) == 5
        assert curve[-1] < curve[0], r["name"]


def test_unknown_config_lists_valid_names():
    with pytest.raises(UnknownConfigError, match="Valid names: .*bin_bernoulli_nll"):
        resolve_configs("bin_bernoulli_nll,not_a_loss")


def test_a_mistyped_config_name_gets_a_did_you_mean():
    with pytest.raises(UnknownConfigError, match="Did you mean 'categorical'\\?"):
        resolve_configs("categorcal")
    with pytest.raises(UnknownConfigError) as nothing_close:
        resolve_configs("zzz")
    assert "Did you mean" not in str(nothing_close.value)


def test_compare_is_exported_with_the_documented_signature():
    import inspect

    params = inspect.signature(vae_tf.compare).parameters
    assert list(params) == ["dataset", "data", "configs", "epochs", "latent_dim", "k", "batch_size", "seed", "out", "verbose",
                            "minutes", "model"]
    assert params["model"].default == "vae"
    assert params["dataset"].default == "digits" and params["k"].default == 100 and params["epochs"].default is None
    assert runner.DEFAULT_EPOCHS == 10


def _section(text, heading):
    """The text of report.md from ``heading`` to the next heading of its level (or the end)."""
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start:] if end < 0 else text[start:end]


def test_the_report_says_what_its_numbers_mean(run_with_references):
    """Every item of the report-text list (issue 21), read off the demo's report on the digits."""
    rows, out = run_with_references
    text = (out / "report.md").read_text()
    models = [r for r in rows if r["kind"] == "model"]
    # Configurations: each name once, the codecs of both tables included.
    listed = [line for line in _section(text, "Configurations:").splitlines() if line.startswith("- `")]
    names = [line.split("`")[1] for line in listed]
    assert len(names) == len(set(names)) and {"LZMA -9e", "PNG", *CONFIGS} <= set(names)
    # The binarized words: no runner-up called last, no reference this table lacks.
    binarized = _section(text, "## Binarized images").split("Configurations:")[0]
    words = binarized.split("**Ranking.**")[1]
    assert "Last is" not in words and "per-pixel marginals" not in binarized
    assert "0.000 bits/dim behind" not in words and "tie for the best" in words  # NLL and BCE: the same objective
    # ELBO and IWAE on the same images, the count shown; other numbers on the set named beside them.
    for r in models:
        assert r["scored_examples"] == r["iwae_examples"] == 297 and r["test_examples"] == 297
    assert "are taken on the same first 297 test images; the MSE, KL and active units on all 297" in text
    # Standard errors, and ties called ties.
    for r in models:
        if r["bits_per_dim"] is not None:
            assert 0 < r["bits_per_dim_se"] < 0.5, r["name"]
    assert "| ± s.e. |" in text and "standard errors of the difference" in text
    # The MSE column says where it is taken, with the mean-image baseline beside it.
    assert "MSE at z = posterior mean" in text
    integer = [r for r in models if r["table"] == "grey" and not r["dequantized"]]
    mean_mse = integer[0]["mean_image_mse"]
    assert all(r["mean_image_mse"] == pytest.approx(mean_mse) for r in integer) and 0 < mean_mse < 1
    assert f"predicting every integer test image by the mean test image scores {mean_mse:.4f}" in text
    # Grey and colour wording.
    assert "levels per sub-pixel" in text and "17 levels each" in text and "256 grey levels" not in text
    # What you see: the ranking held against the pictures.
    seen = text.split("**What you see.**")[1].split("\n")[0]
    grey = [r for r in rows if r["kind"] == "model" and r["table"] == "grey" and r["bits_per_dim"] is not None]
    best = min(grey, key=lambda r: r["bits_per_dim"])
    closest = min(grey, key=lambda r: r["recon_mse"])
    assert f"`{best['name']}`" in seen
    if closest["name"] != best["name"]:
        assert f"that is `{closest['name']}`" in seen and "Likelihood and looks measure different things" in seen
    # The network and its size.
    assert "MLP (64,) encoder and decoder" in text and "parameters" in text


def test_ties_are_within_two_standard_errors_of_the_difference():
    a = {"bits_per_dim": 1.00, "bits_per_dim_se": 0.03}
    b = {"bits_per_dim": 1.05, "bits_per_dim_se": 0.03}  # difference 0.05 < 2 * sqrt(2) * 0.03 = 0.085
    c = {"bits_per_dim": 1.10, "bits_per_dim_se": 0.03}  # 0.10 > 0.085
    codec = {"bits_per_dim": 1.05, "bits_per_dim_se": None}
    assert findings.is_tie(a, b) and not findings.is_tie(a, c)
    assert findings.is_tie(a, codec) == (0.05 < 2 * 0.03)
    assert not findings.is_tie({"bits_per_dim": 1.0}, {"bits_per_dim": 1.0001})  # no standard error: no tie claimed


def test_learning_curves_legend_covers_no_curve_and_ticks_read_plainly(run):
    from vae_tf.comparison import outputs as plots

    rows, _ = run
    fig = plots.learning_curves_figure(rows)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    (legend,) = fig.legends
    box = legend.get_window_extent(renderer)
    for ax in fig.axes:
        assert not box.overlaps(ax.get_window_extent(renderer)), ax.get_title()
        for label in ax.get_yticklabels():
            assert "10^" not in label.get_text() and "times" not in label.get_text(), label.get_text()
    assert {t.get_text() for t in legend.get_texts()} == {r["name"] for r in rows}  # the KL panel's runs too


def test_a_rerun_in_another_order_keeps_finished_configurations_even_if_stopped_first(tmp_path, monkeypatch, capsys):
    """Finished configurations are kept first: stopping the rerun before it reaches one in its list loses nothing."""
    from vae_tf.comparison import runner

    budget = dict(dataset="digits", epochs=1, latent_dim=2, k=2, iwae_examples=5, hidden=(8,), jit_compile=False,
                  codecs=False, verbose=1, out=str(tmp_path))
    runner.run_compare(configs=["dnormal_learned_sigma"], **budget)
    finished = json.loads((tmp_path / "results.json").read_text())
    capsys.readouterr()

    def stopped(config, *args, **kwargs):
        raise KeyboardInterrupt  # as if the user pressed Ctrl-C while `categorical` trains

    monkeypatch.setattr(runner, "_run_one", stopped)
    with pytest.raises(KeyboardInterrupt):
        runner.run_compare(configs=["categorical", "dnormal_learned_sigma"], **budget)
    assert "[2/2] dnormal_learned_sigma: finished in an earlier run" in capsys.readouterr().out
    kept = json.loads((tmp_path / "results.json").read_text())
    assert [r["name"] for r in kept if r["kind"] == "model"] == ["dnormal_learned_sigma"]
    assert kept == finished


def test_equal_compute_ranks_at_the_time_budget_and_resumes(tmp_path, capsys):
    """`--minutes`: every configuration trains for the same wall clock (here spent by the first compiled call, so each
    stops inside its first epoch of the three allowed, and that part of an epoch is validated); the report says at which budget it ranks, results.json keeps the
    per-epoch times, and a rerun of the same command keeps the finished configurations."""
    from vae_tf.comparison import outputs, runner

    argv = ["compare", "--dataset", "digits", "--configs", "dnormal_learned_sigma,categorical", "--minutes", "0.001",
            "--epochs", "3", "--latent-dim", "2", "--hidden", "8", "--k", "2", "--iwae-examples", "5", "--no-jit",
            "--quiet", "--out", str(tmp_path)]
    assert vae_tf_cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "2 configurations, 0.001 minutes of training (at most 3 epochs) each" in printed
    rows = [r for r in json.loads((tmp_path / "results.json").read_text()) if r["kind"] == "model"]
    assert all(0 < r["epochs"] < 1 for r in rows) and all(r["max_epochs"] == 3 and r["minutes"] == 0.001 for r in rows)
    for r in rows:
        elapsed = r["history"]["elapsed_seconds"]
        assert len(elapsed) == 1 and 0 < elapsed[0] <= r["train_seconds"] + 1e-6
        np.testing.assert_allclose(outputs.training_minutes(r), np.asarray(elapsed) / 60)
    text = (tmp_path / "report.md").read_text()
    assert "Ranked at equal compute: 0.001 minutes of training per configuration" in text
    assert "| train s | epochs |" in text
    fig = outputs.learning_curves_figure(rows)
    assert all(ax.get_xlabel().startswith("training time (minutes") for ax in fig.axes)
    assert len(fig.axes) == 2  # the integer-image panel and the KL panel: no empty binarized panel
    assert vae_tf_cli.main(argv) == 0
    assert capsys.readouterr().out.count("kept, not retrained") == 2
    assert runner.training_budget(10, None) == "10 epochs" and runner.training_budget(1, None) == "1 epoch"


def test_equal_epochs_is_said_too(run):
    _, out = run
    assert "**Ranked at equal epochs**: every configuration trained 5 epochs" in (out / "report.md").read_text()
