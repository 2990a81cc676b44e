"""What a likelihood layer's distribution is over: the one answer to "what kind of decoder is this".

Every likelihood layer has a ``support`` (a :class:`Support`). The rest of the package asks it
instead of testing class names: the input checks (which pixels are valid), bits/dim (exact, a
dequantized bound, or none), the SavedModel's in-graph checks and the bits-back codec (which
needs probabilities of integer levels).

The kinds::

    kind            values                           gives                       layers
    BINARY          {0, 1}                           P of binary images, exact   IndependentBernoulli
    LEVELS          k / (L - 1), k = 0..L-1          P of L-level images, exact  the discretized layers
    UNIT_INTERVAL   [0, 1]                           a density                   IndependentContinuousBernoulli
    REAL_LINE       the real line                    a density                   IndependentNormal

A Bernoulli decoder accepts grey values in [0, 1] too (binary cross-entropy trains on them),
but only binary images have a probability under it.

``num_levels`` is the one number of levels of the package: the data's ``L`` (``vae_tf.data``) is given to the
layer, which declares it in its support. For a density (the last two kinds) it is the ``L`` of the integer
images the density is scored against by the dequantized bound (or None when the layer was built without it).
"""

import dataclasses

#: Binary images (values 0 and 1), with an exact probability.
BINARY = "binary"
#: Images of ``L`` grey levels (values ``k / (L - 1)``), with an exact probability.
LEVELS = "levels"
#: A density on [0, 1].
UNIT_INTERVAL = "unit interval"
#: A density on the real line.
REAL_LINE = "real line"
#: Every kind of support, in the order above.
KINDS = (BINARY, LEVELS, UNIT_INTERVAL, REAL_LINE)


@dataclasses.dataclass(frozen=True)
class Support:
    """The values a decoder's distribution is over; ``num_levels`` is ``L`` for :data:`LEVELS` (2 for :data:`BINARY`),
    and for a density the ``L`` of the integer images it models (None: not known)."""

    kind: str
    num_levels: int = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"support kind must be one of {KINDS}, got {self.kind!r}.")
        if self.kind == BINARY and self.num_levels != 2:
            raise ValueError(f"a binary support has num_levels 2, got {self.num_levels!r}.")
        if (self.kind == LEVELS or self.num_levels is not None) and not (
                isinstance(self.num_levels, int) and self.num_levels >= 2):
            raise ValueError(f"a {self.kind} support has num_levels >= 2, got {self.num_levels!r}.")

    @classmethod
    def binary(cls):
        return cls(BINARY, 2)

    @classmethod
    def levels(cls, num_levels):
        return cls(LEVELS, int(num_levels))

    @classmethod
    def unit_interval(cls, num_levels=None):
        return cls(UNIT_INTERVAL, None if num_levels is None else int(num_levels))

    @classmethod
    def real_line(cls, num_levels=None):
        return cls(REAL_LINE, None if num_levels is None else int(num_levels))

    @property
    def exact(self):
        """True when the decoder gives the probability of integer images (levels, or binary pixels)."""
        return self.kind in (BINARY, LEVELS)

    @property
    def on_grid(self):
        """True when every input pixel must be a level ``k / (L - 1)``."""
        return self.kind == LEVELS

    @property
    def within_unit_interval(self):
        """True when every input pixel must lie in ``[0, 1]``."""
        return self.kind != REAL_LINE

    def __str__(self):
        if self.kind == LEVELS:
            return f"{self.num_levels} levels k / {self.num_levels - 1}"
        return self.kind if self.exact or self.num_levels is None else f"{self.kind}, for {self.num_levels}-level images"


def support_of(likelihood):
    """The :class:`Support` a likelihood layer declares; ``TypeError`` for an object that declares none."""
    support = getattr(likelihood, "support", None)
    if not isinstance(support, Support):
        raise TypeError(f"{type(likelihood).__name__} declares no support: a vae_tf likelihood layer has a "
                        f"`support` property (a vae_tf.support.Support).")
    return support
