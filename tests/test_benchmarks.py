"""The benchmark scripts run end to end on tiny sizes and print their tables (no timing is asserted)."""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_script(name, *args):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", name), *args], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_train_throughput_prints_a_row_per_recipe(tmp_path):
    out_json = tmp_path / "train.json"
    out = run_script("train_throughput.py", "--train-size", "300", "--epochs", "2", "--warmup", "1",
                     "--peak-size", "256", "--json", str(out_json))
    assert "| recipe | examples/s | vs vae-tf | GFLOP/s |" in out
    for label in ("(a) vae-tf VAE.fit", "(b) keras.io recipe", "(c) TFP layers recipe"):
        assert f"| {label} |" in out
    assert "load average" in out
    results = json.loads(out_json.read_text())
    assert results["matmul_peak_gflops"] > 0
    by_recipe = {r["recipe"]: r for r in results["results"]}
    assert set(by_recipe) == {"vae_tf", "keras_io", "tfp_layers"}
    for r in by_recipe.values():
        assert len(r["epoch_seconds"]) == 2 and r["examples_per_s"] > 0 and r["examples_per_cpu_s"] > 0
        assert r["examples_per_epoch"] == 300
        # Binarized 28x28 images: the negative ELBO per image is a few hundred nats at most, never NaN.
        assert 0 < r["final_loss"] < 1000


def test_model_throughput_prints_a_row_per_model(tmp_path):
    out_json = tmp_path / "models.json"
    out = run_script("model_throughput.py", "--train-size", "200", "--epochs", "2", "--warmup", "1",
                     "--models", "conv_bernoulli,mlp_categorical", "--json", str(out_json))
    assert "| model | vae-tf defaults (examples/s) | Keras defaults (examples/s) | vae-tf / Keras |" in out
    assert "| conv_bernoulli |" in out and "| mlp_categorical |" in out
    results = json.loads(out_json.read_text())["results"]
    assert {(r["model"], r["setting"]) for r in results} == {
        (m, s) for m in ("conv_bernoulli", "mlp_categorical") for s in ("vae_tf", "keras")}
    for r in results:
        assert len(r["epoch_seconds"]) == 2 and r["examples_per_s"] > 0
        # Nats per image: binary images a few hundred at most, 256 grey levels a few thousand; never NaN.
        assert 0 < r["final_loss"] < 10000


def test_model_throughput_gives_the_categorical_step_over_the_discretized_normal_per_setting():
    sys.path.insert(0, ROOT)
    try:
        from benchmarks.model_throughput import _step_ratio_line
    finally:
        sys.path.remove(ROOT)
    rows = [{"model": "mlp_discretized_normal", "setting": "vae_tf", "examples_per_s": 9000.0},
            {"model": "mlp_discretized_normal", "setting": "keras", "examples_per_s": 4000.0},
            {"model": "mlp_categorical", "setting": "vae_tf", "examples_per_s": 3000.0},
            {"model": "mlp_categorical", "setting": "keras", "examples_per_s": 1000.0}]
    assert _step_ratio_line(rows) == ("mlp_categorical step time / mlp_discretized_normal step time: "
                                      "vae-tf defaults 3.00x, Keras defaults 4.00x")
    assert _step_ratio_line(rows[:2]) == ""


def test_categorical_interleaved_prints_a_ratio_per_variant_and_setting():
    out = run_script("categorical_interleaved.py", "--images", "200", "--rounds", "1", "--settings", "keras")
    assert "round 1:" in out and "keras/factored" in out
    assert "factored step / dnormal step:" in out and "logits step / dnormal step:" in out


def test_iwae_eval_prints_its_table(tmp_path):
    out_json = tmp_path / "iwae.json"
    out = run_script("iwae_eval.py", "--test-size", "7", "--k", "30", "--train-epochs", "1", "--train-size", "200",
                     "--max-rows", "20", "--peak-size", "256", "--json", str(out_json))
    assert "| images | k | wall time (s) |" in out
    assert "| 7 | 30 |" in out
    result = json.loads(out_json.read_text())
    assert result["peak_rss_gib"] > 0 and result["gflops"] > 0
    # A log-probability of binary images: finite and negative (a barely trained model is near 784 log(1/2)).
    assert -2000 < result["mean_log_px"] < 0


def test_compare_memory_logs_every_phase(tmp_path):
    """benchmarks/compare_memory.py on 300 digits, one configuration: every phase has its RSS record."""
    out_json = tmp_path / "memory.json"
    out = run_script("compare_memory.py", "--dataset", "digits", "--configs", "dnormal_learned_sigma", "--train-size",
                     "300", "--k", "5", "--iwae-examples", "20", "--no-codecs", "--json", str(out_json),
                     "--out", str(tmp_path / "compare"))
    assert "[memory] process peak RSS " in out and "[memory] after dnormal_learned_sigma and gc: RSS " in out
    records = json.loads(out_json.read_text())
    phases = {r["phase"] for r in records}
    assert {"data load", "build", "fit", "test metrics", "IWAE", "ELBO", "configuration dnormal_learned_sigma",
            "compare"} <= phases, phases
    for r in records:
        if "peak_gib" in r:
            assert r["peak_gib"] > 0 and r["rss_after_gib"] > 0, r


@pytest.mark.parametrize("script, args", [
    ("train_throughput.py", ["--epochs", "1", "--warmup", "1"]),
    ("train_throughput.py", ["--recipes", "vae_tf,nope"]),
    ("model_throughput.py", ["--epochs", "1", "--warmup", "1"]),
    ("model_throughput.py", ["--models", "mlp_bernoulli,nope"]),
    ("categorical_interleaved.py", ["--variants", "factored"]),
    ("categorical_interleaved.py", ["--rounds", "0"]),
])
def test_throughput_scripts_reject_bad_flags(script, args):
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", script), *args],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "error" in proc.stderr and "Traceback" not in proc.stderr


def test_quality_runs_the_same_code_path_at_a_tiny_budget(tmp_path):
    """benchmarks/quality.py on the digits: seconds of training, k=8, 20 test images; the table is checked."""
    out_json = tmp_path / "quality.json"
    out = run_script("quality.py", "--dataset", "digits", "--minutes", "0.1", "--checkpoints", "0.05,0.1", "--k", "8",
                     "--test-size", "20", "--objective", "iwae", "--num-samples", "2", "--kl-warmup", "2",
                     "--lr-schedule", "cosine", "--batch-size", "50", "--json", str(out_json))
    assert "| model | test set | training minutes | epochs | examples/s | test NLL (nats) | vs Burda (same objective) |" in out
    assert "| Burda et al. 2015, VAE (k=1) | MNIST (dynamic) | n/a | 3280 | n/a | 86.76 | |" in out
    assert "| Burda et al. 2015, IWAE k=5 |" in out and "| Burda et al. 2015, IWAE k=50 |" in out
    ours = [line for line in out.splitlines() if line.startswith("| vae-tf iwae k=2 | digits, one fixed test binarization |")]
    assert len(ours) == 2  # one row per checkpoint
    result = json.loads(out_json.read_text())
    rows = result["rows"]
    assert [r["checkpoint_minutes"] for r in rows] == [0.05, 0.1]
    for row in rows:
        assert row["train_seconds"] >= 60 * row["checkpoint_minutes"] and row["epochs"] > 0
        # -log p(x) of 8x8 binary images: positive, below 64 log 2 = 44 nats after any training at all.
        (nll,) = row["nll"].values()
        assert 0 < nll < 64 * math.log(2)
    assert rows[1]["epochs"] > rows[0]["epochs"]


def test_quality_trains_and_scores_on_a_static_binarization(tmp_path):
    """--train-data static: a file laid out like Larochelle's (x_train, x_valid, x_test: 0/1 rows of 784)."""
    rng = np.random.default_rng(0)
    prototypes = rng.random((2, 784)) < 0.3
    def rows(n):
        flips = rng.random((n, 784)) < 0.05
        return (prototypes[rng.integers(0, 2, n)] ^ flips).astype("uint8")
    path = tmp_path / "binarized_mnist.npz"
    np.savez(path, x_train=rows(300), x_valid=rows(50), x_test=rows(40))
    out_json = tmp_path / "quality.json"
    # A fast recipe (small batches, a large step): 18 s learn the two prototypes on a slow or loaded CPU too
    # (9 s did not under a load average of 5: compiling took most of them);
    # Burda's recipe (batch 100, 1e-3) got 10-16 epochs there and stayed above the bound below.
    out = run_script("quality.py", "--train-data", "static", "--static-data", str(path), "--minutes", "0.3",
                     "--k", "4", "--learning-rate", "0.01", "--batch-size", "20", "--json", str(out_json))
    assert "trained on statically binarized images" in out
    (row,) = json.loads(out_json.read_text())["rows"]
    assert list(row["nll"]) == ["Larochelle's static test set"]
    # Two prototypes with 5% flipped pixels: far below the 784 log 2 = 543 nats of coin flips.
    assert 0 < row["nll"]["Larochelle's static test set"] < 784 * math.log(2) / 2


@pytest.mark.parametrize("args, says", [
    (["--checkpoints", "5,90"], "beyond --minutes"),
    (["--num-samples", "5"], "needs --objective iwae"),
    (["--k", "0"], "argument --k: must be a positive integer"),
])
def test_quality_rejects_bad_flags(args, says):
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "quality.py"), *args],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and says in proc.stderr and "Traceback" not in proc.stderr


def test_compression_benchmark_prints_the_table_on_digits(tmp_path):
    out_json = tmp_path / "compression.json"
    out = run_script("compression.py", "--datasets", "digits", "--minutes", "0.02", "--k", "3", "--latent-dim", "4",
                     "--hidden", "32", "--no-image-codecs", "--json", str(out_json))
    assert "| digits | bits/dim | vs LZMA | notes |" in out
    for label in ("vae-tf compress (the file)", "model -ELBO", "model IWAE (k=3)", "gzip -9", "LZMA -9e",
                  "per-pixel marginals"):
        assert f"| {label} |" in out
    assert "(exact)" in out and "than LZMA's" in out
    (result,) = json.loads(out_json.read_text())["results"]
    assert result["num_levels"] == 17 and result["test_images"] == 297
    assert result["file_bits_per_dim"] > result["coded_bits_per_dim"] > 0
