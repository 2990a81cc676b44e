"""vae_tf.compare on tiny data, every default configuration: the files, the ranking by bits/dim, the NLL = BCE
rows, the learning curves."""

import csv
import json
import math

import numpy as np
import pytest

import vae_tf
from vae_tf.compare import DEFAULT_CONFIGS, report, resolve_configs, rows, run_compare, tables
from vae_tf.errors import UnknownConfigError

CONFIGS = list(DEFAULT_CONFIGS)
D = 64  # the digits' 8x8 pixels


@pytest.fixture(scope="module")
def run_with_references(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare")
    # No XLA: compiling costs more than these few tiny epochs.
    rows = run_compare(dataset="digits", configs=None, epochs=5, latent_dim=4, k=10, batch_size=100,
                       seed=0, out=str(out), verbose=0, iwae_examples=297, hidden=(64,), jit_compile=False)
    return rows, out


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
    grey = rows.ranked(results + [rows.reference_row("gzip -9", 3.1, "a classic codec")])
    assert {r["table"] for r in grey} == {"grey"} and not any(r["binarized"] for r in grey if r["kind"] == "model")
    bits = [r["bits_per_dim"] for r in grey if r["rank"] is not None]
    assert bits == sorted(bits) and [r["rank"] for r in grey if r["rank"]] == list(range(1, len(bits) + 1))
    assert grey[-1]["name"] == "bernoulli_bce_grey" and grey[-1]["rank"] is None
    assert "gzip -9" in tables.markdown_table(grey)
    assert {r["name"] for r in rows.ranked(results, rows.BINARIZED)} == {"bin_bernoulli_nll", "bin_bernoulli_bce"}
    words = report.ranking_in_words(results, D)
    best_model = next(r for r in grey if r["kind"] == "model")
    assert f"`{best_model['name']}` models the test images best" in words


def test_columns_are_finite_and_bounds_are_ordered(run):
    rows, _ = run
    for r in rows:
        for key in ("test_elbo", "test_iwae", "recon_mse", "kl", "train_seconds", "examples_per_second"):
            assert math.isfinite(r[key]), (r["name"], key)
        assert 0 <= r["active_units"] <= 4
        assert r["network"].startswith("mlp, ") and r["network"].endswith(" parameters")  # 8x8 digits: "auto" is the MLP
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


def test_compare_is_exported_with_the_documented_signature():
    import inspect

    params = inspect.signature(vae_tf.compare).parameters
    assert list(params) == ["dataset", "data", "configs", "epochs", "latent_dim", "k", "batch_size", "seed", "out", "verbose"]
    assert params["dataset"].default == "digits" and params["k"].default == 100 and params["epochs"].default == 10
