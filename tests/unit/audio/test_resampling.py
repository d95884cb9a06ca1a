"""The numpy resampler and limiter filters against scipy's (which rendering no longer imports)."""

import numpy as np
import pytest
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import resample_poly

from meditations.audio.loudness import LIMITER_HOLD, LIMITER_RAMP, _running
from meditations.audio.resampling import polyphase as resample


@pytest.mark.parametrize("up, down", [(2, 1), (160, 147), (320, 441), (1, 1)])
def test_resampling_matches_scipy(up, down):
    audio = (np.random.default_rng(3).standard_normal(22050) * 0.2).astype(np.float32)
    ours = resample(audio, up, down)
    assert ours.dtype == np.float32 and ours.size == -(-audio.size * up // down)
    assert np.max(np.abs(ours - resample_poly(audio, up, down))) < 1e-6


def test_the_limiters_running_minimum_and_mean_match_scipy():
    values = np.random.default_rng(4).random(5000).astype(np.float32)
    ours = _running(_running(values, LIMITER_HOLD, np.min), LIMITER_RAMP, np.mean)
    theirs = uniform_filter1d(minimum_filter1d(values, LIMITER_HOLD, mode="nearest"), LIMITER_RAMP, mode="nearest")
    assert np.max(np.abs(ours - theirs)) < 1e-6
