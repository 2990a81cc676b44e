"""VAE.fit / evaluate progress bars never count past the end of an epoch (keras-team/keras#20861).

At the default ``steps_per_execution=8`` Keras 3.15 alone prints "104/100" for a 100-step epoch.
"""

import re

import numpy as np
import pytest
import tensorflow as tf

import vae_tf
from vae_tf.models.base import DEFAULT_STEPS_PER_EXECUTION

EVENT = (8, 8, 1)
COUNT = re.compile(r"(?<![\w.])(\d+)/(\d+|Unknown)\b")


def make_vae():
    model = vae_tf.VAE(vae_tf.networks.mlp_encoder(2, (16,)), vae_tf.networks.mlp_decoder((16,)),
                       vae_tf.layers.IndependentBernoulli(EVENT), seed=0)
    model.compile(jit_compile=False)  # default steps_per_execution
    return model


def counts(printed):
    """Every "done/total" a progress bar printed (ANSI colour codes removed), "Epoch i/n" lines excluded."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", printed)
    plain = "\n".join(line for line in re.split(r"[\r\n\b]+", plain) if not line.startswith("Epoch "))
    return [(int(done), None if total == "Unknown" else int(total)) for done, total in COUNT.findall(plain)]


@pytest.fixture(autouse=True)
def print_every_update(monkeypatch):
    """Keras skips bar updates less than 0.05 s apart, so a fast step could hide the overshoot: print them all."""
    import keras

    progbar = keras.utils.Progbar
    original = progbar.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **{**kwargs, "interval": 0.0})

    monkeypatch.setattr(progbar, "__init__", init)


@pytest.fixture(scope="module")
def x(digits):
    assert DEFAULT_STEPS_PER_EXECUTION == 8
    return (digits[:1000] > 0.5).astype("float32")  # 100 steps of 10: not a multiple of 8


def test_fit_with_validation_ends_each_epoch_on_its_step_count(x, capsys):
    make_vae().fit(x, batch_size=10, epochs=2, validation_data=(x[:95],), verbose=1)
    seen = counts(capsys.readouterr().out)
    assert seen and all(total == 100 and 1 <= done <= 100 for done, total in seen), seen
    assert [c for c in seen if c[0] == 100] and (104, 100) not in seen


def test_fit_on_a_dataset_of_unknown_length_counts_the_steps_that_ran(x, capsys):
    """The first epoch has no total: it ends on the real count (13), which later epochs use."""
    dataset = tf.data.Dataset.from_tensor_slices(x[:130]).filter(lambda image: True).batch(10)
    assert dataset.cardinality() == tf.data.UNKNOWN_CARDINALITY
    make_vae().fit(dataset, epochs=2, verbose=1)
    seen = counts(capsys.readouterr().out)
    assert seen and all(done <= 13 and total in (None, 13) for done, total in seen), seen
    assert (13, 13) in seen


def test_evaluate_counts_never_pass_the_total(x, capsys):
    model = make_vae()
    model.evaluate(x, batch_size=10, verbose=1)
    known = counts(capsys.readouterr().out)
    assert known and max(done for done, _ in known) == 100 and {t for _, t in known} == {100}, known
    unknown = tf.data.Dataset.from_tensor_slices(x[:130]).filter(lambda image: True).batch(10)
    model.evaluate(unknown, verbose=1)
    seen = counts(capsys.readouterr().out)
    # Evaluation has no step counter: it shows the steps certainly run, a total only when known.
    assert seen and all(done <= 13 and total in (None, 13) for done, total in seen), seen


def test_own_progbar_logger_and_silent_runs_are_left_alone(x, capsys):
    import keras

    mine = keras.callbacks.ProgbarLogger()
    history = make_vae().fit(x[:100], batch_size=10, epochs=1, verbose=1, callbacks=[mine])
    assert mine.model is not None and np.isfinite(history.history["loss"][0])
    assert counts(capsys.readouterr().out)  # the user's own logger printed the bar
    make_vae().fit(x[:100], batch_size=10, epochs=1, verbose=0)
    make_vae().fit(x[:100], None, 10, 1, 0)  # positional batch_size, epochs, verbose still work
    assert capsys.readouterr().out == ""


def test_keras_alone_still_miscounts(x, capsys):
    """Why StepCountingProgbarLogger exists: this fails once the installed Keras counts right by itself
    (keras-team/keras#21422 released); then delete the class and these tests' reason to be."""
    import keras

    make_vae().fit(x, batch_size=10, epochs=1, verbose=1, callbacks=[keras.callbacks.ProgbarLogger()])
    seen = counts(capsys.readouterr().out)
    assert (104, 100) in seen, f"Keras {keras.__version__} no longer overshoots the step count: {seen}"
