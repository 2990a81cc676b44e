"""What a convolutional decoder needs of its images: ``(H, W, C)`` with ``H`` and ``W`` divisible by ``2 ** stages``."""

from vae_tf.errors import InvalidInputError


def check_image_shape(event_shape, stages, network):
    """``(H, W, C)`` as ints; :class:`InvalidInputError` unless rank 3 with ``H``, ``W`` divisible by ``2 ** stages``.

    Each of the ``stages`` stride-2 upsamplings doubles ``H`` and ``W``, so the decoder starts from
    ``(H / 2**stages, W / 2**stages)`` and only reaches ``(H, W)`` exactly when both divide.
    """
    shape = tuple(int(d) for d in event_shape)
    if len(shape) != 3:
        raise InvalidInputError(f"{network}: needs images of shape (height, width, channels), got event shape "
                                f"{shape}; use the mlp network for flat data.")
    h, w, _ = shape
    factor = 2 ** int(stages)
    if h % factor or w % factor:
        raise InvalidInputError(
            f"{network}: height and width {h}x{w} must be divisible by {factor} (2 ** {stages} stride-2 stages); "
            f"use fewer stages (widths), pad or crop the images, or the mlp network.")
    return shape
