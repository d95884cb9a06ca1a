"""Every track starts on time: its first MP3 frame is a gapless header (a LAME Info frame) that players read to
remove the encoder's delay and padding, so the decoded track is its plan sample for sample, and every bell,
breathing cue, chapter and transcript line is heard where the plan puts it (real eSpeak NG, the bundled
ffmpeg's LAME, Debian's ffmpeg and ffprobe, mutagen)."""

import json
import shutil
import subprocess

import numpy as np
import pytest
from helpers import decode, ffmpeg

from meditations.building.track import load, render
from meditations.encoding import Tags, encode_mp3, segments
from meditations.encoding.frames import BITRATES, frame_samples, frame_size
from meditations.encoding.gapless import TAG_CRC_AT, InfoFrame, crc16, info_bitrate, read_info_frame
from meditations.encoding.pieces import PieceEncoder
from meditations.encoding.verify import StreamCheck, TrackProblem, check_mp3
from meditations.loading.blocks import audio_problem
from meditations.model import CHANNELS, SAMPLE_RATES, AudioFormat
from meditations.model import BITRATES as ALLOWED_BITRATES

FORMATS = [AudioFormat(44100, 1, 64), AudioFormat(48000, 2, 128), AudioFormat(22050, 1, 32)]
SCRIPT = """title: On time
lead_in: 0.4s
fade_out: 0.5s
audio: {{sample_rate: {rate}, channels: {channels}, bitrate: {bitrate}}}
steps:
  - say: Settle in.
  - pause: 1s
  - chapter: The bell
  - bell: {{ring: 2s}}
  - pause: 1s
  - chapter: Breathing
  - breathe: {{pattern: 4-0-4, cycles: 1, cue: bell}}
  - pause: 1s
  - say: Rest here.
"""
ONSET_TOLERANCE = 0.005  # seconds: a sound heard within 5 ms of its planned sample


def script_for(folder, audio):
    path = folder / f"on-time-{audio.sample_rate}-{audio.channels}-{audio.bitrate}.yaml"
    path.write_text(SCRIPT.format(rate=audio.sample_rate, channels=audio.channels, bitrate=audio.bitrate))
    return load(path)


@pytest.fixture(scope="module")
def tracks(tmp_path_factory, engine):
    folder = tmp_path_factory.mktemp("gapless")
    return {audio: render(script_for(folder, audio), folder / f"{audio.sample_rate}.mp3", engine)
            for audio in FORMATS}


def debian(tool):
    path = shutil.which(tool)
    if not path:
        pytest.skip(f"{tool} is not installed (apt-get install ffmpeg); CI installs it")
    return path


def frames_of(result):
    return check_mp3(result.path, result.timeline.duration).frames


def decoded_samples(exe, path, channels):
    raw = subprocess.run([exe, "-v", "error", "-i", str(path), "-f", "f32le", "-"], capture_output=True,
                         check=True).stdout
    return len(raw) // 4 // channels


# ---------------------------------------------------------------- the header, as players read it

@pytest.mark.parametrize("audio", FORMATS, ids=str)
def test_ffprobe_reads_the_delay_and_the_frame_count(tracks, audio):
    result = tracks[audio]
    shown = json.loads(subprocess.run(
        [debian("ffprobe"), "-v", "error", "-show_entries", "stream=start_time,duration:stream_tags=encoder",
         "-of", "json", str(result.path)], capture_output=True, text=True, check=True).stdout)["streams"][0]
    rate = audio.sample_rate
    assert float(shown["start_time"]) == pytest.approx((576 + 529) / rate, abs=1e-6)  # the samples it skips
    assert float(shown["duration"]) == pytest.approx(frames_of(result) * frame_samples(rate) / rate, abs=1e-6)
    assert shown["tags"]["encoder"] == "LAME3.100"  # ffmpeg names the encoder only when the tag's CRC holds


@pytest.mark.parametrize("audio", FORMATS, ids=str)
def test_mutagen_reads_the_delay_and_the_padding(tracks, audio):
    from mutagen.mp3 import MP3, BitrateMode
    from mutagen.mp3._util import XingHeader

    result = tracks[audio]
    info = MP3(result.path).info
    assert info.length == pytest.approx(result.timeline.duration, abs=1e-9)
    assert (info.sample_rate, info.channels, info.bitrate) == (audio.sample_rate, audio.channels, audio.bitrate * 1000)
    assert (info.bitrate_mode, info.encoder_info, info.sketchy) == (BitrateMode.CBR, "LAME 3.100.0+", False)
    with open(result.path, "rb") as handle:
        handle.seek(info.frame_offset + XingHeader.get_offset(info))
        xing = XingHeader(handle)
    frames = frames_of(result)
    assert (xing.is_info, xing.frames, xing.bytes) == (True, frames, result.size - info.frame_offset)
    lame = xing.lame_header
    assert lame.encoder_delay_start == 576
    assert lame.encoder_padding_end == frames * frame_samples(audio.sample_rate) - 576 - result.timeline.length
    assert (lame.vbr_method, lame.bitrate, lame.music_length) == (1, audio.bitrate, xing.bytes)


@pytest.mark.parametrize("audio", FORMATS, ids=str)
def test_the_track_decodes_to_exactly_its_planned_samples(tracks, audio):
    result = tracks[audio]
    assert decoded_samples(ffmpeg(), result.path, audio.channels) == result.timeline.length
    assert decoded_samples(debian("ffmpeg"), result.path, audio.channels) == result.timeline.length


# ---------------------------------------------------------------- sounds, chapters and lines where planned

def onset(audio, start, rate):
    """Where a sound planned at sample `start` begins in the decoded audio: its first sample above a tenth of
    its peak (looked for from 100 ms before: a late or an early sound is found)."""
    peak = np.abs(audio[start:start + rate // 5]).max()
    lo = start - rate // 10
    return lo + int(np.argmax(np.abs(audio[lo:start + rate // 5]) > 0.1 * peak))


def speech_onset(audio, event, rate):
    """Where a sentence begins in the decoded audio: its own clip found by cross-correlation."""
    from scipy.signal import correlate

    from meditations.mixing.foreground import speech_samples

    clip = speech_samples(event.clip, rate, event.end - event.start)[: int(0.4 * rate)]
    lo = max(0, event.start - rate // 10)
    window = audio[lo:event.start + rate // 10 + clip.size]
    score = correlate(window, clip, mode="valid", method="fft")
    energy = np.sqrt(np.convolve(window ** 2, np.ones(clip.size), mode="valid") * np.sum(clip ** 2))
    return lo + int(np.argmax(score / np.maximum(energy, 1e-12)))


@pytest.mark.parametrize("audio", FORMATS, ids=str)
def test_every_bell_and_breathing_cue_is_heard_on_its_planned_sample(tracks, audio):
    result = tracks[audio]
    rate = audio.sample_rate
    decoded = decode(result.path, rate)
    bells = [e for e in result.timeline.events if e.kind == "bell"]
    assert len(bells) == 3  # the bell step, then the cue of the breath in and of the breath out
    for bell in bells:
        assert abs(onset(decoded, bell.start, rate) - bell.start) / rate <= ONSET_TOLERANCE, bell.start / rate


@pytest.mark.parametrize("audio", FORMATS, ids=str)
def test_chapters_and_transcript_lines_start_where_they_are_heard(tracks, audio):
    from mutagen.id3 import ID3

    from meditations.encoding.webvtt import parse_vtt

    result = tracks[audio]
    rate = audio.sample_rate
    decoded = decode(result.path, rate)
    chapters = {str(frame.sub_frames["TIT2"]): frame.start_time for frame in ID3(result.path).getall("CHAP")}
    assert list(chapters) == ["The bell", "Breathing"]
    events = result.timeline.events
    bell, breath_in = [e for e in events if e.kind == "bell"][:2]
    for title, sound in (("The bell", bell), ("Breathing", breath_in)):
        heard = onset(decoded, sound.start, rate) / rate
        assert abs(heard - chapters[title] / 1000) <= ONSET_TOLERANCE, title
    cues = parse_vtt(result.path.with_suffix(".vtt").read_text())
    spoken = [e for e in events if e.kind == "speech"]
    lines = [cue for cue in cues if not cue.text.startswith("(")]
    assert [cue.text for cue in lines] == ["Settle in.", "Rest here."] == [e.text for e in spoken]
    for cue, event in zip(lines, spoken, strict=True):
        assert abs(speech_onset(decoded, event, rate) / rate - cue.start) <= ONSET_TOLERANCE, cue.text


def test_a_re_render_is_the_same_bytes_from_the_pieces_cache(tracks, engine, tmp_path, monkeypatch):
    first = tracks[FORMATS[0]]
    runs = []
    real = PieceEncoder._run
    monkeypatch.setattr(PieceEncoder, "_run", lambda self, pcm: runs.append(len(pcm)) or real(self, pcm))
    again = render(first.script, tmp_path / "again.mp3", engine)
    assert runs == []  # every piece came from the cache
    assert again.path.read_bytes() == first.path.read_bytes()


# ---------------------------------------------------------------- every format the tool allows

def allowed_formats():
    """Every sample rate, channel count and bitrate a script may ask for that an MP3 can hold."""
    return [AudioFormat(rate, channels, kbits) for rate in SAMPLE_RATES for channels in CHANNELS
            for kbits in ALLOWED_BITRATES
            if audio_problem(AudioFormat(rate, channels, kbits)) is None
            and kbits in BITRATES[3 if frame_samples(rate) == 1152 else 2]]


def test_the_header_fits_a_frame_at_every_format_and_reads_back():
    formats = allowed_formats()
    # mono and stereo; MPEG-1 at 32 to 320 kbit/s, MPEG-2 at 8 to 160, MPEG-2.5 at 8 to 64
    assert len(formats) == 2 * (3 * 14 + 3 * 14 + 3 * 8)
    own_bitrate = 0
    for audio in formats:
        frame = InfoFrame(audio, frames=1234, padding=1000, stream_bytes=567_890, audio_crc=0xBEEF).encode()
        kbits = info_bitrate(audio)
        assert len(frame) == frame_size(audio.sample_rate, kbits), audio
        own_bitrate += kbits == audio.bitrate
        header = read_info_frame(frame)
        assert (header.frames, header.stream_bytes, header.music_bytes, header.delay, header.padding,
                header.audio_crc, header.intact) == (1234, 567_890, 567_890, 576, 1000, 0xBEEF, True), audio
    assert own_bitrate == len(formats) - 68  # only the smallest frames need a larger one for the header


@pytest.mark.parametrize("audio", [AudioFormat(8000, 2, 8), AudioFormat(11025, 1, 16), AudioFormat(12000, 2, 64),
                                   AudioFormat(16000, 1, 160), AudioFormat(24000, 2, 56),
                                   AudioFormat(32000, 2, 320), AudioFormat(48000, 1, 32)], ids=str)
def test_a_track_at_an_extreme_format_decodes_to_its_samples(audio, tmp_path):
    from mutagen.mp3 import MP3

    rate = audio.sample_rate
    length = int(1.7 * rate) + 123
    tone = 0.3 * np.sin(2 * np.pi * 220 * np.arange(length - rate // 2) / rate)
    mix = np.concatenate([np.zeros(rate // 2), tone]).astype(np.float32)  # half a second of silence, a tone
    path = tmp_path / "tone.mp3"
    check = StreamCheck(rate, length, (-100.0, 0.0), [])  # the render's checks, the decoded track's included
    encode_mp3(iter([mix]), audio, path, Tags("tone"), segments([], length, rate), check)
    assert check_mp3(path, length / rate, audio.channels, audio.bitrate).seconds == pytest.approx(length / rate)
    assert decoded_samples(ffmpeg(), path, audio.channels) == length
    assert MP3(path).info.length == pytest.approx(length / rate, abs=1e-9)
    assert abs(onset(decode(path, rate), rate // 2, rate) - rate // 2) / rate <= ONSET_TOLERANCE


# ---------------------------------------------------------------- a header that does not match its file

def stream_start(data):
    """Where a track's MP3 frames start: after its ID3v2 tag."""
    return 10 + ((data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9])


def damaged(path, tmp_path, change, fix_crc=True):
    """A copy of a track whose gapless header `change` altered (its own CRC made right again unless not)."""
    data = bytearray(path.read_bytes())
    start = stream_start(data)
    at = start + 4 + 17  # 44.1 kHz mono: the Xing fields follow 17 bytes of side information
    change(data, at)
    if fix_crc:
        data[at + TAG_CRC_AT:at + TAG_CRC_AT + 2] = crc16(bytes(data[start:at + TAG_CRC_AT])).to_bytes(2, "big")
    copy = tmp_path / "damaged.mp3"
    copy.write_bytes(data)
    return copy


def add(offset, amount, width=4):
    def change(data, at):
        value = int.from_bytes(data[at + offset:at + offset + width], "big") + amount
        data[at + offset:at + offset + width] = value.to_bytes(width, "big")
    return change


def test_a_header_that_does_not_match_its_file_is_an_error(tracks, tmp_path):
    result = tracks[AudioFormat(44100, 1, 64)]
    frames, duration = frames_of(result), result.timeline.duration
    without = bytearray(result.path.read_bytes())
    first = stream_start(without)
    stream = result.size - first
    del without[first:first + 208]  # the gapless header's frame: a track as meditate wrote them before
    (tmp_path / "old.mp3").write_bytes(without)
    with pytest.raises(TrackProblem) as failure:
        check_mp3(tmp_path / "old.mp3", duration, 1, 64)
    assert str(failure.value) == "it has no gapless header (a LAME Info frame): players would start it late"
    cases = [
        (add(20, 1, 1), False, "it is damaged: its gapless header fails its checksum"),
        (add(8, 1), True, f"its gapless header counts {frames + 1} MP3 frames where it holds {frames}"),
        (add(12, -1), True, f"its gapless header counts {stream - 1} bytes where it holds {stream}"),
        (add(148, 7), True, f"its gapless header counts {stream + 7} bytes where it holds {stream}"),
        (add(152, 1, 2), True, "it is damaged: its MP3 frames fail their checksum in its gapless header"),
        (add(60, 1, 1), True, "its gapless header's seek table does not match its frames"),
        (add(141, 1 << 12, 3), True, "its gapless header skips 577 samples where the encoder's delay is 576"),
        (add(141, 1152, 3), True,
         f"it holds {(result.timeline.length - 1152) / 44100:.2f} s of audio where the plan has {duration:.2f} s"),
    ]
    for change, fix_crc, problem in cases:
        with pytest.raises(TrackProblem) as failure:
            check_mp3(damaged(result.path, tmp_path, change, fix_crc), duration, 1, 64)
        assert str(failure.value) == problem
