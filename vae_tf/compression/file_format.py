"""The compressed file: a fixed preamble, a JSON header, and the ANS stack as little-endian 32-bit words.

Layout (all integers little-endian)::

    offset  size  field
    0       8     magic  b"VAETFBB\\n"
    8       2     format version (uint16), currently 3
    10      4     header length H in bytes (uint32)
    14      H     header: UTF-8 JSON (see FileHeader)
    14 + H  4 W   payload: W words (uint32) of the ANS stack, W = header["payload_words"]

The header holds what the decoder needs and what it checks: the images' shape, dtype and
count; their SHA-256 (``ImagesDigest``); the model's weight fingerprint; the coder parameters (latent bits,
batch size, seed words); the payload's length, and a SHA-256 of header and payload; for a folder, each image's
relative file name, size and mode, and the size they were resized to, if any. A file is checked in full
(magic, version, length, payload hash, model fingerprint) before any decoding starts.
"""

import dataclasses
import hashlib
import json
import struct

import numpy as np

from vae_tf.compression.tables import CODER_PRECISION
from vae_tf.errors import CompressedFileError

MAGIC = b"VAETFBB\n"
VERSION = 3
#: Why each older version cannot be read (version 1 coded the discretized normal and the logistic
#: mixture with level tables from log-masses; version 2 uses CDF differences, other integers; version 3
#: hashes the images batch by batch and can hold a folder's file names).
_OLD_VERSIONS = {
    1: "it was written by an older vae-tf whose level probabilities differ from this one's (format 1, before "
       "the fast level tables); decompress it with the vae-tf that wrote it",
    2: "it was written by an older vae-tf (format 2, before folders: the images hashed as one array); decompress "
       "it with the vae-tf that wrote it",
}
_PREAMBLE = struct.Struct("<8sHI")


@dataclasses.dataclass
class FileHeader:
    """What a compressed file says about its contents and how they were coded.

    Attributes:
        shape, dtype: the original array's shape and NumPy dtype string (e.g. ``"|u1"``).
        count: number of images coded (the product of the batch dimensions; the folder's images).
        num_levels: ``L``; values are integers ``0..L-1``.
        event_shape, latent_dim, likelihood: what the model was.
        model_fingerprint: SHA-256 prefix of the model's weights (``coding_model.model_fingerprint``).
        images_sha256: ``ImagesDigest`` of the images as coded.
        latent_bits: each latent unit is coded as one of ``2^latent_bits`` equal-prior-mass bins.
        batch_size: the largest coding batch; the schedule is ``coding_batches(count, batch_size)``.
        seed, seed_words: the initial random words on the stack (bits-back's start-up cost).
        payload_words: the ANS stack's length in 32-bit words.
        payload_sha256: SHA-256 of the header (this field blank) and the payload.
        name: the array's name in the ``.npz`` it came from (``decompress`` writes it back under it); None for a
            folder.
        coder_precision: bits of the coder's fixed-point probabilities (constriction's 24).
        files: for a folder, ``[relative name, height, width, mode]`` of each image in coding order, as stored
            (mode "L" or "RGB" after the loader's conversions); None for an array.
        image_size: ``[H, W]`` the folder's images were resized to before coding (``--image-size``), or None.
    """

    shape: tuple
    dtype: str
    count: int
    num_levels: int
    event_shape: tuple
    latent_dim: int
    likelihood: str
    model_fingerprint: str
    images_sha256: str
    latent_bits: int
    batch_size: int
    seed: int
    seed_words: int
    payload_words: int
    payload_sha256: str
    name: str = "x_test"
    coder_precision: int = CODER_PRECISION
    files: list = None
    image_size: list = None

    def to_json(self):
        d = dataclasses.asdict(self)
        d["shape"], d["event_shape"] = list(self.shape), list(self.event_shape)
        return json.dumps(d, sort_keys=True, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_json(cls, blob):
        d = json.loads(blob.decode("utf-8"))
        missing = [f.name for f in dataclasses.fields(cls) if f.name not in d]
        if missing:
            raise ValueError(f"header lacks {', '.join(missing)}")
        d = {f.name: d[f.name] for f in dataclasses.fields(cls)}
        d["shape"], d["event_shape"] = tuple(int(v) for v in d["shape"]), tuple(int(v) for v in d["event_shape"])
        return cls(**d)


class ImagesDigest:
    """SHA-256 (hex) of images coded in batches: of ``"dtype|shape|"``, then of each coding batch's own SHA-256 (its
    values in that dtype, C order) in batch order. The decompressor, which decodes the batches last to first and
    need not hold them all, computes the same number."""

    def __init__(self, dtype, shape, num_batches):
        self._dtype = np.dtype(dtype)
        self._head = f"{self._dtype.str}|{tuple(int(v) for v in shape)}|".encode()
        self._batches = [b""] * int(num_batches)

    def add(self, index, batch):
        """Batch ``index``'s values (cast to the digest's dtype)."""
        values = np.ascontiguousarray(np.asarray(batch).astype(self._dtype, copy=False))
        self._batches[index] = hashlib.sha256(values.tobytes()).digest()

    def hexdigest(self):
        return hashlib.sha256(self._head + b"".join(self._batches)).hexdigest()


def _content_sha256(header, payload):
    """SHA-256 of the header (with this hash left blank) and the payload: any flipped byte shows."""
    digest = hashlib.sha256(dataclasses.replace(header, payload_sha256="").to_json())
    digest.update(payload)
    return digest.hexdigest()


def pack(header, payload_words):
    """The file's bytes from a header and the payload (``uint32`` words)."""
    payload = np.asarray(payload_words, dtype="<u4").tobytes()
    header = dataclasses.replace(header, payload_words=len(payload) // 4, payload_sha256="")
    header = dataclasses.replace(header, payload_sha256=_content_sha256(header, payload))
    blob = header.to_json()
    return _PREAMBLE.pack(MAGIC, VERSION, len(blob)) + blob + payload


def header_size(data):
    """Bytes before the payload."""
    return _PREAMBLE.size + _PREAMBLE.unpack_from(data)[2]


def unpack(data, source="the data"):
    """``(FileHeader, payload as native uint32 words)``; raises :class:`CompressedFileError` for any damage."""
    data = bytes(data)
    if len(data) < _PREAMBLE.size or data[:len(MAGIC)] != MAGIC:
        raise CompressedFileError(f"{source} is not a vae-tf compressed file (no {MAGIC[:-1].decode()} magic at the start).")
    _, version, length = _PREAMBLE.unpack_from(data)
    if version in _OLD_VERSIONS:
        raise CompressedFileError(f"{source} is format version {version}; this vae-tf reads version {VERSION}: "
                                  f"{_OLD_VERSIONS[version]}.")
    if version != VERSION:
        raise CompressedFileError(f"{source} is format version {version}; this vae-tf reads version {VERSION}.")
    end = _PREAMBLE.size + length
    if len(data) < end:
        raise CompressedFileError(f"{source} is truncated: it ends inside its header ({len(data)} of {end} bytes).")
    try:
        header = FileHeader.from_json(data[_PREAMBLE.size:end])
    except (ValueError, TypeError, UnicodeDecodeError) as err:
        raise CompressedFileError(f"{source} has a corrupt header ({err}).") from None
    if header.coder_precision != CODER_PRECISION:
        raise CompressedFileError(f"{source} was coded at {header.coder_precision}-bit precision; this vae-tf codes "
                                  f"at {CODER_PRECISION} bits.")
    payload = data[end:]
    expected = 4 * header.payload_words
    if len(payload) < expected:
        raise CompressedFileError(
            f"{source} is truncated: {len(payload)} of {expected} payload bytes ({len(data)} bytes in all).")
    if len(payload) > expected:
        raise CompressedFileError(f"{source} has {len(payload) - expected} unexpected bytes after its payload.")
    if _content_sha256(header, payload) != header.payload_sha256:
        raise CompressedFileError(f"{source} is corrupt: its header and payload do not match the SHA-256 it holds.")
    return header, np.frombuffer(payload, dtype="<u4").astype(np.uint32)
