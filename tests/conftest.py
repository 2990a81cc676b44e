import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's 8x8 digits as (1797, 8, 8, 1) float32 in [0, 1]: ships with a dependency."""
    from sklearn.datasets import load_digits

    return (load_digits().images / 16.0).astype("float32")[..., None]


@pytest.fixture(scope="session")
def mnist_path():
    path = os.environ.get("VAE_TF_MNIST", "")
    if not path or not os.path.exists(path):
        pytest.skip("real MNIST not available: set VAE_TF_MNIST to a local mnist.npz (.ci/run sets it from ../shared/data)")
    return path
