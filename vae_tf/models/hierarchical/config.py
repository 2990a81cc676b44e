"""What a hierarchical VAE is, as plain data: :class:`HierarchicalVAEConfig` (pythae-style, the model takes it).

The latent layers are images. They are listed from the top of the hierarchy (coarsest, generated
first) to the bottom (finest, next to the pixels); each has the shape ``(H / f, W / f, C)`` of an
``H x W`` image for a factor ``f = patch_size * 2**s``, ``s >= 0``: the network works on ``patch_size
x patch_size`` patches of the image (a space-to-depth stem, a depth-to-space output), then halves the
resolution once per step ``s`` of its bottom-up path. :meth:`HierarchicalVAEConfig.latent_shapes_for`
turns a configuration into the latent shapes for an image, or raises
:class:`~vae_tf.errors.InvalidInputError` in one line when they do not fit it.
"""

import dataclasses

from vae_tf.errors import InvalidInputError, check_integer, check_non_negative_number

#: How the posterior's parameters are predicted: as such, or as a shift of the prior's (NVAE, Vahdat & Kautz 2020).
POSTERIORS = ("absolute", "relative")


@dataclasses.dataclass
class HierarchicalVAEConfig:
    """One hierarchical VAE's architecture and regularisers.

    Attributes:
        latent_channels: ``C`` of every latent layer built from :attr:`layers_per_resolution`.
        layers_per_resolution: latent layers per resolution, the last entry at the finest latent resolution
            ``(H / patch_size, W / patch_size)``, each entry before it at half the resolution of the next:
            ``(2, 2)`` on CIFAR-10 with ``patch_size=2`` is two layers of ``8x8xC`` (the top) then two of
            ``16x16xC``; ``(1,)`` is one ``16x16xC`` layer, ``(1, 0)`` one ``8x8xC`` layer. Zeros leave a
            resolution without latents (its deterministic cells stay).
        latent_shapes: the latent layers' shapes ``(h, w, c)`` top to bottom, instead of the two above
            (None: use them). Resolutions must not decrease from the top down.
        width: channels of the deterministic path (bottom-up and top-down).
        cell_width: inner channels of a residual cell (None: ``width``).
        patch_size: side of the image patches the network sees at its finest resolution (1: every pixel).
        encoder_cells: residual cells per resolution of the bottom-up path.
        decoder_cells: residual cells after each latent layer of the top-down path.
        output_cells: residual cells at the finest resolution after the last latent layer.
        activation: a Keras activation name.
        posterior: ``"relative"`` (``q = N(mu_p + dmu, sigma_p * exp(ds))``, NVAE) or ``"absolute"``.
        free_bits: ``lambda >= 0`` nats per latent unit: each layer's batch-averaged KL is floored at
            ``lambda`` times its number of units (free bits per group, Kingma et al. 2016); 0 is off.
        min_scale: smallest standard deviation of a latent Gaussian.
        skip_gradient_norm: skip an update whose gradient's global norm exceeds this (VDVAE); 0 is off.
        skip_gradient_factor: skip an update whose gradient's global norm exceeds this many times the running mean
            of the gradient norms (a threshold that follows the loss's scale); 0 is off. Either skip also
            skips non-finite gradients, and adds ``grad_norm`` and ``skipped`` (the fraction) to the logs.
        soft_clamp: ``c > 0`` passes the latent heads' outputs (locations, log-scales, and the posterior's shifts
            of them) through ``c tanh(v / c)`` (NVAE); 0 is off.
    """

    latent_channels: int = 8
    layers_per_resolution: tuple = (2, 2)
    latent_shapes: tuple = None
    width: int = 64
    cell_width: int = None
    patch_size: int = 2
    encoder_cells: int = 1
    decoder_cells: int = 1
    output_cells: int = 1
    activation: str = "silu"
    posterior: str = "relative"
    free_bits: float = 0.0
    min_scale: float = 1e-3
    skip_gradient_norm: float = 0.0
    skip_gradient_factor: float = 0.0
    soft_clamp: float = 0.0

    def __post_init__(self):
        name = "HierarchicalVAEConfig"
        self.latent_channels = check_integer(self.latent_channels, f"{name}: latent_channels")
        self.layers_per_resolution = tuple(
            check_integer(n, f"{name}: layers_per_resolution entries", minimum=0) for n in self.layers_per_resolution)
        if self.latent_shapes is not None:
            shapes = tuple(tuple(s) for s in self.latent_shapes)
            if not shapes or any(len(s) != 3 for s in shapes):
                raise InvalidInputError(f"{name}: latent_shapes must be a non-empty list of (height, width, channels), "
                                        f"got {self.latent_shapes!r}.")
            self.latent_shapes = tuple(
                tuple(check_integer(d, f"{name}: latent_shapes sizes") for d in s) for s in shapes)
        elif sum(self.layers_per_resolution) == 0:
            raise InvalidInputError(f"{name}: layers_per_resolution={self.layers_per_resolution} holds no latent "
                                    "layer; give at least one.")
        self.width = check_integer(self.width, f"{name}: width")
        if self.cell_width is not None:
            self.cell_width = check_integer(self.cell_width, f"{name}: cell_width")
        self.patch_size = check_integer(self.patch_size, f"{name}: patch_size")
        for field in ("encoder_cells", "decoder_cells", "output_cells"):
            setattr(self, field, check_integer(getattr(self, field), f"{name}: {field}", minimum=0))
        if self.posterior not in POSTERIORS:
            raise InvalidInputError(f"{name}: posterior must be one of {POSTERIORS}, got {self.posterior!r}.")
        self.free_bits = check_non_negative_number(self.free_bits, f"{name}: free_bits", "nats per latent unit")
        if not self.min_scale > 0:
            raise InvalidInputError(f"{name}: min_scale must be > 0, got {self.min_scale!r}.")
        self.min_scale = float(self.min_scale)
        self.skip_gradient_norm = check_non_negative_number(self.skip_gradient_norm, f"{name}: skip_gradient_norm")
        self.skip_gradient_factor = check_non_negative_number(self.skip_gradient_factor,
                                                              f"{name}: skip_gradient_factor")
        self.soft_clamp = check_non_negative_number(self.soft_clamp, f"{name}: soft_clamp")

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    def to_dict(self):
        d = dataclasses.asdict(self)
        d["layers_per_resolution"] = list(self.layers_per_resolution)
        d["latent_shapes"] = None if self.latent_shapes is None else [list(s) for s in self.latent_shapes]
        return d

    @classmethod
    def from_dict(cls, d):
        return cls(**{f.name: d[f.name] for f in dataclasses.fields(cls) if f.name in d})

    def latent_shapes_for(self, event_shape):
        """The latent layers' shapes ``(h, w, c)`` for images of ``event_shape``, top to bottom.

        Raises :class:`~vae_tf.errors.InvalidInputError` (one line) for images that are not ``(H, W, C)``, sides that the
        patches do not divide, a hierarchy with more halvings than the image's sides allow, a latent shape
        that is not the image's at a factor ``patch_size * 2**s``, or resolutions that fall from the top down.
        """
        h, w = image_sides(event_shape)
        p = self.patch_size
        if h % p or w % p:
            raise InvalidInputError(f"patch_size={p} does not divide {h}x{w} images; use a patch_size that divides "
                                    "both sides (1 always does).")
        if self.latent_shapes is None:
            levels = len(self.layers_per_resolution)
            halvings = max_halvings(h // p, w // p)
            if levels - 1 > halvings:
                raise InvalidInputError(
                    f"layers_per_resolution={self.layers_per_resolution} spans {levels} resolutions, "
                    f"{levels - 1} halvings of {h // p}x{w // p} (the {h}x{w} image in {p}x{p} patches), which "
                    f"allows at most {halvings}: use at most {halvings + 1} entries or a smaller patch_size.")
            shapes = []
            for level, count in enumerate(self.layers_per_resolution):
                f = p * 2 ** (levels - 1 - level)
                shapes += [(h // f, w // f, self.latent_channels)] * count
            return tuple(shapes)
        previous = 0
        for shape in self.latent_shapes:
            factor = latent_factor(shape, h, w)
            if factor is None or factor % p or (factor // p) & (factor // p - 1):
                raise InvalidInputError(
                    f"latent shape {shape} does not fit {h}x{w} images in {p}x{p} patches: a latent layer must be "
                    f"({h // p}x{w // p}, or that halved a whole number of times) x channels.")
            if shape[0] < previous:
                raise InvalidInputError(f"latent_shapes {self.latent_shapes}: resolutions must not fall from the "
                                        "top (first) down; list the coarsest layers first.")
            previous = shape[0]
        return self.latent_shapes


def image_sides(event_shape):
    """``(H, W)`` of an ``(H, W, C)`` event shape; :class:`~vae_tf.errors.InvalidInputError` for any other rank."""
    shape = tuple(int(d) for d in event_shape)
    if len(shape) != 3:
        raise InvalidInputError(f"A hierarchical VAE needs images of shape (height, width, channels), got event "
                                f"shape {shape}.")
    return shape[0], shape[1]


def max_halvings(h, w):
    """How many times both sides halve exactly: ``max s`` with ``2**s`` dividing ``h`` and ``w``."""
    s = 0
    while h % 2 ** (s + 1) == 0 and w % 2 ** (s + 1) == 0:
        s += 1
    return s


def latent_factor(shape, h, w):
    """The integer factor ``f`` with ``shape[:2] == (h / f, w / f)``, or None when there is none."""
    lh, lw = shape[0], shape[1]
    if h % lh or w % lw or h // lh != w // lw:
        return None
    return h // lh
