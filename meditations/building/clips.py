"""Speech, then the plan: what a script needs before it can be planned (its clips synthesized into the
cache, and their lengths; its recordings and bell sounds measured), then the pure planner (plan/) given
the results. Used by render, build, plan, preview and validate.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from meditations.audio import Meter, integrated_loudness, read_audio_file, trim_quiet
from meditations.model import (
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


def plan_with_speech(script: Script, engine: SpeechEngine) -> Timeline:
    """The exact timeline of a script, synthesizing its missing clips into the cache first."""
    voice_ids = resolve_voices(script, engine)
    requests = speech_requests(script, voice_ids)
    lengths = synthesize(requests, engine)
    recordings = measure_recordings(script, lengths)
    return plan(script, clip_lengths(script, voice_ids, lengths), recordings)


def speech_requests(script: Script, voice_ids: dict) -> dict[SpeechRequest, Location]:
    """Every clip the script needs, with where it is asked for (for locating failures)."""
    requests: dict[SpeechRequest, Location] = {}
    for text, settings, location in spoken(script):
        requests.setdefault(request_for(text, settings, voice_ids), location)
    return requests


def synthesize(requests: dict[SpeechRequest, Location], engine: SpeechEngine) -> dict[SpeechRequest, int]:
    """Make sure every clip is cached; returns each request's length in engine samples."""
    failures = engine.synthesize(requests)
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
    """Each recording's length at the track's rate and the gain that matches it to the voice; then each bell
    sound file's length."""
    return Recordings(_voice_recordings(script, lengths), _bell_sounds(script))


def _voice_recordings(script: Script, lengths: dict[SpeechRequest, int]) -> dict[Path, tuple[int, float]]:
    says = [step for step in walk(script.steps) if isinstance(step, Say) and step.recording is not None]
    if not says:
        return {}
    rate = script.audio.sample_rate
    reference = _voice_loudness(lengths)
    measured: dict[Path, tuple[int, float]] = {}
    for say in says:
        assert say.recording is not None
        if say.recording in measured:
            continue
        try:
            audio = trim_quiet(read_audio_file(say.recording, rate), rate)
        except RenderError as exc:
            raise ScriptError([Problem(say.recording_location or say.location, str(exc))]) from None
        if audio.size == 0:
            raise ScriptError([Problem(say.recording_location or say.location, f"{say.recording.name} is silent")])
        measured[say.recording] = (audio.size, reference - loudness_of(audio, rate))
    return measured


def _bell_sounds(script: Script) -> dict[Path, float]:
    seconds: dict[Path, float] = {}
    for step in walk(script.steps):
        if isinstance(step, Bell) and step.ring is None and step.sound is not None and step.sound not in seconds:
            try:
                seconds[step.sound] = read_audio_file(step.sound, 8000).size / 8000
            except RenderError as exc:
                raise ScriptError([Problem(step.location, str(exc))]) from None
    return seconds


def _voice_loudness(lengths: dict[SpeechRequest, int]) -> float:
    """The loudness of the synthesized speech in a script (a sample of its clips)."""
    import numpy as np

    clips = [load_clip(request.key()) for request in list(lengths)[:40]]
    found = [c for c in clips if c is not None and c.size]
    if not found:
        return VOICE_REFERENCE_LUFS
    return loudness_of(np.concatenate(found).astype(np.float32) / 32768.0, ENGINE_SAMPLE_RATE)


def loudness_of(audio, rate: int) -> float:
    """Integrated loudness of a whole clip."""

    meter = Meter(rate)
    meter.feed(audio)
    meter.finish()
    return integrated_loudness(meter.energy())


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
