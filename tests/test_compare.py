"""vae_tf.compare on tiny data: the files, the columns, the NLL = BCE rows, the learning curves."""

import csv
import json
import math

import numpy as np
import pytest

import vae_tf
from vae_tf.compare import resolve_configs, run_compare
from vae_tf.errors import UnknownConfigError

CONFIGS = ["bin_bernoulli_nll", "bin_bernoulli_bce", "keras_mse"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare")
    # No XLA: compiling costs more than these few tiny epochs.
    rows = run_compare(dataset="digits", configs=CONFIGS, epochs=5, latent_dim=4, k=10, batch_size=100,
                       seed=0, out=str(out), verbose=0, iwae_examples=50, hidden=(64,), jit_compile=False)
    return rows, out


def test_files_exist_and_parse(run):
    rows, out = run
    for name in ("report.md", "results.json", "results.csv", "learning_curves.png"):
        assert (out / name).stat().st_size > 0, name
    assert json.loads((out / "results.json").read_text()) == json.loads(json.dumps(rows))
    with open(out / "results.csv") as f:
        table = list(csv.DictReader(f))
    assert [r["name"] for r in table] == CONFIGS
    for r in rows:
        for png in (r["reconstructions_png"], r["samples_png"]):
            assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (out / "report.md").read_text()
    assert all(name in report for name in CONFIGS)
    assert "not comparable" in report


def test_columns_are_finite_and_bounds_are_ordered(run):
    rows, _ = run
    for r in rows:
        for key in ("test_elbo", "test_iwae", "recon_mse", "kl", "train_seconds", "examples_per_second"):
            assert math.isfinite(r[key]), (r["name"], key)
        assert 0 <= r["active_units"] <= 4
        # IWAE with k samples is a tighter bound than the one-sample ELBO (up to Monte-Carlo noise).
        assert r["test_iwae"] > r["test_elbo"] - 1.0
    by = {r["name"]: r for r in rows}
    assert by["bin_bernoulli_nll"]["bits_per_dim"] == pytest.approx(-by["bin_bernoulli_nll"]["test_iwae"] / (64 * math.log(2)))
    assert by["keras_mse"]["bits_per_dim"] is None  # a density on grey values
    mse = by["keras_mse"]
    assert mse["implied_sigma"] == pytest.approx(math.sqrt(64 / 2)) and mse["implied_beta"] == pytest.approx(32)
    assert mse["optimal_sigma"] == pytest.approx(math.sqrt(mse["recon_mse"]))
    # At its best sigma the "mse" model's Gaussian explains the data far better than at sigma = sqrt(D/2).
    assert mse["iwae_at_optimal_sigma"] > mse["test_iwae"]


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
        curve = r["history"]["val_reconstruction_nll"]
        assert len(curve) == 5
        assert curve[-1] < curve[0], r["name"]


def test_unknown_config_lists_valid_names():
    with pytest.raises(UnknownConfigError, match="Valid names: .*bin_bernoulli_nll"):
        resolve_configs("bin_bernoulli_nll,not_a_loss")


def test_compare_is_exported_with_the_documented_signature():
    import inspect

    params = inspect.signature(vae_tf.compare).parameters
    assert list(params) == ["dataset", "data", "configs", "epochs", "latent_dim", "k", "batch_size", "seed", "out", "verbose"]
    assert params["dataset"].default == "digits" and params["k"].default == 1000 and params["epochs"].default == 20
