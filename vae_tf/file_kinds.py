"""What kind of file a path is, from its first bytes: the one place that names a wrong file passed as a ``.npz``.

NumPy's ``np.load`` on a PNG says "Cannot load file containing pickled data when
allow_pickle=False", advice that misleads. :func:`not_an_npz_message` reads the file's magic
bytes instead and says what the file is and what to pass, e.g. ``'x.png' is a PNG image, not a
.npz dataset; pass the folder that holds it with --data DIR``. Standard library only: the
command line's argument types use it before NumPy is loaded.
"""

import os
import zipfile

NPZ = "a NumPy .npz archive"
KERAS = "a Keras model (.keras)"
ZIP = "a zip archive"
BROKEN_ZIP = "a truncated or corrupt zip archive"
TEXT = "a text file"
EMPTY = "an empty file"
UNKNOWN = "not a file format vae-tf knows"

#: (leading bytes, kind); RIFF....WEBP and BMP are checked in :func:`file_kind` (their magic has gaps).
MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"BZh", "bz2-compressed data"),
    (b"\xfd7zXZ\x00", "xz-compressed data"),
    (b"\x93NUMPY", "a single NumPy .npy array"),
    (b"\x89HDF\r\n\x1a\n", "an HDF5 file"),
)
IMAGE_KINDS = ("a PNG image", "a JPEG image", "a GIF image", "a WebP image", "a BMP image")

#: Bytes read to tell a kind: the longest magic, and enough to call a file text.
HEAD_BYTES = 4096


def _zip_kind(path):
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (OSError, zipfile.BadZipFile, EOFError):
        return BROKEN_ZIP
    if "config.json" in names:
        return KERAS
    if all(name.endswith(".npy") for name in names):  # what np.savez writes (an empty one too)
        return NPZ
    return ZIP


def file_kind(path):
    """The kind of the file at ``path`` as a phrase ("a PNG image", :data:`NPZ`, :data:`TEXT`, ...).

    Read from the leading bytes (a zip archive from its directory), never from the name.
    """
    with open(path, "rb") as f:
        head = f.read(HEAD_BYTES)
    if not head:
        return EMPTY
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(path)
    for magic, kind in MAGIC:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "a WebP image"
    if head[:2] == b"BM" and head[6:10] == b"\0\0\0\0" and len(head) >= 26:  # 'BM', file size, 4 reserved zero bytes
        return "a BMP image"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:  # a multi-byte character cut at HEAD_BYTES still counts as text
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return UNKNOWN
    return TEXT if "\0" not in text else UNKNOWN


def not_an_npz_message(path, expected="a .npz dataset", folder_hint="--data DIR"):
    """``None`` when ``path`` is a readable ``.npz``; else one line saying what it is and what to pass instead.

    ``folder_hint`` is how the caller passes a folder of images (an option or an argument).
    """
    kind = file_kind(path)
    if kind == NPZ:
        return None
    if kind in IMAGE_KINDS:
        advice = f"pass the folder that holds it with {folder_hint}"
    elif kind == KERAS:
        advice = "a model goes where the command takes MODEL"
    elif kind == ZIP:
        advice = f"if it holds images, unzip it and pass the folder with {folder_hint}"
    elif kind == "a single NumPy .npy array":
        advice = "save the arrays into a .npz with np.savez"
    elif kind == BROKEN_ZIP:
        advice = "it was cut short (an interrupted download or copy?): copy it again"
    else:
        advice = f"a .npz is written by np.savez; pass a folder of images with {folder_hint}"
    return f"{os.fspath(path)!r} is {kind}, not {expected}; {advice}"
