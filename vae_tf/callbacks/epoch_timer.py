"""Wall-clock seconds of each epoch's training phase, for throughput figures."""

import time

import keras


class EpochTimer(keras.callbacks.Callback):
    """Seconds spent in the training phase of each epoch (validation excluded).

    Keras runs validation after the last training step of an epoch, so an epoch's training
    phase is ``on_epoch_begin -> on_test_begin`` (or ``-> on_epoch_end`` without validation).
    """

    def __init__(self):
        super().__init__()
        self.seconds = []
        self._start = None

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def _stop(self):
        if self._start is not None:
            self.seconds.append(time.perf_counter() - self._start)
            self._start = None

    def on_test_begin(self, logs=None):
        self._stop()

    def on_epoch_end(self, epoch, logs=None):
        self._stop()
