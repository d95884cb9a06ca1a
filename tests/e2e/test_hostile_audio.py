"""Issue 22, third round: never a stale or silent track. The checks that decide "written" run on the MP3 as a
listener gets it, decoded; recordings that cannot be heard are refused when the script is checked; WAV headers
that lie are found before a sample is read; a background too quiet to measure plays as it is.

Every case uses real files (headers made with struct.pack), the real encoder and decoder, and the real speech
engine; every message is compared whole."""

from __future__ import annotations

import math
import os
import resource
import struct
import subprocess
import sys
import time
import wave

import numpy as np
import pytest
from click.testing import CliRunner
from helpers import ROOT, as_written, decode

from meditations.audio import encoder_band_hz, encoder_scale, read_audio_file
from meditations.audio.wav import layout, read_frames
from meditations.cli.commands import main
from meditations.encoding.listening import Listener
from meditations.encoding.pieces import encoder_command, ffmpeg_exe
from meditations.encoding.gapless import DECODER_DELAY, ENCODER_DELAY
from meditations.encoding.verify import SpeechSpan, StreamCheck, TrackProblem, check_mp3
from meditations.model import AudioFormat, RenderError

RATE = 44100
DEFAULT_FORMAT = AudioFormat()  # 44.1 kHz mono at 64 kbit/s


def run(*args, **env):
    return CliRunner(env=env or None).invoke(main, list(args))


def write_samples(path, samples, rate=RATE):
    """A 16-bit mono WAV holding these float samples."""
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1), handle.setsampwidth(2), handle.setframerate(rate)
        handle.writeframes(np.clip(np.round(np.asarray(samples) * 32767), -32768, 32767).astype("<i2").tobytes())


def tone(hz, seconds, amplitude=0.5, rate=RATE):
    return amplitude * np.sin(2 * np.pi * hz * np.arange(int(seconds * rate)) / rate)


def wav_bytes(channels, rate, bits, data, codec=1, data_size=None):
    """A WAV file by hand: what its header says is whatever we pass."""
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", codec, channels, rate, (rate * block) & 0xFFFFFFFF, block, bits)
    size = len(data) if data_size is None else data_size
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", size) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


RECORDING = "title: x\nsteps:\n  - say: Hello there.\n  - say: {text: hi, recording: r.wav}\n"
BELL = "title: x\nsteps:\n  - say: Hello there.\n  - bell: {sound: r.wav}\n"
BACKGROUND = "title: x\nbackground: {sound: r.wav}\nsteps:\n  - say: Hello there.\n  - pause: 2s\n"
AT = {"recording": (RECORDING, "s.yaml:4:32"), "bell": (BELL, "s.yaml:4:11"), "background": (BACKGROUND, "s.yaml:2:21")}


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def refused_everywhere(message, commands=("validate", "plan", "render")):
    """Each command refuses the script with exactly `message` (one line, exit 1) and writes no track."""
    for command in commands:
        result = run(command, "s.yaml")
        assert (result.exit_code, result.stderr) == (1, message + "\n"), command
    assert not os.path.exists("audio_out")


# ---------------------------------------------------------------- recordings that cannot be heard

HF_PROBLEM = ("r.wav cannot be heard in the track: below 16.5 kHz, all an MP3 keeps at 44100 Hz and 64 kbit/s mono, "
              "it is quieter than -70 LUFS")
SHORT_PROBLEM = "r.wav is too short to be heard: it holds under 0.1 s of sound"


@pytest.mark.parametrize("samples, problem", [
    (np.array([0.5]), SHORT_PROBLEM),  # one sample: a click, boosted to the voice's level
    (np.concatenate([np.zeros(RATE), tone(440, 0.05), np.zeros(RATE)]), SHORT_PROBLEM),  # 50 ms of sound in 2 s
    (tone(17000, 2.0), HF_PROBLEM),  # all above the encoder's low-pass: encoded to silence
    (0.5 * np.sin(2 * np.pi * np.cumsum(np.linspace(17000, 20000, 2 * RATE)) / RATE), HF_PROBLEM),
], ids=["one sample", "a click in silence", "a 17 kHz tone", "a sweep from 17 to 20 kHz"])
def test_a_recording_that_cannot_be_heard_is_refused_where_it_is_named(work, samples, problem):
    write_samples(work / "r.wav", samples)
    (work / "s.yaml").write_text(RECORDING)
    refused_everywhere(f"s.yaml:4:32: {problem}")


def test_a_tone_the_encoder_keeps_at_a_higher_bitrate_is_heard(work):
    """The band is the encoder's at the track's format: at 128 kbit/s mono it reaches 20 kHz, and the same
    17 kHz recording is kept, matched to the voice and heard in the decoded track."""
    write_samples(work / "r.wav", tone(17000, 2.0))
    (work / "s.yaml").write_text("title: x\naudio: {bitrate: 128}\nsteps:\n  - say: {text: hi, recording: r.wav}\n")
    assert run("validate", "s.yaml").stdout == "1 script valid\n"
    result = run("render", "s.yaml")
    assert result.exit_code == 0, result.stderr
    heard = decode(work / "audio_out" / "s.mp3")
    spectrum = np.abs(np.fft.rfft(heard))
    assert abs(np.fft.rfftfreq(heard.size, 1 / RATE)[spectrum.argmax()] - 17000) < 5


def test_a_recording_just_long_enough_is_heard(work):
    write_samples(work / "r.wav", np.concatenate([np.zeros(RATE // 2), tone(440, 0.12), np.zeros(RATE // 2)]))
    (work / "s.yaml").write_text(RECORDING)
    assert run("validate", "s.yaml").stdout == "1 script valid\n"


# ---------------------------------------------------------------- WAV headers that lie

@pytest.mark.parametrize("kind", ["recording", "bell", "background"])
@pytest.mark.parametrize("header, problem", [
    (dict(channels=0, rate=RATE), "its WAV header says it has no channels"),
    (dict(channels=1, rate=0), "its WAV header says it plays at 0 Hz, where meditate reads 1 to 384000 Hz"),
    (dict(channels=1, rate=4_000_000_000), "its WAV header says it plays at 4000000000 Hz, where meditate reads 1 "
                                           "to 384000 Hz"),
], ids=["no channels", "0 Hz", "4 GHz"])
def test_a_header_meditate_cannot_use_is_located(work, kind, header, problem):
    (work / "r.wav").write_bytes(wav_bytes(header["channels"], header["rate"], 16, bytes(20000)))
    script, where = AT[kind]
    (work / "s.yaml").write_text(script)
    commands = ("validate", "render") if kind == "background" else ("validate", "plan", "render")
    refused_everywhere(f"{where}: cannot read {work / 'r.wav'}: {problem}", commands)


def run_bounded(args, cwd, memory_mb=1024, env=None):
    """The command line in a process of its own, its address space limited: a reader that resamples a
    1 Hz header whole runs out of it (it reached 2.6 GB)."""
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))

    code = f"import sys; sys.argv = ['meditate'] + {args!r}; import cli; cli.main()"
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120,
                            preexec_fn=limit, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
    return result, time.monotonic() - started


@pytest.mark.parametrize("kind", ["recording", "bell"])
def test_a_one_hertz_header_is_too_long_before_anything_is_read(work, kind):
    """2 MB of samples that a header says play at 1 Hz: a million seconds, found from the header alone."""
    (work / "r.wav").write_bytes(wav_bytes(1, 1, 16, np.full(1_000_000, 3000, "<i2").tobytes()))
    script, where = AT[kind]
    (work / "s.yaml").write_text(script)
    result, seconds = run_bounded(["validate", "s.yaml"], work)
    assert (result.returncode, result.stderr) == (
        1, f"{where}: r.wav plays longer than the limit of 1800 seconds (MEDITATE_MAX_AUDIO_SECONDS)\n")
    assert seconds < 30


def test_a_one_hertz_background_is_read_only_as_far_as_the_track_needs(work):
    """A bed may play longer than the limit (only what the track needs is read): 2 MB at 1 Hz is read as a
    few samples. Here they are silent, and the bed plays as it is."""
    (work / "r.wav").write_bytes(wav_bytes(1, 1, 16, bytes(2_000_000)))
    (work / "s.yaml").write_text(BACKGROUND)
    result, seconds = run_bounded(["render", "s.yaml"], work)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("wrote audio_out/s.mp3 (") and seconds < 60


def test_the_duration_limit_is_checked_from_the_header(work):
    (work / "r.wav").write_bytes(wav_bytes(1, 8000, 16, bytes(2 * 8000 * 3)))  # 3 s by its header
    (work / "s.yaml").write_text(RECORDING)
    result = run("validate", "s.yaml", MEDITATE_MAX_AUDIO_SECONDS="2")
    assert (result.exit_code, result.stderr) == (
        1, "s.yaml:4:32: r.wav plays longer than the limit of 2 seconds (MEDITATE_MAX_AUDIO_SECONDS)\n")


@pytest.mark.parametrize("declared", [0xFFFFFFFF, 0xFFFFFFF0], ids=["streamed (unknown size)", "larger than the file"])
def test_a_data_size_past_the_end_of_the_file_reads_what_is_there(work, declared):
    samples = (tone(440, 1.0, rate=8000) * 32767).astype("<i2")
    (work / "r.wav").write_bytes(wav_bytes(1, 8000, 16, samples.tobytes(), data_size=declared))
    audio = read_audio_file(work / "r.wav", 8000)
    assert np.array_equal(audio, samples.astype(np.float32) / 32768)


def test_a_file_shorter_than_its_header_when_read(work):
    (work / "r.wav").write_bytes(wav_bytes(1, 8000, 16, bytes(16000)))
    wav = layout(work / "r.wav")
    with open(work / "r.wav", "r+b") as handle:
        handle.truncate(1000)
    with pytest.raises(RenderError) as failure:
        read_frames(work / "r.wav", wav, 8000)
    assert str(failure.value) == (f"cannot read {work / 'r.wav'}: it is shorter than its header says "
                                  "(it changed while read)")


def test_a_fifo_swapped_in_after_its_check_is_never_waited_on(work):
    os.mkfifo(work / "r.wav")
    with pytest.raises(RenderError) as failure:
        layout(work / "r.wav")
    assert str(failure.value) == f"cannot read {work / 'r.wav'}: it is not a regular file"


@pytest.mark.parametrize("codec, bits, channels", [(1, 8, 1), (1, 16, 2), (1, 24, 2), (1, 32, 1), (3, 32, 2),
                                                   (3, 64, 1), (0xFFFE, 24, 1)])
def test_every_pcm_and_float_layout_reads_as_its_samples(work, codec, bits, channels):
    signal = tone(300, 0.5, 0.6, rate=8000)
    width = bits // 8
    if codec == 3:
        raw = np.repeat(signal, channels).astype("<f4" if bits == 32 else "<f8").tobytes()
    elif bits == 8:
        raw = np.repeat(np.round(signal * 127 + 128), channels).astype(np.uint8).tobytes()
    else:
        ints = np.repeat(np.round(signal * (2 ** (bits - 1) - 1)), channels).astype("<i4")
        raw = b"".join(int(v).to_bytes(width, "little", signed=True) for v in ints) if bits == 24 \
            else ints.astype("<i2" if bits == 16 else "<i4").tobytes()
    data = wav_bytes(channels, 8000, bits, raw, codec=codec)
    if codec == 0xFFFE:  # extensible: a 40-byte fmt chunk whose sub-format GUID starts with PCM's code
        fmt = struct.pack("<HHIIHHHHI", codec, channels, 8000, 8000 * channels * width, channels * width, bits, 22,
                          bits, 4) + struct.pack("<H", 1) + bytes(14)
        body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(raw)) + raw
        data = b"RIFF" + struct.pack("<I", len(body)) + body
    (work / "r.wav").write_bytes(data)
    audio = read_audio_file(work / "r.wav", 8000)
    assert audio.size == signal.size and np.max(np.abs(audio - signal)) < 2 / 2 ** (bits - 1) + 1e-6


@pytest.mark.parametrize("source_rate", [48000, 22050, 8000, 44100])
def test_reading_part_of_a_wav_gives_the_same_samples_as_reading_it_whole(work, source_rate):
    write_samples(work / "r.wav", tone(523, 3.0, rate=source_rate) * np.linspace(0, 1, 3 * source_rate),
                  rate=source_rate)
    whole = read_audio_file(work / "r.wav", RATE)
    part = read_audio_file(work / "r.wav", RATE, seconds=1.3)
    assert np.array_equal(part, whole[:part.size]) and part.size == int(1.3 * RATE)


# ---------------------------------------------------------------- a background too quiet to measure

@pytest.mark.parametrize("bed", [
    np.random.default_rng(7).integers(-1, 2, 5 * RATE) / 32767,  # room tone a bit above digital silence
    np.zeros(5 * RATE),  # digital silence
], ids=["near-silent", "silent"])
def test_a_background_too_quiet_to_measure_plays_as_it_is(work, bed):
    write_samples(work / "r.wav", bed)
    (work / "s.yaml").write_text("title: x\nbackground: {sound: r.wav}\nsteps:\n  - say: Hello there.\n"
                                 "  - pause: 6s\n")
    result = run("render", "s.yaml")
    assert (result.exit_code, result.stderr) == (0, "")
    heard = decode(work / "audio_out" / "s.mp3")
    pause = heard[int(-5 * RATE):int(-3 * RATE)]  # inside the pause, the bed alone (the fade-out ends later)
    # As it is (under the track's own gain, a few dB): brought to its level it would be 50 dB louder.
    assert np.sqrt(np.mean(pause ** 2)) <= 10 * max(np.sqrt(np.mean(bed ** 2)), 1 / 32768)
    assert np.max(np.abs(pause)) < 10 ** (-60 / 20)


@pytest.mark.parametrize("bed", [np.full(3 * RATE, 0.3), tone(17000, 3.0)], ids=["a constant offset", "a 17 kHz tone"])
def test_a_loud_background_that_measures_nothing_is_refused(work, bed):
    """Loud samples, nothing a listener hears (the meter's K-weighting drops a constant offset, the encoder
    what lies above its band): played as it is it would be a wrong track, not a quiet one."""
    write_samples(work / "r.wav", bed)
    (work / "s.yaml").write_text(BACKGROUND)
    refused_everywhere(f"s.yaml:2:21: {HF_PROBLEM}", ("render",))


def test_a_background_of_a_few_samples_is_too_short_to_loop(work):
    write_samples(work / "r.wav", np.array([0.5, 0.5, 0.5]))
    (work / "s.yaml").write_text(BACKGROUND)
    refused_everywhere(f"s.yaml:2:21: {SHORT_PROBLEM}", ("validate", "render"))


# ---------------------------------------------------------------- the track as it is decoded

@pytest.fixture(scope="module")
def spoken(tmp_path_factory):
    """One real track: speech, a pause, speech."""
    folder = tmp_path_factory.mktemp("spoken")
    (folder / "s.yaml").write_text("title: x\nlead_in: 0.5s\nfade_out: 0.5s\nsteps:\n  - say: The first words.\n"
                                   "  - pause: 4s\n  - say: And the last.\n")
    result = subprocess.run([sys.executable, str(ROOT / "cli.py"), "render", "s.yaml"], cwd=folder,
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    return folder / "audio_out" / "s.mp3"


def heard(path, check, audio=DEFAULT_FORMAT):
    """What the listener of a render makes of an MP3 file (its loudness), or the TrackProblem it raises."""
    listener = Listener(audio, check)
    try:
        listener.feed(as_written(path))
        return listener.finish()
    finally:
        listener.stop()


def test_a_track_that_decodes_shorter_or_longer_than_its_plan(spoken):
    decoded = decode(spoken).size  # ffmpeg's samples: the track alone (its gapless header removes the rest)
    for planned in (decoded + RATE, decoded - 1):
        with pytest.raises(TrackProblem) as failure:
            heard(spoken, StreamCheck(RATE, planned, None, []))
        assert str(failure.value) == (f"it decodes to {decoded / RATE:.2f} s of audio where the plan "
                                      f"has {planned / RATE:.2f} s")


def test_sound_where_the_plan_speaks_is_looked_for_in_the_decoded_track(spoken):
    samples = decode(spoken)
    length = samples.size
    sounding = np.flatnonzero(np.abs(samples) > 10 ** (-50 / 20))
    gap = int(np.argmax(np.diff(sounding)))  # the pause: the longest stretch without sound
    start = sounding[gap] + RATE // 2
    check = StreamCheck(RATE, length, (-100.0, 0.0), [SpeechSpan(start, start + RATE, "s.yaml:9:9")])
    with pytest.raises(TrackProblem) as failure:
        heard(spoken, check)
    assert str(failure.value) == "it is silent where s.yaml:9:9 speaks"
    first = sounding[0]
    loud = StreamCheck(RATE, length, (-100.0, 0.0), [SpeechSpan(first, first + RATE, "s.yaml:4:10")])
    assert -18 < heard(spoken, loud) < -14


def test_damaged_mp3_data_behind_valid_frame_headers_does_not_decode(spoken, tmp_path):
    from meditations.encoding.verify import _skip_id3, frame_header

    data = bytearray(spoken.read_bytes())
    position, frames = _skip_id3(bytes(data[:10])), []
    while position < len(data):
        frames.append(position)
        position += frame_header(bytes(data), position)[0]
    damaged = tmp_path / "damaged.mp3"
    data[frames[len(frames) // 2] + 4:frames[len(frames) // 2] + 21] = b"\xff" * 17  # its side information
    damaged.write_bytes(data)
    length = decode(spoken).size
    with pytest.raises(TrackProblem) as failure:  # every frame header is valid: the audio's checksum is not
        check_mp3(damaged, length / RATE)
    assert str(failure.value) == "it is damaged: its MP3 frames fail their checksum in its gapless header"
    with pytest.raises(TrackProblem) as failure:
        heard(damaged, StreamCheck(RATE, length, (-100.0, 0.0), []))
    assert str(failure.value) == "it does not decode: its MP3 data is damaged"


def test_a_format_whose_encoder_loses_the_speech_is_never_written(work):
    """At 8 kbit/s in stereo at 24 kHz LAME runs out of bits and keeps little of the voice: the mix measures as
    planned, the MP3 does not. The render says so and keeps the previous track."""
    import meditations
    from meditations.building.clips import plan_with_speech
    from meditations.building.track import track_pieces
    from meditations.encoding import Tags, encode_mp3
    from meditations.encoding.verify import DecodedCheck
    from meditations.mixing import finished_blocks, measure
    from meditations.speaking.pool import SpeechEngine

    (work / "s.yaml").write_text("title: x\naudio: {sample_rate: 24000, channels: 2, bitrate: 8}\nsteps:\n"
                                 "  - say: Breathe in slowly, and let your shoulders soften.\n  - pause: 2s\n")
    (work / "audio_out").mkdir()
    (work / "audio_out" / "s.mp3").write_bytes(b"the previous track")
    script = meditations.load("s.yaml")
    with SpeechEngine(workers=1) as engine:
        timeline = plan_with_speech(script, engine)
    levels = measure(timeline, None, script.finish, script.audio)
    blocks = list(finished_blocks(timeline, None, script.finish, levels))
    mix = DecodedCheck(timeline.sample_rate, None, [])
    for block in blocks:
        mix.feed(block)
    assert mix.loudness() == pytest.approx(-16.0, abs=0.5)  # the mix is as planned: the old check wrote it
    side = work / "side.mp3"
    encode_mp3(iter(blocks), script.audio, side, Tags("x"), track_pieces(timeline))
    got = heard(side, StreamCheck(timeline.sample_rate, timeline.length, (-100.0, 0.0), []), script.audio)
    result = run("render", "s.yaml")
    planned = sorted({f"{script.finish.loudness:.1f}", f"{levels.expected_lufs:.1f}"}, key=float)
    assert (result.exit_code, result.stderr) == (
        1, f"Error: audio_out/s.mp3 was not written: it measures {got:.1f} LUFS where {' to '.join(planned)} LUFS "
           "was planned\n")
    assert (work / "audio_out" / "s.mp3").read_bytes() == b"the previous track"
    assert sorted(p.name for p in (work / "audio_out").iterdir()) == ["s.mp3"]


@pytest.mark.parametrize("sound", ["white-noise", "brown-noise"])
def test_a_track_lands_on_its_loudness_as_decoded(work, sound):
    """The mixer sets the level of what the listener gets: the encoder's scale (0.45 dB down at 64 kbit/s) and
    band (a white bed loses its top above 16.5 kHz) are made up for. Measured by ffmpeg's own EBU R128 meter."""
    (work / "s.yaml").write_text(f"title: x\nbackground: {{sound: {sound}, level: -6}}\nsteps:\n"
                                 "  - say: Breathe in slowly, and let your shoulders soften.\n  - pause: 8s\n")
    assert run("render", "s.yaml").exit_code == 0
    report = subprocess.run([ffmpeg_exe(), "-nostats", "-i", "audio_out/s.mp3", "-af", "ebur128", "-f", "null", "-"],
                            capture_output=True, text=True).stderr
    integrated = float(report.rsplit("I:", 1)[1].split("LUFS")[0])
    assert abs(integrated - -16.0) <= 0.7


# ---------------------------------------------------------------- the encoder's band and scale, as it is

def encoded_and_decoded(samples, audio):
    pcm = np.repeat(np.round(samples * 32767).astype("<i2")[:, None], audio.channels, axis=1)
    mp3 = subprocess.run(encoder_command(ffmpeg_exe(), audio), input=pcm.tobytes(), capture_output=True).stdout
    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "mp3", "-i", "pipe:0", "-f", "f32le", "pipe:1"],
                         input=mp3, capture_output=True).stdout
    delay = ENCODER_DELAY + DECODER_DELAY  # bare frames, no gapless header: ffmpeg plays both delays
    return np.frombuffer(raw, "<f4").reshape(-1, audio.channels).mean(axis=1)[delay:delay + samples.size]


@pytest.mark.parametrize("audio", [AudioFormat(), AudioFormat(44100, 2, 64), AudioFormat(22050, 1, 24),
                                   AudioFormat(8000, 1, 8), AudioFormat(48000, 2, 128), AudioFormat(32000, 1, 32),
                                   AudioFormat(16000, 2, 16), AudioFormat(44100, 1, 128)], ids=str)
def test_the_band_is_what_the_encoder_keeps(audio):
    rate, band = audio.sample_rate, encoder_band_hz(audio)
    noise = np.random.default_rng(1).standard_normal(3 * rate) * 0.1
    out = encoded_and_decoded(noise, audio)

    def power(signal):
        frames = signal[:signal.size // 2048 * 2048].reshape(-1, 2048) * np.hanning(2048)
        return (np.abs(np.fft.rfft(frames, axis=1)) ** 2).mean(axis=0)

    ratio = 10 * np.log10(power(out) / power(noise))
    at = np.fft.rfftfreq(2048, 1 / rate)
    below = (at > 0.85 * band) & (at < 0.95 * band)
    above = (at > 1.04 * band) & (at < 0.49 * rate)
    assert ratio[below].mean() > -3
    assert not above.any() or ratio[above].max() < -30


@pytest.mark.parametrize("bitrate", [8, 32, 64, 128, 160, 192, 224, 256, 320])
def test_the_scale_is_the_encoders(bitrate):
    audio = AudioFormat(44100 if bitrate >= 32 else 22050, 1, bitrate)
    signal = tone(440, 2.0, 0.2, rate=audio.sample_rate)
    out = encoded_and_decoded(signal, audio)
    inner = slice(audio.sample_rate // 5, -audio.sample_rate // 5)
    assert math.sqrt(np.mean(out[inner] ** 2) / np.mean(signal[inner] ** 2)) == pytest.approx(encoder_scale(audio),
                                                                                                abs=0.003)


@pytest.mark.parametrize("data", [
    wav_bytes(1, 8000, 12, bytes(1000)),  # 12 bits a sample
    b"RIFF" + struct.pack("<I", 1012) + b"WAVE" + b"data" + struct.pack("<I", 1000) + bytes(1000),  # data before fmt
    b"RIFF" + struct.pack("<I", 4) + b"WAVE" + b"".join(b"junk" + struct.pack("<I", 0) for _ in range(100)),
], ids=["12-bit", "no fmt chunk", "a hundred empty chunks"])
def test_a_wav_meditate_cannot_decode(work, data):
    (work / "r.wav").write_bytes(data)
    (work / "s.yaml").write_text(RECORDING)
    refused_everywhere(f"s.yaml:4:32: cannot read {work / 'r.wav'}: not a WAV file meditate can decode")


def test_a_wav_codec_meditate_does_not_read_itself_is_decoded_by_ffmpeg(work):
    write_samples(work / "pcm.wav", tone(440, 1.0, rate=8000), rate=8000)
    subprocess.run([ffmpeg_exe(), "-v", "error", "-i", "pcm.wav", "-c:a", "pcm_mulaw", "r.wav"], check=True)
    audio = read_audio_file(work / "r.wav", 8000)
    assert audio.size == 8000 and np.max(np.abs(audio - tone(440, 1.0, rate=8000))) < 0.02
