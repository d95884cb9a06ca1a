"""Which engine voice speaks each voice setting of a script: located errors that name what is available."""

from __future__ import annotations

from meditations.model import Problem, ScriptError, VoiceSettings, excerpt, scaled_rate, spoken
from meditations.speaking.engines.piper import ModelProblem, model_voice

from .engines import DEFAULT_ENGINE, Voice, engine_module
from .request import SpeechRequest
from .voices import resolve_voice


def voice_key(settings: VoiceSettings) -> tuple:
    """What picks a voice: the engine, the name and a model file."""
    return settings.engine or DEFAULT_ENGINE, settings.name, settings.model


def choose(settings: VoiceSettings, language: str, voices, root=None) -> Voice | str:
    """The voice for one voice setting, or the message saying why there is none. `voices` is a list of
    voices, or the speech pool (which then lists only the engines the script uses)."""
    engine = settings.engine or DEFAULT_ENGINE
    shown_language, name = excerpt(language), excerpt(settings.name) if settings.name is not None else None
    if settings.model is not None:
        try:
            return model_voice(str(settings.model), f"{_shown(settings.model, root)} (the library)")
        except ModelProblem as exc:
            return str(exc)
    offered = voices.voices_of(engine) if hasattr(voices, "voices_of") else [v for v in voices if v.engine == engine]
    voice = resolve_voice(settings.name, language, offered)
    if voice is not None:
        return voice.problem or voice
    if engine == DEFAULT_ENGINE:
        if settings.name is None:
            return f"no voice speaks the language '{shown_language}'; run 'meditate voices' to list the voices"
        return f"unknown voice '{name}'; run 'meditate voices' to list the voices"
    names = ", ".join(sorted(v.id for v in offered)) or "none installed"
    files = engine == "piper"  # only Piper voices may also come as model files of the library
    if settings.name is None:
        return (f"no {engine} voice speaks the language '{shown_language}' (the {engine} voices: {names}); "
                + ("name a voice, give a model file with 'model:', or use 'engine: pyttsx3'" if files
                   else "name a voice, or use 'engine: pyttsx3'"))
    why = getattr(engine_module(engine), "not_offered", lambda _: None)(settings.name)
    if why:
        return f"{why}; the {engine} voices: {names}"
    return (f"unknown {engine} voice '{name}' (the {engine} voices: {names})"
            + ("; or give a model file of the library with 'model:'" if files else ""))


def _shown(path, root) -> str:
    try:
        return path.relative_to(root).as_posix() if root else path.name
    except ValueError:
        return path.name


def resolve_voices(script, voices) -> dict:
    """The engine voice for every voice setting the script speaks with; unknown voices are located errors."""
    chosen, problems = {}, []
    for _, settings, location in spoken(script):
        key = voice_key(settings)
        if key in chosen:
            continue
        voice = choose(settings, script.language, voices, script.library_root)
        chosen[key] = voice if isinstance(voice, Voice) else None
        if not isinstance(voice, Voice):
            problems.append(Problem(settings.name_location or location, voice))
    if problems:
        raise ScriptError(problems)
    return chosen


def request_for(text: str, settings: VoiceSettings, chosen: dict) -> SpeechRequest:
    """The clip request for a text in a voice."""
    voice = chosen[voice_key(settings)]
    rate = settings.rate or scaled_rate(engine_module(voice.engine).DEFAULT_RATE, settings.rate_percent or 100)
    if settings.volume is None:  # a loaded script's voice settings always have one (DEFAULT_VOICE's at least)
        raise ValueError("voice settings without a volume: resolve them over DEFAULT_VOICE first")
    return SpeechRequest.of(voice, text, rate, settings.volume)
