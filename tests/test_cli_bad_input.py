"""Bad input through the command line: one line naming the problem, exit code 2, never a traceback.

One table row per mistake: a command line with one bad value (the last option given,
so that the coverage test below can tell which option a row covers) and a fragment
the one-line message must contain. Paths in braces are made by the ``files`` fixture.
A new option needs a row: ``test_every_option_has_a_row`` fails until it has one.
Most rows are rejected by argparse, before any work; the rows marked "(loads)" reach
Keras or the data loader. Subprocess tests at the end check the real ``vae-tf``:
its first screen is ours, and ``--verbose`` / ``VAE_TF_VERBOSE=1`` bring TensorFlow's
start-up lines back.
"""

import gzip
import os
import re
import struct
import subprocess
import sys
import zipfile
import zlib

import numpy as np
import pytest

import vae_tf_cli as cli
from vae_tf_cli import VERBOSE_ENV

# (command line, fragment of the one-line message)
CASES = [
    # vae-tf
    (["bogus"], "invalid choice: 'bogus'"),
    (["--verbose=1"], "ignored explicit argument '1'"),
    # vae-tf compare
    (["compare", "--epochs", "0"], "argument --epochs: must be a positive integer, got '0'"),
    (["compare", "--epochs", "two"], "argument --epochs: must be a positive integer, got 'two'"),
    (["compare", "--latent-dim", "-1"], "argument --latent-dim: must be a positive integer, got '-1'"),
    (["compare", "--k", "0"], "argument --k: must be a positive integer"),
    (["compare", "--network", "vgg"], "argument --network: invalid choice: 'vgg'"),
    (["compare", "--model", "ladder"], "argument --model: invalid choice: 'ladder' (choose from vae, hierarchical)"),
    (["compare", "--hidden", "200,x"], "argument --hidden: "),
    (["compare", "--iwae-examples", "0"], "argument --iwae-examples: must be a positive integer"),
    (["compare", "--minutes", "0"], "argument --minutes: must be a number > 0, got '0'"),
    (["compare", "--minutes", "-5"], "argument --minutes: must be a number > 0, got '-5'"),
    (["compare", "--minutes", "five"], "argument --minutes: must be a number > 0, got 'five'"),
    (["compare", "--minutes", "5", "--epochs", "0"], "argument --epochs: must be a positive integer, got '0'"),
    (["compare", "--train-size", "0"], "argument --train-size: must be a positive integer"),
    (["compare", "--test-size", "-5"], "argument --test-size: must be a positive integer, got '-5'"),
    (["compare", "--batch-size", "0"], "argument --batch-size: must be a positive integer, got '0'"),
    (["compare", "--batch-size", "2.5"], "argument --batch-size: must be a positive integer, got '2.5'"),
    (["compare", "--seed", "-1"], "argument --seed: must be an integer from 0 to 4294967295, got '-1'"),
    (["compare", "--dataset", "imagenet"], "argument --dataset: invalid choice: 'imagenet'"),
    (["compare", "--data", "missing.npz"], "argument --data: no such file or folder: 'missing.npz'"),
    (["compare", "--out", "out", "--data", "{text_npz}"], "'{text_npz}' is a text file, not a .npz dataset"),  # (loads)
    (["compare", "--data", "{text_file}"], "'{text_file}' is a text file, not a .npz dataset"),
    (["compare", "--data", "{broken_npz}"], "is a truncated or corrupt zip archive, not a .npz dataset"),
    (["compare", "--out", "out", "--data", "{picture_png}"],  # (loads)
     "'{picture_png}' is a PNG image, not a .npz dataset; pass the folder that holds it with --data DIR"),
    (["compare", "--data", "{not_a_model_keras}"], "is a Keras model (.keras), not a .npz dataset"),
    (["compare", "--out", "out", "--data", "{a_dir}"], "No images in the folder '{a_dir}'"),  # (loads)
    (["compare", "--image-size", "32"], "argument --image-size: must be HEIGHTxWIDTH in pixels, both >= 1, such as 32x32, got '32'"),
    (["compare", "--out", "out", "--data", "{images_npz}", "--image-size", "8x8"],
     "image_size (--image-size) applies to a folder of images (--data DIR)"),  # (loads)
    (["compare", "--skip-bad-files=1"], "argument --skip-bad-files: ignored explicit argument '1'"),
    (["compare", "--out", "out", "--data", "{images_npz}"], "x_train, y_train, x_test, y_test"),  # (loads)
    (["compare", "--configs", ","], "argument --configs: must be comma-separated names such as a,b, got ','"),
    (["compare", "--out", "out", "--configs", "l1_loss"], "'l1_loss'"),  # (loads) the registry
    (["compare", "--out", "{text_file}"], "argument --out: '{text_file}' is a file, not a directory"),
    (["compare", "--preset", "fast"], "argument --preset: invalid choice: 'fast'"),
    (["compare", "--jit=yes"], "argument --jit/--no-jit: ignored explicit argument 'yes'"),
    (["compare", "--no-jit=1"], "argument --jit/--no-jit: ignored explicit argument '1'"),
    (["compare", "--quiet=1"], "argument --quiet: ignored explicit argument '1'"),
    (["compare", "--verbose=1"], "argument --verbose: ignored explicit argument '1'"),
    (["compare", "--bogus"], "unrecognized arguments: --bogus"),
    # Values that cannot be meant: refused before any work, the bound in the message (vae_tf_cli/options.py).
    (["compare", "--epochs", "1000000000"], "argument --epochs: must be a positive integer and at most 10000, got '1000000000'"),
    (["compare", "--latent-dim", "5000"], "argument --latent-dim: must be a positive integer and at most 4096, got '5000'"),
    (["compare", "--hidden", "200,100000"],
     "argument --hidden: must be at most 64 comma-separated layer widths, each no larger than 16384, got '200,100000'"),
    (["compare", "--hidden", ",".join(["8"] * 65)], "argument --hidden: must be at most 64 comma-separated layer widths"),
    (["compare", "--k", "1000001"], "argument --k: must be a positive integer and at most 100000, got '1000001'"),
    (["compare", "--iwae-examples", "1000000000"], "argument --iwae-examples: must be a positive integer and at most 100000000"),
    (["compare", "--train-size", "999999999999"], "argument --train-size: must be a positive integer and at most 100000000"),
    (["compare", "--test-size", "999999999999"], "argument --test-size: must be a positive integer and at most 100000000"),
    (["compare", "--batch-size", "100000"], "argument --batch-size: must be a positive integer and at most 65536, got '100000'"),
    (["compare", "--image-size", "99999x32"],
     "argument --image-size: must be HEIGHTxWIDTH in pixels, both no larger than 4096, got '99999x32'"),
    # vae-tf train
    (["train", "--config", "l1_loss"], "'l1_loss'"),  # (loads) the registry
    (["train", "--dataset", "cifar100"], "argument --dataset: invalid choice: 'cifar100'"),
    (["train", "--network", "vgg"], "argument --network: invalid choice: 'vgg'"),
    (["train", "--model", "ladder"], "argument --model: invalid choice: 'ladder'"),
    (["train", "--data", "{picture_png}"], "is a PNG image, not a .npz dataset"),
    (["train", "--data", "{gzip_npz}"], "is gzip-compressed data, not a .npz dataset"),
    (["train", "--image-size", "0x5"], "argument --image-size: must be HEIGHTxWIDTH in pixels, both >= 1, such as 32x32, got '0x5'"),
    (["train", "--skip-bad-files=no"], "argument --skip-bad-files: ignored explicit argument 'no'"),
    (["train", "--batch-size", "0"], "argument --batch-size: must be a positive integer, got '0'"),
    (["train", "--seed", "4294967296"], "argument --seed: must be an integer from 0 to 4294967295"),
    (["train", "--epochs", "0"], "argument --epochs: must be a positive integer, got '0'"),
    (["train", "--latent-dim", "0"], "argument --latent-dim: must be a positive integer"),
    (["train", "--train-size", "none"], "argument --train-size: must be a positive integer, got 'none'"),
    (["train", "--out", "m.h5"], "argument --out: must be a file name ending in .keras, got 'm.h5'"),
    (["train", "--out", "{dir_keras}"], "is a directory; give a file name ending in .keras"),
    (["train", "--backup-dir", "{text_file}"], "argument --backup-dir: '{text_file}' is a file, not a directory"),
    (["train", "--quiet=yes"], "argument --quiet: ignored explicit argument 'yes'"),
    (["train", "--verbose=yes"], "argument --verbose: ignored explicit argument 'yes'"),
    (["train", "--free-bits", "-1"], "argument --free-bits: must be a number >= 0, got '-1'"),
    (["train", "--hidden", "200,x"], "argument --hidden: must be comma-separated positive layer widths such as 200,200, got '200,x'"),
    (["train", "--hidden", "200,0"], "argument --hidden: must be comma-separated positive layer widths"),
    (["train", "--num-samples", "0"], "argument --num-samples: must be a positive integer, got '0'"),
    (["train", "--kl-warmup", "2.5"], "argument --kl-warmup: must be an integer >= 0, got '2.5'"),
    (["train", "--objective", "vi"], "argument --objective: invalid choice: 'vi'"),
    (["train", "--activation", "cube"], "argument --activation: invalid choice: 'cube'"),
    (["train", "--learning-rate", "0"], "argument --learning-rate: must be a number > 0, got '0'"),
    (["train", "--lr-schedule", "step"], "argument --lr-schedule: invalid choice: 'step'"),
    (["train", "--epochs", "99999999999999999999"],
     "argument --epochs: must be a positive integer and at most 10000, got '99999999999999999999'"),
    (["train", "--batch-size", "65537"], "argument --batch-size: must be a positive integer and at most 65536"),
    (["train", "--latent-dim", "4097"], "argument --latent-dim: must be a positive integer and at most 4096"),
    (["train", "--hidden", "16385"], "argument --hidden: must be at most 64 comma-separated layer widths, each no larger than 16384"),
    (["train", "--num-samples", "5000"], "argument --num-samples: must be a positive integer and at most 1000, got '5000'"),
    (["train", "--free-bits", "1000"], "argument --free-bits: must be a number >= 0 and at most 100, got '1000'"),
    (["train", "--kl-warmup", "20000"], "argument --kl-warmup: must be an integer >= 0 and at most 10000, got '20000'"),
    (["train", "--learning-rate", "5"], "argument --learning-rate: must be a number > 0 and at most 1, got '5'"),
    (["train", "--train-size", "999999999999"], "argument --train-size: must be a positive integer and at most 100000000"),
    (["train", "--image-size", "5000x5000"], "argument --image-size: must be HEIGHTxWIDTH in pixels, both no larger than 4096"),
    # vae-tf evaluate
    (["evaluate"], "the following arguments are required: model"),
    (["evaluate", "missing.keras"], "argument model: no such file: 'missing.keras'"),
    (["evaluate", "{broken_keras}"], "is not a readable .keras file (truncated, or not a zip archive)"),
    (["evaluate", "{text_file}"], "is not a .keras file (the name must end in .keras)"),
    (["evaluate", "{dir_keras}"], "is a directory, not a file"),
    (["evaluate", "{no_config_keras}"], "is not a Keras model file (no config.json inside)"),
    (["evaluate", "{not_a_model_keras}"], "cannot load '{not_a_model_keras}' as a vae_tf model"),  # (loads)
    (["evaluate", "{not_a_model_keras}", "--dataset", "svhn"], "argument --dataset: invalid choice: 'svhn'"),
    (["evaluate", "{not_a_model_keras}", "--data", "{text_npz}"], "is a text file, not a .npz dataset"),
    (["evaluate", "{not_a_model_keras}", "--image-size", "8x"], "argument --image-size: must be HEIGHTxWIDTH"),
    (["evaluate", "{not_a_model_keras}", "--skip-bad-files=1"], "argument --skip-bad-files: ignored explicit argument '1'"),
    (["evaluate", "{not_a_model_keras}", "--batch-size", "0"], "argument --batch-size: must be a positive integer"),
    (["evaluate", "{not_a_model_keras}", "--seed", "x"], "argument --seed: must be an integer from 0 to 4294967295, got 'x'"),
    (["evaluate", "{not_a_model_keras}", "--k", "0"], "argument --k: must be a positive integer, got '0'"),
    (["evaluate", "{not_a_model_keras}", "--test-size", "0"], "argument --test-size: must be a positive integer"),
    (["evaluate", "{not_a_model_keras}", "--binarize", "always"], "argument --binarize: invalid choice: 'always'"),
    (["evaluate", "{not_a_model_keras}", "--batch-size", "100000"], "argument --batch-size: must be a positive integer and at most 65536"),
    (["evaluate", "{not_a_model_keras}", "--k", "100001"], "argument --k: must be a positive integer and at most 100000"),
    (["evaluate", "{not_a_model_keras}", "--test-size", "999999999999"],
     "argument --test-size: must be a positive integer and at most 100000000"),
    (["evaluate", "{not_a_model_keras}", "--image-size", "8x9999"], "both no larger than 4096, got '8x9999'"),
    (["evaluate", "{not_a_model_keras}", "--verbose=1"], "argument --verbose: ignored explicit argument '1'"),
    # vae-tf export
    (["export", "--out", "new"], "the following arguments are required: --model"),
    (["export", "--out", "new", "--model", "missing.keras"], "argument --model: no such file: 'missing.keras'"),
    (["export", "--out", "new", "--model", "{broken_keras}"], "(truncated, or not a zip archive)"),
    (["export", "--model", "{not_a_model_keras}", "--out", "{full_dir}"], "argument --out: '{full_dir}' already exists and is not empty"),
    (["export", "--model", "{not_a_model_keras}", "--out", "{text_file}"], "argument --out: '{text_file}' is a file, not a directory"),
    (["export", "--out", "new", "--model", "{not_a_model_keras}"], "cannot load '{not_a_model_keras}' as a vae_tf model"),  # (loads)
    (["export", "--out", "new", "--verbose=on"], "argument --verbose: ignored explicit argument 'on'"),
    # vae-tf compress MODEL IMAGES OUT
    (["compress", "{broken_keras}", "{images_npz}", "out.bb"], "(truncated, or not a zip archive)"),
    (["compress", "{not_a_model_keras}", "missing.npz", "out.bb"], "argument images: no such file or folder: 'missing.npz'"),
    (["compress", "{not_a_model_keras}", "{picture_png}", "out.bb"],
     "is a PNG image, not a .npz of images; pass the folder that holds it with the IMAGES argument"),
    (["compress", "{not_a_model_keras}", "{images_npz}", "out.bb", "--image-size", "x"], "argument --image-size: must be HEIGHTxWIDTH"),
    (["compress", "{not_a_model_keras}", "{images_npz}", "out.bb", "--skip-bad-files=1"],
     "argument --skip-bad-files: ignored explicit argument '1'"),
    (["compress", "{not_a_model_keras}", "{images_npz}", "out.bb", "--key", "x"], "has no array 'x'"),  # (loads)
    (["compress", "{not_a_model_keras}", "{images_npz}", "out.bb", "--latent-bits", "0"],
     "argument --latent-bits: must be a positive integer, got '0'"),
    (["compress", "{not_a_model_keras}", "{images_npz}", "out.bb", "--batch-size", "-1"],
     "argument --batch-size: must be a positive integer, got '-1'"),
    (["compress", "{not_a_model_keras}", "{images_npz}", "out.bb", "--seed", "-2"],
     "argument --seed: must be an integer from 0 to 4294967295"),
    (["compress", "{not_a_model_keras}", "{images_npz}", "out.bb", "--compare-iwae", "-1"], "argument --compare-iwae: must be an integer >= 0"),
    (["compress", "{not_a_model_keras}", "{images_npz}", "out.bb", "--k", "5"], "--k is gone: the IWAE comparison is off by default; use --compare-iwae 5"),
    (["compress", "{not_a_model_keras}", "{images_npz}", "out.bb", "--verbose=1"],
     "argument --verbose: ignored explicit argument '1'"),
    # vae-tf decompress MODEL IN OUT
    (["decompress", "{not_a_model_keras}", "missing.bb", "out.npz"], "argument compressed: no such file: 'missing.bb'"),
    (["decompress", "{not_a_model_keras}", "{text_file}", "out.npz", "--compare-iwae", "x"], "argument --compare-iwae: must be an integer >= 0, got 'x'"),
    (["decompress", "{not_a_model_keras}", "{text_file}", "out.npz", "--k", "3"], "use --compare-iwae 3"),
    (["decompress", "{not_a_model_keras}", "{text_file}", "out.npz", "--verbose=1"],
     "argument --verbose: ignored explicit argument '1'"),
]


def _png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _id(case):
    return "-".join(re.sub(r"[^\w.-]", "", a) for a in case[0])[:60] or "empty"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Bad files, one per way a file can be wrong; returns {name: path}."""
    d = tmp_path_factory.mktemp("bad_files")
    paths = {}

    def path(name):
        paths[name.replace(".", "_")] = str(d / name)
        return d / name

    with zipfile.ZipFile(path("not_a_model.keras"), "w") as archive:
        archive.writestr("config.json", '{"class_name": "NoSuchModel", "config": {}}')
        archive.writestr("model.weights.h5", b"")
    data = (d / "not_a_model.keras").read_bytes()
    path("broken.keras").write_bytes(data[: len(data) // 2])  # a copy cut short, as by a full disk
    with zipfile.ZipFile(path("no_config.keras"), "w") as archive:
        archive.writestr("weights.h5", b"")
    path("text.npz").write_text("not an archive")
    np.savez(path("broken.npz"), x_train=np.zeros((3, 4, 4), np.uint8))
    data = (d / "broken.npz").read_bytes()
    path("broken.npz").write_bytes(data[: len(data) // 2])
    path("gzip.npz").write_bytes(gzip.compress(b"x" * 100))
    # A real PNG (the wrong kind of file for a .npz), written by the standard library's zlib: no Pillow needed here.
    row = b"\0" + b"\x80" * 4
    png = (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 1, 8, 0, 0, 0, 0))
           + _png_chunk(b"IDAT", zlib.compress(row)) + _png_chunk(b"IEND", b""))
    path("picture.png").write_bytes(png)
    path("text_file.txt").write_text("x")
    paths["text_file"] = paths.pop("text_file_txt")
    np.savez(path("images.npz"), images=np.zeros((3, 4, 4), np.uint8))
    path("a_dir").mkdir()
    path("dir.keras").mkdir()
    path("full_dir").mkdir()
    (d / "full_dir" / "saved_model.pb").write_text("")
    paths["tmp"] = str(d)
    return paths


@pytest.mark.parametrize("argv, fragment", CASES, ids=[_id(c) for c in CASES])
def test_bad_command_line_is_one_line_and_exit_2(files, argv, fragment, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # relative names (missing.npz, m.h5, out, new) land in an empty directory
    rc = cli.main([a.format(**files) for a in argv])
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert rc == 2, (out, err)
    assert len(lines) == 1, err
    assert re.match(r"vae-tf( \w+)?: error: ", lines[0]), lines[0]
    assert fragment.format(**files) in lines[0]
    assert "Traceback" not in out + err
    assert not os.path.exists(tmp_path / "m.keras")


def test_a_network_the_hierarchy_cannot_take_is_refused_before_any_work(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    rc = cli.main(["compare", "--out", "out", "--model", "hierarchical", "--network", "mlp"])
    out, err = capsys.readouterr()
    assert rc == 2 and err.count("\n") == 1 and "Traceback" not in out + err
    assert "the hierarchical model has its own residual networks; network='mlp' applies to the vae family" in err
    assert "vae-tf compare:" not in out  # no data was loaded, no codec or configuration started


def _bad_option(argv):
    options = [a.split("=")[0] for a in argv if a.startswith("--")]
    return options[-1] if options else None


def test_every_option_has_a_row():
    """Each subcommand's options (all but --help) are the bad option of at least one row."""
    parser = cli.build_parser()
    subcommands = next(a for a in parser._actions if a.dest == "command").choices
    covered = {(argv[0], _bad_option(argv)) for argv, _ in CASES if argv and not argv[0].startswith("-")}
    missing = []
    for name, sub in subcommands.items():
        for action in sub._actions:
            options = [o for o in action.option_strings if o.startswith("--") and o != "--help"]
            if options and not any((name, o) in covered for o in options):
                missing.append(f"vae-tf {name} {options[0]}")
    assert not missing, f"add a row to CASES for: {', '.join(missing)}"


def test_a_bug_keeps_its_traceback(monkeypatch):
    """Only the user's mistakes become one line: an unexpected error is raised as it is."""
    from vae_tf.comparison import runner

    def broken(**kwargs):
        raise ValueError("an internal bug, not the user's input")

    monkeypatch.setattr(runner, "run_compare", broken)
    with pytest.raises(ValueError, match="internal bug"):
        cli.main(["compare"])


# -- the real `vae-tf`, in a subprocess ---------------------------------------

# TensorFlow's C++ log lines (absl/glog prefix "I0000 00:00:..." or "2025-01-01 ...: I ...") and notices.
NOISE = re.compile(r"^([IWEF]\d{4} \d\d:\d\d:\d\d|\d{4}-\d\d-\d\d [\d:.]+: [IWEF] )|absl::InitializeLog|oneDNN|cuInit"
                   r"|cuda|TF_ENABLE_ONEDNN_OPTS|WARNING:absl|DeprecationWarning", re.MULTILINE)


def _vae_tf(args, env_extra=None, timeout=300):
    # conftest sets TF_CPP_MIN_LOG_LEVEL for the test process; a user's shell does not.
    env = {k: v for k, v in os.environ.items() if k not in (VERBOSE_ENV, "TF_CPP_MIN_LOG_LEVEL")}
    env.update(env_extra or {})
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "vae_tf_cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    import keras

    from vae_tf.models.vae.config import resolve_configs
    from vae_tf.models.vae.config import build_vae
    from vae_tf.training import save_model_atomically

    (config,) = resolve_configs(["bin_bernoulli_nll"], latent_dim=2)
    model = build_vae(config, (8, 8, 1), seed=0)
    model.compile(jit_compile=False)
    model.fit(np.zeros((10, 8, 8, 1), "float32"), epochs=1, verbose=0)  # saves the optimizer's state, as train does
    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    save_model_atomically(model, path)
    assert isinstance(keras.saving.load_model(path), type(model))
    return str(path)


def test_a_bad_argument_is_one_line_from_the_first_byte():
    result = _vae_tf(["compare", "--epochs", "0"])
    assert result.returncode == 2
    assert result.stderr == "vae-tf compare: error: argument --epochs: must be a positive integer, got '0'\n"
    assert result.stdout == ""


def test_first_screen_is_ours_and_verbose_brings_tensorflow_back(tiny_model):
    quiet = _vae_tf(["evaluate", tiny_model, "--k", "2", "--test-size", "20"])
    assert quiet.returncode == 0, quiet.stderr[-2000:]
    assert not NOISE.findall(quiet.stderr + quiet.stdout), quiet.stderr
    assert quiet.stderr == "", quiet.stderr
    assert f"{tiny_model} on 20 test images" in quiet.stdout and "test ELBO" in quiet.stdout

    verbose = _vae_tf(["evaluate", tiny_model, "--k", "2", "--test-size", "20", "--verbose"])
    by_env = _vae_tf(["evaluate", tiny_model, "--k", "2", "--test-size", "20"], {VERBOSE_ENV: "1"})
    assert verbose.returncode == 0 and by_env.returncode == 0
    # What TensorFlow alone prints when it starts (at the C++ log level vae_tf sets), without the timestamps.
    plain = subprocess.run([sys.executable, "-c", "import tensorflow as tf; tf.config.list_physical_devices()"],
                           capture_output=True, text=True, timeout=300,
                           env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    messages = [line.split("] ", 1)[1] for line in plain.stderr.splitlines() if NOISE.search(line) and "] " in line]
    if not messages:
        pytest.skip("TensorFlow prints nothing at start-up on this machine: nothing to bring back")
    for message in messages:
        assert message in verbose.stderr, verbose.stderr[-2000:]
        assert message in by_env.stderr, by_env.stderr[-2000:]
