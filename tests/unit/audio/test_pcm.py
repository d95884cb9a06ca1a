"""The sample primitives: one resampler whose length the planner predicts, one trimmer for clips and recordings."""

import numpy as np
import pytest

from meditations.audio.pcm import rate_ratio, resample, resampled_length, trim_silence


@pytest.mark.parametrize("source, target", [(22050, 44100), (22050, 48000), (16000, 22050), (44100, 22050)])
def test_the_planned_length_is_the_resampled_length(source, target):
    for size in (1, 999, 22050, 12345):
        audio = np.random.default_rng(size).standard_normal(size).astype(np.float32)
        resampled = resample(audio, source, target)
        assert resampled.dtype == np.float32
        assert resampled.size == resampled_length(size, source, target)


def test_rate_ratio_is_in_lowest_terms():
    assert rate_ratio(22050, 48000) == (320, 147)
    assert rate_ratio(22050, 22050) == (1, 1)


def test_trimming_keeps_ten_ms_before_and_forty_after_the_loud_part():
    rate = 1000
    audio = np.zeros(1000, dtype=np.float32)
    audio[500:600] = 0.5
    trimmed = trim_silence(audio, rate, 0.005)
    assert trimmed.size == 10 + 100 + 40 and trimmed[10] == 0.5


def test_trimming_16_bit_clips_reads_the_loudest_negative_sample():
    clip = np.zeros(100, dtype="<i2")
    clip[50] = -32768  # its absolute value does not fit in 16 bits
    assert trim_silence(clip, 1000, 150).size == 10 + 1 + 40
    assert trim_silence(np.full(10, 150, dtype="<i2"), 1000, 150).size == 0
