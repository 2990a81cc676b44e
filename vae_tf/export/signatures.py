"""The SavedModel's signatures: names, inputs and outputs, as TensorFlow Serving sees them.

Signatures (``D`` is the model's ``event_shape``, ``L`` its ``latent_dim``)::

    serving_default  x (batch, *D)  -> reconstruction (batch, *D), elbo (batch,)
    encode           x (batch, *D)  -> z_mean (batch, L), z_log_var (batch, L)
    decode           z (batch, L)   -> mean (batch, *D)
    sample           num (), seed () int32 -> images (num, *D)
    elbo             x (batch, *D)  -> elbo, reconstruction_nll, kl (each (batch,), nats)
"""

import tensorflow as tf

#: Signature name -> (input names, output names), as written into the SavedModel.
SIGNATURES = {
    "serving_default": (("x",), ("reconstruction", "elbo")),
    "encode": (("x",), ("z_mean", "z_log_var")),
    "decode": (("z",), ("mean",)),
    "sample": (("num", "seed"), ("images",)),
    "elbo": (("x",), ("elbo", "reconstruction_nll", "kl")),
}


def input_signatures(model):
    images = tf.TensorSpec((None,) + tuple(model.event_shape), tf.float32, name="x")
    return {
        "serving_default": [images],
        "encode": [images],
        "decode": [tf.TensorSpec((None, model.latent_dim), tf.float32, name="z")],
        "sample": [tf.TensorSpec((), tf.int32, name="num"), tf.TensorSpec((), tf.int32, name="seed")],
        "elbo": [images],
    }


def describe_signatures(model):
    """One line per signature, e.g. ``encode: x float32 (batch, 28, 28, 1) -> z_mean float32 (batch, 50), ...``."""
    def dims(shape):
        return "(" + ", ".join("batch" if d is None else str(d) for d in shape) + ")" if len(shape) else "scalar"

    event, latent = tuple(model.event_shape), model.latent_dim
    output_shapes = {
        "reconstruction": (None,) + event, "elbo": (None,), "reconstruction_nll": (None,), "kl": (None,),
        "z_mean": (None, latent), "z_log_var": (None, latent), "mean": (None,) + event, "images": ("num",) + event,
    }
    lines = []
    for name, specs in input_signatures(model).items():
        inputs = ", ".join(f"{spec.name} {spec.dtype.name} {dims(spec.shape.as_list())}" for spec in specs)
        outputs = ", ".join(f"{out} float32 {dims(output_shapes[out])}" for out in SIGNATURES[name][1])
        lines.append(f"{name}: {inputs} -> {outputs}")
    return lines


