"""Speech, then the plan: what a script needs before it can be planned (its clips synthesized into the
cache, and their lengths; its recordings and bell sounds measured), then the pure planner (plan/) given
the results. Used by render, build, plan, preview and validate.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

from meditations.audio import (
    MIN_SOUND_SECONDS,
    Meter,
    edge_fade,
    encoder_band_hz,
    inaudible,
    integrated_loudness,
    read_audio_file,
    sounding_seconds,
    too_short,
    trim_quiet,
)
from meditations.model import (
    AudioFormat,
    Bell,
    Breathe,
    Location,
    Problem,
    RenderError,
    Say,
    Script,
    ScriptError,
    Timeline,
    cue_texts,
    spoken,
    walk,
)
from meditations.planning import Clip, ClipLengths, Recordings, plan
from meditations.speaking import ENGINE_SAMPLE_RATE, SpeechEngine, SpeechRequest, load_clip, request_for, resolve_voices

VOICE_REFERENCE_LUFS = -20.0  # used when a script has no synthesized speech to match recordings to


def plan_with_speech(script: Script, engine: SpeechEngine, progress=None) -> Timeline:
    """The exact timeline of a script, synthesizing its missing clips into the cache first (progress(done,
    total), if given, hears of each clip made)."""
    voice_ids = resolve_voices(script, engine)
    requests = speech_requests(script, voice_ids)
    lengths = synthesize(requests, engine, progress)
    recordings = measure_recordings(script, lengths)
    return plan(script, clip_lengths(script, voice_ids, lengths), recordings)


def speech_requests(script: Script, voice_ids: dict) -> dict[SpeechRequest, Location]:
    """Every clip the script needs, with where it is asked for (for locating failures)."""
    requests: dict[SpeechRequest, Location] = {}
    for text, settings, location in spoken(script):
        requests.setdefault(request_for(text, settings, voice_ids), location)
    return requests


def synthesize(requests: dict[SpeechRequest, Location], engine: SpeechEngine,
               progress=None) -> dict[SpeechRequest, int]:
    """Make sure every clip is cached (progress(done, total) hears of each one made); returns each request's
    length in engine samples."""
    failures = engine.synthesize(requests, progress)
    if failures:
        raise ScriptError([Problem(requests[f.request],
                                   f"speech synthesis failed for '{_short(f.request.text)}': {f.reason}")
                           for f in failures])
    lengths = {}
    for request in requests:
        clip = load_clip(request.key())
        if clip is None:
            raise RenderError("the speech cache lost a clip while rendering; run the command again")
        lengths[request] = int(clip.size)
    return lengths


def clip_lengths(script: Script, voice_ids: dict, lengths: dict[SpeechRequest, int]) -> ClipLengths:
    """The planner's view of the clips: each (text, voice settings) spoken, with its clip's key and length."""
    clips = {}
    for text, settings, _ in spoken(script):
        request = request_for(text, settings, voice_ids)
        clips[(text, settings)] = Clip(request.key(), lengths[request])
    return clips


def check_sounds(script: Script) -> None:
    """What validate checks of a script's sound files, as plan and render find it: every recording can be
    heard and plays within the limit, every bell sound reads, and the background file's header is sound and it
    holds enough to loop (its length does not matter otherwise: a bed is read only as far as the track needs)."""
    measure_recordings(script, {})
    background = script.background
    if background is not None and background.sound == "file" and background.file is not None:
        rate = script.audio.sample_rate
        try:
            if read_audio_file(background.file, rate, MIN_SOUND_SECONDS).size < int(MIN_SOUND_SECONDS * rate):
                raise RenderError(too_short(background.file.name))  # as the mixer finds it (audio.LoopedFile)
        except RenderError as exc:
            if background.location is None:
                raise
            raise ScriptError([Problem(background.location, str(exc))]) from None


def check_cues(script: Script, engine: SpeechEngine) -> None:
    """What validate checks beyond the file: voices exist, and every spoken breathing cue fits its phase
    (only the cue words are synthesized, not the whole script)."""
    voice_ids = resolve_voices(script, engine)
    breathing = [step for step in walk(script.steps) if isinstance(step, Breathe) and cue_texts(step)]
    if not breathing:
        return
    cues_only = replace(script, steps=tuple(breathing), length=None)
    lengths = synthesize(speech_requests(cues_only, voice_ids), engine)
    plan(cues_only, clip_lengths(cues_only, voice_ids, lengths))


def measure_recordings(script: Script, lengths: dict[SpeechRequest, int]) -> Recordings:
    """Each recording's length at the track's rate and the gain that matches it to the voice (ScriptError for
    one that would not be heard: silent, too short, or nothing in the band the MP3 keeps); then each bell
    sound file's length."""
    return Recordings(_voice_recordings(script, lengths), _bell_sounds(script))


def _voice_recordings(script: Script, lengths: dict[SpeechRequest, int]) -> dict[Path, tuple[int, float]]:
    says = [step for step in walk(script.steps) if isinstance(step, Say) and step.recording is not None]
    if not says:
        return {}
    rate, band = script.audio.sample_rate, encoder_band_hz(script.audio)
    reference = _voice_loudness(lengths, band)
    measured: dict[Path, tuple[int, float]] = {}
    for say in says:
        assert say.recording is not None
        if say.recording in measured:
            continue
        where = say.recording_location or say.location
        try:
            audio = trim_quiet(read_audio_file(say.recording, rate), rate)
        except RenderError as exc:
            raise ScriptError([Problem(where, str(exc))]) from None
        # As the mixer plays it (edges faded: a cut-off tone's click is not what is heard), in the MP3's band.
        loudness = loudness_of(edge_fade(audio.copy(), rate), rate, band) if audio.size else -math.inf
        problem = _unheard(say.recording.name, audio, loudness, script.audio)
        if problem:
            raise ScriptError([Problem(where, problem)])
        measured[say.recording] = (audio.size, reference - loudness)
    return measured


def _unheard(name: str, audio, loudness: float, audio_format: AudioFormat) -> str:
    """Why a recording (its sound trimmed) would not be heard in the track, or "". Its loudness is measured in
    the band the MP3 keeps: a recording of a 17 kHz tone is loud in the mix and silent in the MP3."""
    if audio.size == 0:
        return f"{name} is silent"
    if sounding_seconds(audio, audio_format.sample_rate) < MIN_SOUND_SECONDS:
        return too_short(name)
    if not math.isfinite(loudness):
        return inaudible(name, audio_format)
    return ""


def _bell_sounds(script: Script) -> dict[Path, float]:
    seconds: dict[Path, float] = {}
    for step in walk(script.steps):
        if isinstance(step, Bell) and step.ring is None and step.sound is not None and step.sound not in seconds:
            try:
                seconds[step.sound] = read_audio_file(step.sound, 8000).size / 8000
            except RenderError as exc:
                raise ScriptError([Problem(step.location, str(exc))]) from None
    return seconds


def _voice_loudness(lengths: dict[SpeechRequest, int], band: float) -> float:
    """The loudness of the synthesized speech in a script (a sample of its clips), in the band the MP3 keeps."""
    import numpy as np

    clips = [load_clip(request.key()) for request in list(lengths)[:40]]
    found = [c for c in clips if c is not None and c.size]
    if not found:
        return VOICE_REFERENCE_LUFS
    return loudness_of(np.concatenate(found).astype(np.float32) / 32768.0, ENGINE_SAMPLE_RATE, band)


def loudness_of(audio, rate: int, band: float | None = None) -> float:
    """Integrated loudness of a whole clip (of its band below `band` Hz, if given)."""

    meter = Meter(rate, band)
    meter.feed(audio)
    meter.finish()
    return integrated_loudness(meter.energy())


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
