"""KL-weight schedules (warm-up, any schedule) and TensorBoard image summaries."""

import glob
import os

import numpy as np
import pytest
import tensorflow as tf
import keras

import vae_tf
from vae_tf.callbacks import BetaSchedule, ImageSummaries, KLWarmup, cyclical_annealing
from vae_tf.callbacks import image_grid


def make_vae(beta=1.0, latent=4, **kwargs):
    return vae_tf.VAE(
        encoder=vae_tf.networks.mlp_encoder(latent_dim=latent, hidden=(32,)),
        decoder=vae_tf.networks.mlp_decoder(hidden=(32,)),
        likelihood=vae_tf.layers.IndependentBernoulli((8, 8, 1)),
        beta=beta,
        seed=1,
        **kwargs,
    )


@pytest.fixture(scope="module")
def binary_digits(digits):
    return (digits[:400] > 0.5).astype("float32")


def test_warmup_raises_beta_as_scheduled_and_the_compiled_step_reads_it(binary_digits, tmp_path):
    x = binary_digits
    model = make_vae(beta=0.8)
    model.compile(optimizer="adam")  # the default path: XLA and 8 steps per execution
    assert model.jit_compile and model.steps_per_execution > 1
    warmup = KLWarmup(epochs=3)
    h = model.fit(x, epochs=2, batch_size=50, verbose=0, callbacks=[warmup]).history
    np.testing.assert_allclose(h["beta"], [0.0, 0.8 / 3], rtol=1e-6)
    # Each epoch's loss is reconstruction + beta * KL with that epoch's beta: the compiled step
    # read the variable's new value (a Python float would have been baked in at the first trace).
    for loss, nll, kl, beta in zip(h["loss"], h["reconstruction_nll"], h["kl"], h["beta"]):
        np.testing.assert_allclose(loss, nll + beta * kl, rtol=1e-4)
    assert abs(h["loss"][1] - h["reconstruction_nll"][1]) > 0.1  # beta * KL is really there in epoch 2

    path = str(tmp_path / "warm.keras")
    model.save(path)
    again = keras.models.load_model(path)
    assert again.beta_target == pytest.approx(0.8)
    assert float(again.beta) == pytest.approx(0.8 / 3)  # the current value survives the round trip
    h2 = again.fit(x, epochs=5, initial_epoch=2, batch_size=50, verbose=0, callbacks=[KLWarmup(epochs=3)]).history
    np.testing.assert_allclose(h2["beta"], [1.6 / 3, 0.8, 0.8], rtol=1e-6)
    for loss, nll, kl, beta in zip(h2["loss"], h2["reconstruction_nll"], h2["kl"], h2["beta"]):
        np.testing.assert_allclose(loss, nll + beta * kl, rtol=1e-4)


@pytest.mark.parametrize("steps_per_execution", [1, 4])
def test_per_step_warmup_follows_the_global_step(binary_digits, steps_per_execution):
    model = make_vae(beta=0.5)
    model.compile(optimizer="adam", jit_compile=False, steps_per_execution=steps_per_execution)
    h = model.fit(binary_digits, epochs=2, batch_size=50, verbose=0, callbacks=[KLWarmup(steps=40)]).history
    # 8 steps per epoch; beta is set before each compiled call from the step it starts at, and reported as the
    # mean over the epoch's steps (a metric of train_step).
    for epoch, beta in enumerate(h["beta"]):
        steps = range(epoch * 8, (epoch + 1) * 8)
        used = [0.5 * min(1.0, s // steps_per_execution * steps_per_execution / 40) for s in steps]
        assert beta == pytest.approx(np.mean(used))


def test_beta_schedule_cyclical_and_bad_values(binary_digits):
    fn = cyclical_annealing(period=4, ramp_fraction=0.5, beta=2.0)
    assert [fn(t) for t in range(6)] == [0.0, 1.0, 2.0, 2.0, 0.0, 1.0]
    model = make_vae()
    model.compile(optimizer="adam", jit_compile=False)
    h = model.fit(binary_digits[:100], epochs=5, batch_size=50, verbose=0, callbacks=[BetaSchedule(fn)]).history
    assert h["beta"] == [0.0, 1.0, 2.0, 2.0, 0.0]
    with pytest.raises(ValueError, match="beta=nan at epoch 0"):
        model.fit(binary_digits[:100], epochs=1, verbose=0, callbacks=[BetaSchedule(lambda e: float("nan"))])
    with pytest.raises(ValueError, match="exactly one"):
        KLWarmup()
    with pytest.raises(ValueError, match="unit"):
        BetaSchedule(fn, unit="batch")


def test_beta_is_logged_without_a_schedule(binary_digits):
    model = make_vae(beta=0.25)
    model.compile(optimizer="adam", jit_compile=False)
    h = model.fit(binary_digits[:100], epochs=2, batch_size=50, verbose=0, validation_data=binary_digits[:50]).history
    # The validation loss includes beta KL too: val_beta is the weight it was computed with.
    assert h["beta"] == [0.25, 0.25] and h["val_beta"] == [0.25, 0.25]


def read_images(log_dir):
    """``{(tag, step): decoded image}`` from the event files under ``log_dir``."""
    found = {}
    for path in glob.glob(os.path.join(log_dir, "**", "events.out.tfevents.*"), recursive=True):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "images":
                    encoded = tf.make_ndarray(value.tensor)  # [width, height, png, ...]
                    found[(value.tag, event.step)] = tf.io.decode_png(encoded[2]).numpy()
    return found


def test_image_summaries_write_images_next_to_tensorboard_scalars(binary_digits, tmp_path):
    log_dir = str(tmp_path / "logs")
    model = make_vae()
    model.compile(optimizer="adam", jit_compile=False)
    model.fit(binary_digits, epochs=2, batch_size=50, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(log_dir), ImageSummaries(log_dir, binary_digits[:5], num_samples=9)])
    assert sorted(os.listdir(log_dir)) == ["images", "train"]
    images = read_images(log_dir)
    assert set(images) == {(tag, step) for tag in ("reconstructions", "samples") for step in (0, 1)}
    # 5 originals above their 5 reconstructions: 2 rows x 5 columns of 8x8 tiles with 1-pixel gaps.
    assert images[("reconstructions", 1)].shape == (2 * 9 + 1, 5 * 9 + 1, 1)
    assert images[("samples", 0)].shape == (3 * 9 + 1, 3 * 9 + 1, 1)
    assert images[("samples", 0)].std() > 0  # not a blank picture


def test_image_grid_and_bad_event_shapes():
    grid = image_grid(np.zeros((5, 2, 3, 1)), columns=2, pad=1)
    assert grid.shape == (3 * 3 + 1, 2 * 4 + 1, 1)
    assert grid[1:3, 1:4, 0].max() == 0 and grid[0, :, 0].min() == 1
    colour = image_grid(np.stack([np.full((2, 2, 3), c) for c in ((1.0, 0.0, 0.0), (0.0, 0.0, 1.0))]), columns=2, pad=0)
    assert colour.shape == (2, 4, 3) and colour[0, 0].tolist() == [1, 0, 0] and colour[0, 3].tolist() == [0, 0, 1]
    model = vae_tf.VAE(vae_tf.networks.mlp_encoder(2, (8,)), vae_tf.networks.mlp_decoder((8,)),
                       vae_tf.layers.IndependentBernoulli((10,)))
    model.compile(jit_compile=False)
    with pytest.raises(ValueError, match="event_shape is \\(10,\\)"):
        model.fit(np.zeros((20, 10), "float32"), epochs=1, verbose=0, callbacks=[ImageSummaries("unused", np.zeros((2, 10)))])


def test_epoch_timer_stops_at_the_first_step_past_the_budget_and_validates_the_cut_epoch(binary_digits):
    from vae_tf.callbacks import EpochTimer

    model = make_vae()
    model.compile(optimizer="adam", jit_compile=False, steps_per_execution=1)
    tiny = EpochTimer(budget_seconds=1e-6)  # spent by the first step: one step of four, then validation, then stop
    x = binary_digits[:200]
    h = model.fit(x, epochs=5, batch_size=50, verbose=0, validation_data=(x[:50], x[:50]), callbacks=[tiny]).history
    assert len(h["loss"]) == 1 and "val_loss" in h and tiny.stopped_by_budget and len(tiny.elapsed) == 1
    assert tiny.fractions == [0.25] and tiny.epochs_trained == 0.25
    ample = EpochTimer(budget_seconds=3600)  # the epoch count ends this run
    model.fit(binary_digits[:100], epochs=2, batch_size=50, verbose=0, callbacks=[ample])
    assert len(ample.elapsed) == 2 and not ample.stopped_by_budget and ample.epochs_trained == 2
    assert 0 < ample.elapsed[0] < ample.elapsed[1] and all(s <= e for s, e in zip(ample.seconds, ample.elapsed))
    for bad in (0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="time budget"):
            EpochTimer(budget_seconds=bad)
