"""Atomic writes: all or nothing, and the permissions open() would give (the user's umask), not mkstemp's 0600."""

import os
import stat

import pytest

from vae_tf.atomic_files import atomic_directory, write_atomically


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield 0o022
    os.umask(old)


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_written_file_gets_the_umask_and_replaces_the_old_one(tmp_path, umask_022):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    write_atomically(target, lambda f: f.write(b"new"))
    assert target.read_bytes() == b"new" and _mode(target) == 0o666 & ~umask_022
    assert os.listdir(tmp_path) == ["out.bin"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")

    def fail(f):
        f.write(b"half")
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        write_atomically(target, fail)
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["out.bin"]


def test_a_directory_appears_whole_or_not_at_all(tmp_path, umask_022):
    with atomic_directory(tmp_path / "1") as staging:
        (open(os.path.join(staging, "saved_model.pb"), "wb")).close()
        assert not (tmp_path / "1").exists()
    assert os.listdir(tmp_path / "1") == ["saved_model.pb"] and _mode(tmp_path / "1") == 0o777 & ~umask_022
    with pytest.raises(RuntimeError), atomic_directory(tmp_path / "2"):
        raise RuntimeError("killed mid-export")
    assert sorted(os.listdir(tmp_path)) == ["1"]


def test_a_saved_model_file_gets_the_umask(tmp_path, umask_022):
    import numpy as np

    import vae_tf
    from vae_tf.training import save_model_atomically

    model = vae_tf.VAE(vae_tf.networks.mlp_encoder(2, (4,)), vae_tf.networks.mlp_decoder((4,)),
                       vae_tf.layers.IndependentBernoulli((3, 3, 1)))
    model.build((None, 3, 3, 1))
    model(np.zeros((1, 3, 3, 1), "float32"))
    save_model_atomically(model, tmp_path / "m.keras")
    assert _mode(tmp_path / "m.keras") == 0o666 & ~umask_022 and os.listdir(tmp_path) == ["m.keras"]
