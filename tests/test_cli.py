"""The vae-tf command line: compare end to end, clear errors, train resuming after a kill, evaluate."""

import json
import os
import subprocess
import sys

import pytest

from vae_tf import cli, data
from vae_tf.training.checkpointing import EXIT_AFTER_EPOCH_ENV


def test_compare_end_to_end_on_digits(tmp_path, capsys):
    out = tmp_path / "out"
    rc = cli.main(["compare", "--configs", "bin_bernoulli_nll", "--epochs", "2", "--k", "5", "--iwae-examples", "20",
                   "--latent-dim", "2", "--no-jit", "--quiet", "--out", str(out)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "bin_bernoulli_nll" in printed and f"Report: {out / 'report.md'}" in printed
    rows = json.loads((out / "results.json").read_text())
    assert [r["name"] for r in rows] == ["bin_bernoulli_nll"] and rows[0]["epochs"] == 2
    assert (out / "bin_bernoulli_nll_samples.png").exists() and (out / "learning_curves.png").exists()


def test_unknown_config_is_a_clear_error(capsys):
    rc = cli.main(["compare", "--configs", "gauss_learned_sigma,l1_loss", "--out", "unused"])
    err = capsys.readouterr().err
    assert rc == 2 and "'l1_loss'" in err and "cont_bernoulli_nll" in err and "Traceback" not in err


def test_offline_dataset_is_one_clear_message(tmp_path, monkeypatch, capsys):
    def offline():
        raise OSError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    monkeypatch.setattr(data, "_keras_loader", lambda name: offline)
    rc = cli.main(["compare", "--dataset", "mnist", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    assert "Cannot load mnist" in err and "--data /path/to/mnist.npz" in err and data.DATA_DIR_ENV in err


def test_bad_npz_via_cli(tmp_path, capsys):
    import numpy as np

    np.savez(tmp_path / "images.npz", images=np.zeros((3, 4, 4), np.uint8))
    rc = cli.main(["compare", "--data", str(tmp_path / "images.npz"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and "images.npz" in err and "x_train, y_train, x_test, y_test" in err


def _vae_tf(args, env_extra=None, timeout=300):
    env = {**os.environ, **(env_extra or {})}
    env["PYTHONPATH"] = os.pathsep.join([os.getcwd(), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "vae_tf.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_train_resumes_after_a_kill_and_evaluate_reads_the_model(tmp_path):
    model = tmp_path / "m.keras"
    backup = tmp_path / "backup"
    args = ["train", "--config", "bin_bernoulli_nll", "--epochs", "3", "--latent-dim", "2", "--train-size", "300",
            "--out", str(model), "--backup-dir", str(backup)]
    killed = _vae_tf(args, {EXIT_AFTER_EPOCH_ENV: "2"})
    assert killed.returncode == 17, killed.stderr[-2000:]
    assert not model.exists() and (backup / "training_metadata.json").exists()
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp-")]

    resumed = _vae_tf(args)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "Resuming from" in resumed.stdout and "2 of 3 epochs already done" in resumed.stdout
    assert "Epoch 3/3" in resumed.stdout and "Epoch 1/3" not in resumed.stdout and "Epoch 2/3" not in resumed.stdout
    assert model.exists() and not backup.exists()
    assert json.loads((tmp_path / "m.keras.json").read_text())["config"]["binarized"] is True

    evaluated = _vae_tf(["evaluate", str(model), "--k", "5", "--test-size", "50"])
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    assert "test ELBO" in evaluated.stdout and "log p(x) (k=5)" in evaluated.stdout
    assert "test bits/dim" in evaluated.stdout and "(exact, 2 levels, k=5)" in evaluated.stdout
    assert "binarized" in evaluated.stdout
