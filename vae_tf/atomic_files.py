"""Writes that never leave a half-written file or directory behind, whenever the process dies.

Everything is written under a temporary name next to the target, then renamed into place
(``os.replace`` / ``os.rename`` are atomic on one file system): a reader sees the previous
version or the complete new one. Files get the permissions ``open()`` would give them
(``0o666`` less the umask; ``mkstemp`` alone would leave them ``0o600``), directories ``0o777``
less the umask, so a server running as another user can read an export. Standard library only.
"""

import contextlib
import os
import shutil
import tempfile
import uuid


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path, suffix=""):
    """Yields a temporary file name next to ``path``; on success the file written there replaces ``path``.

    On any exception the temporary file is removed and ``path`` is left as it was.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=suffix)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_atomically(path, write):
    """Calls ``write(binary_file)`` on a temporary file next to ``path``, then renames it to ``path``."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        write(f)


@contextlib.contextmanager
def atomic_directory(path):
    """Yields a new empty staging directory next to ``path``; on success it is renamed to ``path``.

    ``path`` must not exist or be an empty directory (which is replaced). On any exception the
    staging directory is removed.
    """
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    # os.mkdir honours the umask (mkdtemp would make it 0700).
    staging = os.path.join(parent, f".{os.path.basename(path)}.tmp-{uuid.uuid4().hex}")
    os.mkdir(staging)
    try:
        yield staging
        if os.path.isdir(path):
            os.rmdir(path)  # empty: the caller checked
        os.rename(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
