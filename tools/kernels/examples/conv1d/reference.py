"""Reference of the conv1d example: a "valid" correlation of x with the 7 taps, in float64."""

import numpy as np


def reference(n: int, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """y[i] = sum_k w[k] * x[i + k] for i < n (NumPy's correlate does exactly this in "valid" mode)."""
    y = np.correlate(x.astype(np.float64), w.astype(np.float64), mode="valid")
    assert y.shape == (n,)
    return y
