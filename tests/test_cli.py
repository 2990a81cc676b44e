"""The vae-tf command line: compare end to end, clear errors, train resuming after a kill, evaluate."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import vae_tf_cli as cli
from vae_tf import data


def test_compare_end_to_end_on_digits(tmp_path, capsys):
    out = tmp_path / "out"
    rc = cli.main(["compare", "--configs", "bin_bernoulli_nll", "--epochs", "2", "--k", "5", "--iwae-examples", "20",
                   "--latent-dim", "2", "--no-jit", "--quiet", "--out", str(out)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "bin_bernoulli_nll" in printed and f"Report: {out / 'report.md'}" in printed
    rows = json.loads((out / "results.json").read_text())
    assert [r["name"] for r in rows if r["kind"] == "model"] == ["bin_bernoulli_nll"] and rows[0]["epochs"] == 2
    # The classic codecs, ranked with the model on the same binarized test images.
    assert {"gzip -9", "LZMA -9e", "PNG"} <= {r["name"] for r in rows if r["kind"] == "reference"}
    assert (out / "bin_bernoulli_nll_samples.png").exists() and (out / "learning_curves.png").exists()


def test_unknown_config_is_a_clear_error(capsys):
    rc = cli.main(["compare", "--configs", "gauss_learned_sigma,l1_loss", "--out", "unused"])
    err = capsys.readouterr().err
    assert rc == 2 and "'l1_loss'" in err and "cont_bernoulli_nll" in err and "Traceback" not in err


def test_offline_dataset_is_one_clear_message(tmp_path, monkeypatch, capsys):
    def offline():
        raise OSError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    monkeypatch.setattr(data.sources, "_keras_loader", lambda name: offline)
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


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _env():
    return {**os.environ, "PYTHONPATH": os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")])}


def _vae_tf(args, timeout=300):
    return subprocess.run([sys.executable, "-m", "vae_tf_cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=_env())


def _kill_after_first_backup(args, backup, timeout=240):
    """Starts `vae-tf ARGS`, waits until BackupAndRestore has written its first epoch, and SIGKILLs it."""
    proc = subprocess.Popen([sys.executable, "-m", "vae_tf_cli", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=_env())
    deadline = time.monotonic() + timeout
    try:
        while not (backup / "training_metadata.json").exists():
            if proc.poll() is not None:
                pytest.fail(f"vae-tf ended (exit {proc.returncode}) before its first backup: "
                            f"{proc.stderr.read().decode()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"no backup in {timeout} s")
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
    return proc.returncode


def test_train_resumes_after_a_kill_and_evaluate_reads_the_model(tmp_path):
    model = tmp_path / "m.keras"
    backup = tmp_path / "backup"
    # Enough epochs that the kill, sent as soon as the first epoch is backed up, lands mid-training.
    epochs = 40
    args = ["train", "--config", "bin_bernoulli_nll", "--epochs", str(epochs), "--latent-dim", "2",
            "--train-size", "300", "--out", str(model), "--backup-dir", str(backup)]
    assert _kill_after_first_backup(args, backup) == -signal.SIGKILL
    assert not model.exists() and (backup / "training_metadata.json").exists()
    done = json.loads((backup / "training_metadata.json").read_text())["epoch"]
    assert 1 <= done < epochs

    resumed = _vae_tf(args)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "Resuming from" in resumed.stdout
    # The epochs the backup held are not run again (it may have moved on between the read above and the kill).
    already = int(resumed.stdout.split("Resuming from")[1].split(":")[1].split(" of ")[0])
    assert done <= already < epochs
    assert f"Epoch {epochs}/{epochs}" in resumed.stdout and f"Epoch {already}/{epochs}" not in resumed.stdout
    assert model.exists() and not backup.exists()
    assert json.loads((tmp_path / "m.keras.json").read_text())["config"]["binarized"] is True

    evaluated = _vae_tf(["evaluate", str(model), "--k", "5", "--test-size", "50"])
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    assert "test ELBO" in evaluated.stdout and "log p(x) (k=5)" in evaluated.stdout
    assert "test bits/dim" in evaluated.stdout and "(exact, 2 levels, k=5)" in evaluated.stdout
    assert "binarized" in evaluated.stdout


@pytest.mark.parametrize("with_mnist", [True, False])
def test_make_demo_command_line_reaches_compare_with_the_demo_budget(with_mnist, tmp_path, monkeypatch):
    """`make demo` runs `vae-tf compare --preset demo [--data MNIST] --out demo-out`; run_compare gets the preset."""
    from vae_tf_cli import compare as command
    from vae_tf.comparison import runner

    calls = []
    monkeypatch.setattr(runner, "run_compare", lambda **kwargs: calls.append(kwargs))
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    npz = tmp_path / "mnist.npz"
    np.savez(npz, x_train=np.zeros((2, 28, 28), np.uint8), x_test=np.zeros((2, 28, 28), np.uint8))
    args = ["compare", "--preset", "demo", "--out", str(tmp_path / "demo-out")] + (["--data", str(npz)] if with_mnist else [])
    assert cli.main(args) == 0
    (kwargs,) = calls
    preset = command.PRESETS["demo"]["mnist" if with_mnist else "digits"]
    expected = dict(command.STANDARD, **preset)
    if with_mnist:
        assert kwargs["data"] == str(npz)
    else:
        assert kwargs["dataset"] == "digits" and kwargs["data"] is None
    for key in ("configs", "epochs", "minutes", "k", "train_size", "test_size", "iwae_examples", "latent_dim",
                "batch_size", "seed"):
        assert kwargs[key] == expected[key], key
    # XLA ("auto", the package's choice per model) exactly when the preset asks for it
    assert kwargs["jit_compile"] == ("auto" if preset["jit"] else False)
    if with_mnist:  # a time budget (the same on any CPU) for the demo's configurations
        assert kwargs["minutes"] == 0.75 and kwargs["epochs"] is None
        assert kwargs["configs"] == list(command.DEMO_CONFIGS)
    else:  # the digits: every configuration, a number of epochs
        assert kwargs["minutes"] is None and kwargs["configs"] is None and kwargs["epochs"] == 30


def test_demo_preset_on_mnist_runs_its_configurations_at_a_time_budget(tmp_path, monkeypatch):
    """The MNIST demo's own code path end to end (its configurations under --minutes), at a tiny budget and size:
    one short epoch each, the report saying the budget, the learning curves against minutes."""
    from vae_tf_cli import compare as command

    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    rng = np.random.default_rng(0)
    npz = tmp_path / "mnist.npz"
    np.savez(npz, x_train=rng.integers(0, 256, (120, 28, 28), dtype=np.uint8), y_train=np.zeros(120, np.uint8),
             x_test=rng.integers(0, 256, (20, 28, 28), dtype=np.uint8), y_test=np.zeros(20, np.uint8))
    out = tmp_path / "demo-out"
    assert cli.main(["compare", "--preset", "demo", "--data", str(npz), "--minutes", "0.001", "--train-size", "100",
                     "--test-size", "20", "--iwae-examples", "4", "--k", "2", "--hidden", "8", "--latent-dim", "2",
                     "--no-jit", "--quiet", "--out", str(out)]) == 0
    rows = [r for r in json.loads((out / "results.json").read_text()) if r["kind"] == "model"]
    assert [r["name"] for r in rows] == list(command.DEMO_CONFIGS)
    assert all(r["minutes"] == 0.001 and r["epochs"] == 1 for r in rows)  # the budget, not a count, ended them
    assert "Ranked at equal compute: 0.001 minutes of training per configuration" in (out / "report.md").read_text()
    assert (out / "learning_curves.png").exists()


@pytest.mark.parametrize("args, says", [
    (["--num-samples", "5"], "num_samples=5 needs objective='iwae'"),
    (["--objective", "iwae", "--num-samples", "3", "--free-bits", "1"], "free_bits applies to the ELBO"),
    (["--config", "keras_mse", "--objective", "iwae", "--num-samples", "3"], "Keras' 'mse'"),
])
def test_train_options_that_do_not_go_together(args, says, tmp_path, capsys):
    rc = cli.main(["train", "--train-size", "100", "--out", str(tmp_path / "m.keras"), *args])
    err = capsys.readouterr().err
    assert rc == 2 and says in err and "Traceback" not in err and err.count("\n") == 1


def test_train_with_the_new_options(tmp_path):
    model_path = tmp_path / "m.keras"
    done = _vae_tf(["train", "--config", "bin_bernoulli_nll", "--epochs", "2", "--train-size", "300", "--latent-dim", "3",
                    "--hidden", "24,16", "--activation", "tanh", "--kl-warmup", "2", "--objective", "iwae",
                    "--num-samples", "3", "--lr-schedule", "cosine", "--batch-size", "50", "--quiet",
                    "--out", str(model_path)])
    assert done.returncode == 0, done.stderr[-2000:]
    sidecar = json.loads((tmp_path / "m.keras.json").read_text())
    assert sidecar["config"]["hidden"] == [24, 16] and sidecar["config"]["activation"] == "tanh"
    assert (sidecar["config"]["objective"], sidecar["config"]["num_samples"]) == ("iwae", 3)
    assert (sidecar["kl_warmup"], sidecar["lr_schedule"], sidecar["batch_size"]) == (2, "cosine", 50)
    import keras
    import vae_tf  # noqa: F401

    model = keras.models.load_model(model_path)
    assert (model.objective, model.num_samples, model.latent_dim) == ("iwae", 3, 3)
    assert float(model.beta) == pytest.approx(0.5)  # epoch 2 of a 2-epoch warm-up: 1 * 1/2
    assert [layer.units for layer in model.decoder.layers] == [24, 16]


def test_compare_keeps_what_it_finished_when_stopped_and_resumes(tmp_path):
    """The twin of train's kill test: SIGTERM mid-run is one line naming what was saved; the same command resumes."""
    out = tmp_path / "out"
    args = ["compare", "--configs", "bin_bernoulli_nll,dnormal_learned_sigma", "--epochs", "15",
            "--k", "5", "--iwae-examples", "20", "--latent-dim", "2", "--no-jit", "--quiet", "--out", str(out)]
    proc = subprocess.Popen([sys.executable, "-m", "vae_tf_cli", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env=_env())
    results = out / "results.json"
    deadline = time.monotonic() + 300
    try:
        # Stop it as soon as its first configuration is saved: the second is then training.
        while not (results.exists() and any(r["kind"] == "model" for r in json.loads(results.read_text()))):
            assert proc.poll() is None, f"compare ended (exit {proc.returncode}) first: {proc.stderr.read()[-2000:]}"
            assert time.monotonic() < deadline, "no results.json in 300 s"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr[-2000:]
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr[-2000:]
    assert "stopped by SIGTERM during `dnormal_learned_sigma`" in lines[0]
    assert "1 finished configuration" in lines[0] and "results.json" in lines[0] and "rerun" in lines[0]
    saved = json.loads(results.read_text())
    assert [r["name"] for r in saved if r["kind"] == "model"] == ["bin_bernoulli_nll"]
    assert "1 of 2 configurations finished" in (out / "report.md").read_text()

    resumed = _vae_tf(args, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "[1/2] bin_bernoulli_nll: finished in an earlier run" in resumed.stdout
    for images in ("integer", "binarized"):
        assert f"Reference codecs on the {images} test images: kept from an earlier run." in resumed.stdout
    assert "[2/2] dnormal_learned_sigma: discretized" in resumed.stdout
    final = json.loads(results.read_text())
    assert [r["name"] for r in final if r["kind"] == "model"] == ["bin_bernoulli_nll", "dnormal_learned_sigma"]
    first = [r for r in saved if r["kind"] == "model"][0]
    assert [r for r in final if r["name"] == "bin_bernoulli_nll"][0] == first  # kept, not retrained
    assert "In progress or stopped" not in (out / "report.md").read_text()
    # A changed budget is a different run: nothing is kept.
    changed = _vae_tf([*args[:4], "1", *args[5:]], timeout=600)
    assert changed.returncode == 0 and "finished in an earlier run" not in changed.stdout
