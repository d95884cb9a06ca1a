"""The bundled library, built whole (slow: CI runs it; locally `./run.sh test -m slow`).

Every track: -16 +/- 0.5 LUFS and at most -1 dBTP on the MP3 itself (ffmpeg's ebur128 meter), every spoken
sentence found (by cross-correlation with its own clip) within 10 ms of where the plan says it is (after
LAME's fixed delay, which decoders play: the MP3 has no Xing frame to tell them), the MP3's duration as
planned, chapters and a transcript, and the library's page, playlist and manifest beside them.
"""

import json
import re
import subprocess

import numpy as np
import pytest
from click.testing import CliRunner

from meditations.cli.commands import main
from helpers import ROOT, decode, ffmpeg, ffmpeg_duration

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("library")
    result = CliRunner().invoke(main, ["build", str(ROOT / "scripts"), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    return out, json.loads((out / "library.json").read_text())


def tracks():
    names = sorted(p.stem for p in (ROOT / "scripts").glob("*.yaml") if p.name != "library.yaml")
    assert len(names) >= 12
    return names


def ebur128(path):
    text = subprocess.run([ffmpeg(), "-hide_banner", "-nostats", "-i", str(path), "-af", "ebur128=peak=true",
                           "-f", "null", "-"], capture_output=True, text=True).stderr
    summary = text[text.rindex("Summary:"):]
    return (float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1)),
            float(re.search(r"True peak:\s+Peak:\s+(-?[\d.]+) dBFS", summary).group(1)))


@pytest.mark.parametrize("name", tracks())
def test_every_bundled_track_meets_the_loudness_target(built, name):
    out, _ = built
    integrated, peak = ebur128(out / f"{name}.mp3")
    assert abs(integrated - -16.0) <= 0.5, integrated
    assert peak <= -1.0, peak


@pytest.mark.parametrize("name", tracks())
def test_every_bundled_track_sounds_where_its_plan_says(built, engine, name):
    from scipy.signal import correlate

    from meditations.mixing.foreground import speech_samples
    from meditations.building.clips import plan_with_speech as plan
    from meditations.building.track import load

    out, manifest = built
    record = next(t for t in manifest["tracks"] if t["file"] == f"{name}.mp3")
    timeline = plan(load(ROOT / "scripts" / f"{name}.yaml"), engine)
    rate = timeline.sample_rate
    assert abs(timeline.duration - record["duration"]) < 0.05
    assert abs(ffmpeg_duration(out / f"{name}.mp3") - timeline.duration) < 0.1
    audio = decode(out / f"{name}.mp3", rate)
    # Each sentence's own clip is found in the MP3 by cross-correlation: where it really starts, even when it
    # opens with a consonant too soft to hear over the bed.
    for event in (e for e in timeline.events if e.kind == "speech" and e.clip):
        clip = speech_samples(event.clip, rate, event.end - event.start)[: int(0.4 * rate)]
        lo = event.start - int(0.1 * rate)
        segment = audio[lo: event.start + int(0.1 * rate) + clip.size]
        score = correlate(segment, clip, mode="valid", method="fft")
        energy = np.sqrt(np.convolve(segment ** 2, np.ones(clip.size), mode="valid") * np.sum(clip ** 2))
        best = int(np.argmax(score / np.maximum(energy, 1e-12)))
        assert (score / np.maximum(energy, 1e-12))[best] > 0.6, event.text
        assert abs((lo + best - event.start) / rate) <= 0.010, (event.text, (lo + best - event.start) / rate)
    assert [c["title"] for c in record["chapters"]] == [c.title for c in timeline.chapters]
    assert len(record["chapters"]) >= 3
    transcript = (out / f"{name}.vtt").read_text()
    assert transcript.count(" --> ") >= sum(1 for e in timeline.events if e.kind == "speech")


def test_the_library_publishes_itself(built):
    out, manifest = built
    assert len(manifest["tracks"]) == len(tracks())
    playlist = (out / "library.m3u8").read_text()
    assert playlist.startswith("#EXTM3U") and playlist.count("#EXTINF:") == len(tracks())
    page = (out / "index.html").read_text()
    assert all(f'{t["file"]}' in page for t in manifest["tracks"])
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page
