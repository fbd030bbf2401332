"""The one recurrence the generator needs: S(t) = a·S(t-1) + x(t) along days.

It gives AR(1) weather anomalies and exponentially decaying memories of bad experiences.
scipy.signal is imported on first use: it costs two seconds of import, and every CLI
command would otherwise pay for it.
"""

from __future__ import annotations

import numpy as np


def decayed_sum(x: np.ndarray, decay: float) -> np.ndarray:
    """Run S(t) = decay·S(t-1) + x(t) along the last axis, starting from S = 0."""
    from scipy.signal import lfilter

    return np.asarray(lfilter([1.0], [1.0, -decay], x, axis=-1))
