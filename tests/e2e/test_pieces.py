"""A track encoded in pieces on every core: joins that cannot be heard, exact timings, the loudness target,
and the same bytes every time (real eSpeak NG, the bundled ffmpeg's LAME, ffmpeg to read back)."""

import dataclasses
import re
import shutil
import subprocess

import numpy as np
import pytest
from helpers import decode, ffmpeg

from meditations.loading.settings import Settings
from meditations.encoding import pieces as segments
from meditations.files.cache import cache_root
from meditations.mixing.foreground import speech_samples
from meditations.mixing.finish import finished_blocks
from meditations.encoding.pieces import split_frames
from meditations.building.track import load, render, track_pieces

SCRIPT = """
title: Pieces
lead_in: 0
voice: {rate: 170}
background: {sound: brown-noise, level: -20dB}
pace: {sentence_gap: 0.5s}
steps:
  - say: Settle into a comfortable position.
  - pause: 2s
  - say: Let your breath find its own pace.
  - pause: 2s
  - say: Notice the air at your nostrils.
  - pause: 2s
  - say: Rest here for a moment.
  - pause: 2s
  - say: When you are ready, open your eyes.
"""


def audio_frames(path):
    """The MP3's bytes after its ID3v2 tag and its gapless header: the audio frames alone."""
    data = path.read_bytes()
    size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
    return b"".join(split_frames(data[10 + size:])[1:])


@pytest.fixture(scope="module")
def tracks(tmp_path_factory, engine):
    folder = tmp_path_factory.mktemp("pieces")
    path = folder / "pieces.yaml"
    path.write_text(SCRIPT.lstrip(), encoding="utf-8")
    script = load(path)
    patch = pytest.MonkeyPatch()
    try:
        patch.setattr(segments, "SEGMENT_SECONDS", 3.0)
        pieced = render(script, folder / "pieced.mp3", engine)
        shutil.rmtree(cache_root() / "mp3-pieces")  # encoded again, not reused: the encoder itself repeats
        again = render(script, folder / "again.mp3", engine)
        patch.setattr(segments, "SEGMENT_SECONDS", 10_000.0)
        whole = render(script, folder / "whole.mp3", engine)
    finally:
        patch.undo()
    return script, pieced, again, whole


def test_the_track_is_encoded_in_several_pieces_cut_in_pauses(tracks):
    _, pieced, _, _ = tracks
    patch = pytest.MonkeyPatch()
    patch.setattr(segments, "SEGMENT_SECONDS", 3.0)
    try:
        pieces = track_pieces(pieced.timeline)
    finally:
        patch.undo()
    assert len(pieces) >= 3
    speech = [(e.start, e.end) for e in pieced.timeline.events if e.audible]
    for piece in pieces[1:]:
        assert piece.start % 1152 == 0
        assert all(not (start - segments.PREROLL < piece.start < end + segments.PREROLL) for start, end in speech)


def test_two_renders_give_the_same_audio_frames(tracks):
    _, pieced, again, whole = tracks
    assert audio_frames(pieced.path) == audio_frames(again.path)
    # as many frames as a single encoder makes (their sizes differ by a padding byte here and there)
    assert len(split_frames(audio_frames(pieced.path))) == len(split_frames(audio_frames(whole.path)))


def test_joins_differ_from_a_single_encode_less_than_it_differs_from_the_mix(tracks):
    script, pieced, _, whole = tracks
    timeline = pieced.timeline
    rate = timeline.sample_rate
    mixed = np.concatenate(list(finished_blocks(timeline, script.background, script.finish)))
    mixed = np.round(mixed * 32767) / 32767
    joined, single = decode(pieced.path, rate), decode(whole.path, rate)
    assert joined.size == single.size
    patch = pytest.MonkeyPatch()
    patch.setattr(segments, "SEGMENT_SECONDS", 3.0)
    try:
        cuts = [p.start for p in track_pieces(timeline)[1:]]
    finally:
        patch.undo()
    for cut in cuts:
        lo, hi = cut - 2304, cut + 2304
        seam = np.sum((joined[lo:hi] - single[lo:hi]) ** 2)
        coding = np.sum((single[lo:hi] - mixed[lo:hi]) ** 2)
        assert seam <= coding, (cut, seam, coding)


def test_every_sentence_is_where_the_plan_says_within_10_ms(tracks):
    from scipy.signal import correlate

    _, pieced, _, _ = tracks
    timeline = pieced.timeline
    rate = timeline.sample_rate
    audio = decode(pieced.path, rate)  # the gapless header: ffmpeg removes LAME's delay
    spoken = [e for e in timeline.events if e.kind == "speech" and e.clip]
    assert len(spoken) == 5
    for event in spoken:
        clip = speech_samples(event.clip, rate, event.end - event.start)[: int(0.4 * rate)]
        lo = max(0, event.start - int(0.1 * rate))
        window = audio[lo:event.start + int(0.1 * rate) + clip.size]
        score = correlate(window, clip, mode="valid", method="fft")
        energy = np.sqrt(np.convolve(window ** 2, np.ones(clip.size), mode="valid") * np.sum(clip ** 2))
        best = int(np.argmax(score / np.maximum(energy, 1e-12)))
        assert abs((lo + best - event.start) / rate) <= 0.010, event.text


def test_the_pieced_track_meets_the_loudness_target(tracks):
    _, pieced, _, _ = tracks
    text = subprocess.run([ffmpeg(), "-hide_banner", "-nostats", "-i", str(pieced.path), "-af", "ebur128=peak=true",
                           "-f", "null", "-"], capture_output=True, text=True).stderr
    summary = text[text.rindex("Summary:"):]
    integrated = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))
    peak = float(re.search(r"True peak:\s+Peak:\s+(-?[\d.]+) dBFS", summary).group(1))
    assert abs(integrated - -16.0) <= 0.5, integrated
    assert peak <= -1.0, peak


def test_the_foreground_is_measured_from_its_clips_statistics_as_if_mixed(tracks):
    from meditations.audio.clipstats import foreground_stats
    from meditations.audio.loudness import Meter, integrated_loudness
    from meditations.mixing.foreground import ClipSource, mix_blocks

    _, pieced, _, _ = tracks
    timeline = pieced.timeline
    meter = Meter(timeline.sample_rate)
    for block in mix_blocks(timeline):
        meter.feed(block)
    meter.finish()
    stats = foreground_stats(timeline, ClipSource(timeline.sample_rate))
    assert abs(integrated_loudness(stats.energy()) - integrated_loudness(meter.energy())) < 0.01
    assert stats.peak().size == meter.peak().size
    assert np.all(stats.peak().astype(np.float32) >= meter.peak().astype(np.float32))  # the limiter's bound


def test_a_noise_bed_is_estimated_as_if_measured(tracks):
    from meditations.mixing.bed import noise_bed_levels
    from meditations.audio.loudness import Meter, integrated_loudness
    from meditations.mixing.bed import bed_blocks

    script, pieced, _, _ = tracks
    meter = Meter(pieced.timeline.sample_rate)
    for block in bed_blocks(pieced.timeline, script.background):
        meter.feed(block)
    meter.finish()
    energy, peaks = noise_bed_levels(pieced.timeline, script.background)
    assert abs(integrated_loudness(energy) - integrated_loudness(meter.energy())) < 0.2
    assert peaks.size == meter.peak().size
    assert np.all(peaks.astype(np.float32) >= meter.peak().astype(np.float32))


def test_a_re_render_for_another_name_encodes_only_the_pieces_that_changed(tmp_path, engine, monkeypatch):
    from meditations.encoding.pieces import PieceEncoder

    text = SCRIPT.replace("title: Pieces", "title: Pieces\nvariables: {name: Alex}").replace(
        "open your eyes.", "open your eyes, {name}.")
    path = tmp_path / "named.yaml"
    path.write_text(text.lstrip(), encoding="utf-8")
    monkeypatch.setattr(segments, "SEGMENT_SECONDS", 3.0)
    # In a 15 s track one changed sentence in five moves the loudness by hundredths of a decibel (in 25
    # minutes, thousandths), which the 0.05 dB level steps absorb in a long track but may not in this short
    # one: the second render keeps the first's gain and bed level, as a long track's would.
    import meditations.building.track as track_module

    real_measure, kept_levels = track_module.measure, []

    def same_levels(*args, **kwargs):
        levels = real_measure(*args, **kwargs)
        if kept_levels:
            return dataclasses.replace(levels, gain=kept_levels[0].gain, bed_scale=kept_levels[0].bed_scale)
        kept_levels.append(levels)
        return levels

    monkeypatch.setattr(track_module, "measure", same_levels)
    runs = []
    real = PieceEncoder._run
    monkeypatch.setattr(PieceEncoder, "_run", lambda self, pcm: runs.append(len(pcm)) or real(self, pcm))
    first = render(load(path), tmp_path / "alex.mp3", engine)
    encoded_first = len(runs)
    second = render(load(path, Settings(variables=(("name", "Jordan"),))), tmp_path / "jordan.mp3", engine)
    pieces = track_pieces(second.timeline)
    assert encoded_first == len(track_pieces(first.timeline)) >= 3
    # The last piece holds the name; the track's fade-out moves with its end into the one before it.
    assert len(runs) - encoded_first == 2
    kept = sum((p.end - p.start) // 1152 for p in pieces[:-2])
    assert split_frames(audio_frames(second.path))[:kept] == split_frames(audio_frames(first.path))[:kept]


def test_a_clips_loudness_from_its_statistics_is_the_meters():
    """A speech worker measures a voice's reference sentence from the clip statistics (numpy only, no
    scipy.signal in a worker): the same loudness as the BS.1770 meter."""
    from meditations.audio.clipstats import clip_loudness
    from meditations.audio.loudness import Meter, integrated_loudness

    rate = 22050
    rng = np.random.default_rng(5)
    t = np.arange(6 * rate) / rate
    audio = (0.2 * rng.standard_normal(t.size) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.7 * t))).astype(np.float32)
    audio[2 * rate:3 * rate] = 0.0  # a pause the gate leaves out
    meter = Meter(rate)
    meter.feed(audio)
    meter.finish()
    assert abs(clip_loudness(audio, rate) - integrated_loudness(meter.energy())) < 0.01
