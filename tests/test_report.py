"""What compare says and draws, on rows made up to the point (no training) and on one tiny run: when every model is
weak, ties for the best, collapsed rows with their own counts, JPEG 2000's headers, singular and plural, the learning
curves' panels, picture tiles at their native pixels or larger, and the time estimate."""

import json
import os
import signal

import numpy as np
import pytest

from vae_tf.comparison import findings, outputs, report, runner
from vae_tf.comparison.references import MARGINALS, encode_image
from vae_tf.errors import RunInterrupted

SETTINGS = {"dataset": "photos", "data_description": "photos", "num_dims": 64 * 64 * 3, "num_levels": 256,
            "channels": 3, "configurations": ["logistic_mixture", "gauss_learned_sigma"], "train_examples": 1043}


def model_row(name, bits, se=0.01, table=report.GREY, **extra):
    return {"kind": report.MODEL, "table": table, "name": name, "description": name, "bits_per_dim": bits,
            "bits_per_dim_se": se, "bits_per_dim_method": "exact", "loss": "nll", "likelihood": name, "epochs": 10,
            "batch_size": 100, "seed": 0, "latent_dim": 16, "iwae_k": 100, "scored_examples": 116,
            "test_examples": 116, "recon_mse": 0.05, "kl": 20.0, "active_units": 16, "parameters": 2_000_000,
            "mean_image_mse": 0.06, "dequantized": False, "reconstructions_png": f"{name}_r.png",
            "samples_png": f"{name}_s.png", "history": {"val_bits_per_dim": [9.0, 8.0], "val_kl": [1.0, 2.0]},
            **extra}


def write(rows, tmp_path, settings=SETTINGS):
    report.write_report(rows, str(tmp_path), settings)
    return (tmp_path / "report.md").read_text()


# -- item 5: when every model is weak --------------------------------------------------------------------------

def test_the_report_says_when_no_model_beats_the_per_pixel_marginals(tmp_path):
    rows = [model_row("logistic_mixture", 7.40), model_row("gauss_learned_sigma", 7.90),
            report.reference_row(MARGINALS, 7.21), report.reference_row("PNG", 7.60, bytes=1000)]
    text = write(rows, tmp_path)
    assert "**Every model is weak here.** The best model, `logistic_mixture`, at 7.4000 bits/dim, does not beat the " \
           "per-pixel marginals (7.2100 bits/dim" in text
    assert "too few images or epochs for the models' size (1,043 training images, 10 epochs, up to 2,000,000 " \
           "parameters)" in text
    assert "more epochs (`--epochs`), more images, a smaller `--latent-dim` or network" in text
    assert "or the `categorical` decoder." in text  # the logistic mixture ran already
    assert "uniform code" not in text.split("Every model is weak here.")[1].split("\n")[0]


def test_the_report_says_when_the_best_model_is_worse_than_storing_the_bytes(tmp_path):
    rows = [model_row("categorical", 8.91), report.reference_row(MARGINALS, 7.21)]
    text = write(rows, tmp_path, {**SETTINGS, "configurations": ["categorical"]})
    assert "does not beat the per-pixel marginals (7.2100 bits/dim: an independent categorical per sub-pixel, no " \
           "latent variable) nor the uniform code (log2 256 = 8 bits/dim: every sub-pixel stored as it is)" in text
    assert "or the `logistic_mixture` decoder." in text


def test_a_model_that_beats_the_references_gets_no_such_note(tmp_path):
    rows = [model_row("categorical", 1.26), report.reference_row(MARGINALS, 1.69)]
    assert "weak" not in write(rows, tmp_path)
    assert report.weak_models_note(rows, SETTINGS, images="integer") == ""


# -- item 7: words ---------------------------------------------------------------------------------------------

def test_two_tied_rows_are_not_one_best(tmp_path):
    rows = [model_row("bin_bernoulli_bce", 0.1834, table=report.BINARIZED),
            model_row("bin_bernoulli_nll", 0.1837, table=report.BINARIZED)]
    words = report.ranking_in_words(rows, 784, report.BINARIZED)
    assert "models the test images best" not in words and "runner-up" not in words
    assert "`bin_bernoulli_bce` and `bin_bernoulli_nll` tie for the best, at 0.1834 and 0.1837 bits/dim" in words
    one = report.ranking_in_words(rows[:1], 784, report.BINARIZED)
    assert "Of the 1 models" not in one and "The one model, `bin_bernoulli_bce`, scores 0.1834" in one


def test_collapsed_rows_are_named_with_their_own_count_of_active_units(tmp_path):
    rows = [model_row("categorical", 1.3), model_row("keras_mse", 2.6, active_units=0, recon_mse=0.07)]
    seen = report.what_you_see(rows)
    assert "at most one active latent unit" not in seen
    assert "(and `keras_mse`, with no active latent unit, draws nearly the same image for every `z`" in seen
    rows.append(model_row("scaled_mse_sigma1", 1.8, active_units=1))
    assert "(and `scaled_mse_sigma1`, with 1 active latent unit, and `keras_mse`, with no active latent unit, draw " in \
        report.what_you_see(rows)


def test_jpeg_2000_is_shown_with_why_it_costs_more_than_the_pixels_on_small_images(tmp_path):
    # The header size the note states is what OpenJPEG writes for a file that codes nothing.
    assert len(encode_image(np.zeros((28, 28, 1), np.uint8), "JPEG 2000 lossless")) == findings.JP2_HEADER_BYTES
    rows = [model_row("categorical", 1.26, table=report.BINARIZED),
            report.reference_row("JPEG 2000 lossless", 2.70, table=report.BINARIZED, bytes=265)]
    text = write(rows, tmp_path, {**SETTINGS, "num_dims": 784, "num_levels": 256, "channels": 1})
    section = text.split("## Binarized images")[1]
    assert "**Per-file headers.**" in section and "218 bytes" in section
    assert "2.22 bits/dim of these images of D = 784 sub-pixels before any pixel is coded" in section
    assert "`JPEG 2000 lossless` reads 2.70 bits/dim here" in section


def test_counts_are_singular_when_one():
    from vae_tf.long_jobs import count_of

    assert count_of(1, "configuration") == "1 configuration" and count_of(13, "configuration") == "13 configurations"
    assert count_of(0, "active latent unit") == "0 active latent units"


def test_the_learning_curves_leave_out_a_panel_without_runs():
    rows = [model_row("categorical", 1.3), model_row("keras_mse", 2.6)]
    fig = outputs.learning_curves_figure(rows)
    titles = [ax.get_title() for ax in fig.axes]
    assert len(fig.axes) == 2 and not any("binarized" in t for t in titles), titles
    assert not any(text.get_text() == "no runs" for ax in fig.axes for text in ax.texts)
    both = outputs.learning_curves_figure(rows + [model_row("bin_bernoulli_nll", 0.2, table=report.BINARIZED)])
    assert len(both.axes) == 3


@pytest.mark.parametrize("shape, factor", [((8, 8, 1), 8), ((28, 28, 1), 3), ((32, 32, 3), 2), ((64, 64, 3), 1),
                                           ((100, 90, 3), 1)])
def test_picture_tiles_are_drawn_at_their_native_pixels_or_larger(tmp_path, shape, factor):
    from PIL import Image

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(16,) + shape).astype(np.float32) / 255
    path = tmp_path / "grid.png"
    outputs.save_grid(str(path), images, 8, "categorical: rows 1, 3 test images; rows 2, 4 reconstructions")
    picture = np.asarray(Image.open(path))
    h, w, c = shape
    assert picture.shape[1] == 8 * w * factor and (min(h, w) * factor >= 64 or factor == 1)
    grid = picture[-2 * h * factor:]  # the tiles, below the title
    grid = grid if grid.ndim == 3 else grid[..., None]
    # Nearest neighbour: every image pixel is a factor x factor square holding exactly its 8-bit value.
    expected = np.repeat(np.repeat(np.round(images[0] * 255).astype(np.uint8), factor, 0), factor, 1)
    np.testing.assert_array_equal(grid[:h * factor, :w * factor], expected)


# -- item 6: the estimate --------------------------------------------------------------------------------------

def test_a_steady_epoch_leaves_out_the_calls_that_compiled(monkeypatch):
    from vae_tf.callbacks import EpochSpeed

    clock = iter([0.0, 30.0, 31.0, 31.1, 31.2, 40.0, 40.05,   # epoch 1: begin, 3 training calls, validation, end
                  40.1, 50.0, 50.1, 50.2, 50.25, 50.3, 50.35,  # epoch 2: its first call compiled again
                  50.4, 50.5, 50.6, 50.7, 50.75, 50.8, 50.85])
    monkeypatch.setattr("vae_tf.callbacks.progress.time.perf_counter", lambda: next(clock))
    said = []
    speed = EpochSpeed(said.append)
    speed.set_params({"epochs": 10})
    for _ in range(3):
        speed.on_epoch_begin(0)
        for step in (7, 15, 23):
            speed.on_train_batch_end(step)
        speed.on_test_begin()
        speed.on_test_batch_end(3)
        speed.on_epoch_end(0)
    speed.on_train_end()
    assert len(said) == 1 and said[0]["epochs"] == 2  # 5 training calls after the first: after epoch 2
    # Median of 0.125, 0.0125, 1.2375, 0.0125, 0.0125 s per step = 0.0125, x 24 steps; validation 0.05 / 4 x 4.
    assert said[0]["epoch"] == pytest.approx(0.0125 * 24 + 0.05) and said[0]["validation"] == pytest.approx(0.05)
    assert said[0]["elapsed"] == pytest.approx(50.3)


def test_the_estimate_multiplies_the_first_configurations_epoch_by_epochs_and_configurations():
    class Images:
        x_train, x_val, x_test = np.zeros(1000), np.zeros(100), np.zeros(200)

    speed = {"elapsed": 30.0, "epochs": 1, "epoch": 10.0, "validation": 1.0}  # 20 s of compiling
    text = runner.total_time_estimate(speed, "keras_mse", 10, 13, 100, 50, Images)
    # 13 x (10 x 10 + 20 + 0.01 s per image x (100 x 50 + 50 + 2 x 200)) = 13 x 174.5 s
    assert text.startswith("  Estimated time to train and score 13 configurations: about 38 min (an estimate from "
                           "the first epoch of keras_mse: 10 s per epoch x 10 epochs x 13, plus about 74 s each")


# -- through compare itself: the console, the counts, the stop ------------------------------------------------

def test_a_one_configuration_run_says_its_counts_its_estimate_and_that_its_model_is_weak(tmp_path, capsys):
    runner.run_compare(dataset="digits", configs=["dnormal_learned_sigma"], epochs=1, latent_dim=2, hidden=(8,),
                       k=2, iwae_examples=20, jit_compile=False, out=str(tmp_path), verbose=2)
    said = capsys.readouterr().out
    assert "; 1 configuration, 1 epoch each." in said
    assert said.count("Estimated time to train and score 1 configuration: about ") == 1
    assert "(an estimate from the first epoch of dnormal_learned_sigma: " in said
    rows = json.loads((tmp_path / "results.json").read_text())
    model = next(r for r in rows if r["kind"] == "model")
    marginals = next(r for r in rows if r["name"] == MARGINALS)
    assert model["bits_per_dim"] > marginals["bits_per_dim"]  # one epoch of a tiny network on 1,350 images
    assert "Every model is weak here (integer images). The best model, `dnormal_learned_sigma`" in said
    text = (tmp_path / "report.md").read_text()
    assert "**Every model is weak here.**" in text and "every configuration trained 1 epoch," in text
    assert len(outputs.learning_curves_figure(rows).axes) == 2


def test_a_stopped_run_says_its_one_finished_configuration_is_in(tmp_path, monkeypatch):
    real = runner._run_one

    def second_is_stopped(config, *args, **kwargs):
        if config.name == "logistic_mixture":
            os.kill(os.getpid(), signal.SIGINT)
        return real(config, *args, **kwargs)

    monkeypatch.setattr(runner, "_run_one", second_is_stopped)
    with pytest.raises(RunInterrupted) as stopped:
        runner.run_compare(dataset="digits", configs=["dnormal_learned_sigma", "logistic_mixture"], epochs=1,
                           latent_dim=2, hidden=(8,), k=2, iwae_examples=5, jit_compile=False, codecs=False,
                           out=str(tmp_path), verbose=0)
    assert "the 1 finished configuration is in" in str(stopped.value)
