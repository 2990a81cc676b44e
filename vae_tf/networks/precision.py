"""The arithmetic of a VAE's networks: float32, or bfloat16 where the CPU computes it natively.

A conv or resnet VAE spends most of a training step in its convolutions and their gradients. On a
CPU with bfloat16 units (x86 AVX512-BF16 or AMX, Arm's BF16 extension), oneDNN runs those in bfloat16
at 2-3x the float32 speed (``benchmarks/model_throughput.py``). ``precision="auto"`` therefore gives
such networks Keras' ``"mixed_bfloat16"`` policy there: weights stay float32 (so Adam's updates and
the saved weights are float32), the hidden layers compute in bfloat16. Two layers keep float32,
because their outputs are the parameters of distributions, where bfloat16's 8-bit mantissa would cost
likelihood (a logistic's location near 1 would be off by half of a 256-level bin):

* the posterior head of the encoder (``q(z|x)``'s mean and log-variance), and
* the decoder's last layer (the likelihood layer's parameters).

The likelihood layers compute in float32 whatever the policy (:mod:`vae_tf.layers.base`).
"""

import functools
import os

import keras
import tensorflow as tf

from vae_tf.errors import InvalidInputError
from vae_tf.networks.selection import all_sublayers, has_convolutions
from vae_tf.networks.architectures import GaussianEncoder

#: ``precision=`` values: ``"auto"`` picks one of the other two.
PRECISIONS = ("auto", "float32", "mixed_bfloat16")
#: ``/proc/cpuinfo`` flags of CPUs whose oneDNN kernels compute bfloat16 natively.
NATIVE_BFLOAT16_FLAGS = frozenset({"avx512_bf16", "amx_bf16", "bf16"})
#: Values of oneDNN's ``ONEDNN_MAX_CPU_ISA`` below its first bfloat16 instruction set.
ISAS_WITHOUT_BFLOAT16 = frozenset({"SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE",
                                   "AVX512_CORE_VNNI"})


@functools.lru_cache(maxsize=None)
def cpu_has_native_bfloat16(cpuinfo="/proc/cpuinfo"):
    """Whether this CPU has bfloat16 arithmetic units: a flag of :data:`~vae_tf.networks.precision.NATIVE_BFLOAT16_FLAGS` in ``cpuinfo``.

    Without them (an AVX2-only x86, say) bfloat16 is emulated and slower than float32. False when
    ``cpuinfo`` cannot be read (not Linux), and when ``ONEDNN_MAX_CPU_ISA`` caps oneDNN below its bfloat16
    kernels (e.g. ``AVX2``, how the benchmarks stand in for an AVX2-only CPU on a newer one).
    """
    if os.environ.get("ONEDNN_MAX_CPU_ISA", "").strip().upper() in ISAS_WITHOUT_BFLOAT16:
        return False
    try:
        with open(cpuinfo) as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip().lower() in ("flags", "features"):
                    return bool(NATIVE_BFLOAT16_FLAGS & set(value.split()))
    except OSError:
        pass
    return False


def choose_precision(encoder, decoder, precision="auto"):
    """``"float32"`` or ``"mixed_bfloat16"``: the networks' policy for ``precision``.

    ``"auto"`` is ``"mixed_bfloat16"`` when all of these hold, else ``"float32"``:

    * the encoder or decoder holds a convolution (bfloat16 was measured to pay off only there; an MLP
      VAE keeps float32 and its XLA-fused step);
    * the networks are the ones :func:`set_network_precision` knows where to keep float32 (a
      :class:`GaussianEncoder`, a ``keras.Sequential`` decoder);
    * the CPU computes bfloat16 natively (:func:`cpu_has_native_bfloat16`) and no GPU is visible.
    """
    if precision not in PRECISIONS:
        raise InvalidInputError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}.")
    if precision != "auto":
        return precision
    fast = has_convolutions(encoder, decoder) and _knows_parameter_layers(encoder, decoder) and bfloat16_pays_off()
    return "mixed_bfloat16" if fast else "float32"


def bfloat16_pays_off():
    """Whether bfloat16 convolutions run faster than float32 here: the CPU computes bfloat16 natively
    (:func:`cpu_has_native_bfloat16`) and no GPU is visible."""
    return cpu_has_native_bfloat16() and not tf.config.list_physical_devices("GPU")


def _knows_parameter_layers(encoder, decoder):
    return isinstance(encoder, GaussianEncoder) and isinstance(decoder, keras.Sequential) and bool(decoder.layers)


def set_network_precision(encoder, decoder, policy):
    """Gives every layer of ``encoder`` and ``decoder`` the Keras dtype ``policy``, except the two that output
    distribution parameters (the posterior head, the decoder's last layer), which stay ``"float32"``.

    Variables keep their dtype (float32 under either policy), so this may run on built layers.
    """
    if policy not in PRECISIONS[1:]:
        raise InvalidInputError(f"policy must be float32 or mixed_bfloat16, got {policy!r}.")
    if policy != "float32" and not _knows_parameter_layers(encoder, decoder):
        raise InvalidInputError("mixed_bfloat16 networks need a GaussianEncoder and a keras.Sequential decoder "
                                f"(got {type(encoder).__name__} and {type(decoder).__name__}): the layers that "
                                "output distribution parameters must stay float32.")
    keep = []
    if isinstance(encoder, GaussianEncoder):
        keep.append(encoder.posterior)
    if isinstance(decoder, keras.Sequential) and decoder.layers:
        keep.append(decoder.layers[-1])
    set_layers_precision((encoder, decoder), keep, policy)


def set_layers_precision(networks, float32_layers, policy):
    """Gives every layer inside ``networks`` the Keras dtype ``policy``, except those inside ``float32_layers`` (the
    layers that output distribution parameters), which get ``"float32"``: the rule of every model family."""
    if policy not in PRECISIONS[1:]:
        raise InvalidInputError(f"policy must be float32 or mixed_bfloat16, got {policy!r}.")
    keep = {id(sub) for layer in float32_layers for sub in all_sublayers(layer)}
    for network in networks:
        for layer in all_sublayers(network):
            layer.dtype_policy = "float32" if id(layer) in keep else policy


def network_precision(*networks):
    """``"mixed_bfloat16"`` if any layer of the ``networks`` computes in bfloat16, else ``"float32"``."""
    computes = {layer.dtype_policy.compute_dtype for net in networks for layer in all_sublayers(net)}
    return "mixed_bfloat16" if "bfloat16" in computes else "float32"
