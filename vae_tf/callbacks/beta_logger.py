"""The KL weight ``beta`` in each epoch's logs, next to the loss (``VAE.fit`` adds it)."""

import keras


class LogBeta(keras.callbacks.Callback):
    """Adds the KL weight to each epoch's logs as ``beta``, as Keras' LR callbacks add ``learning_rate``.

    Read once per epoch outside the compiled step, so training pays nothing for it; it runs after
    the user's callbacks (a per-epoch schedule has set that epoch's value) and before ``History``.
    """

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["beta"] = float(self.model.beta.numpy())


def with_beta_logger(callbacks):
    """``callbacks`` (a list or a ``CallbackList``) with a :class:`LogBeta` added."""
    if isinstance(callbacks, keras.callbacks.CallbackList):
        callbacks.append(LogBeta())
        return callbacks
    # First, so that `beta` is in the logs the progress bar and History see at the end of an epoch.
    return [LogBeta(), *(callbacks or [])]
