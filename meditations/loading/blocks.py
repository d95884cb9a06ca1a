"""Settings blocks: what library.yaml and a script both give (voice, pace, audio, variables, background,
lead_in / fade_out / loudness, cue_words, cover), parsed once by `settings_block` for both, a script's over its
library's."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import yaml

from meditations.files import image_problem
from meditations.model import (
    BITRATES,
    CHANNELS,
    MPEG1_BITRATES,
    DEFAULT_VOICE,
    DEFAULT_WORDS,
    NOISE_KINDS,
    SAMPLE_RATES,
    AudioFormat,
    Background,
    Finish,
    Pace,
    VoiceSettings,
    excerpt,
)

from .context import LoadContext
from .validators import (
    choice_value,
    decibel_value,
    duration_value,
    filled_text,
    is_zero_duration,
    library_file,
    loudness_value,
    mapping_keys,
    text_value,
    variable_defaults,
)
from .values import cue_word_problem
from .voicespec import voice_settings
from .yamlsource import scalar_value

PACE_KEYS = ("sentence_gap", "paragraph_gap")
AUDIO_KEYS = ("sample_rate", "channels", "bitrate")


def pace_settings(node, ctx: LoadContext, base: Pace) -> Pace:
    """A pace: mapping (sentence_gap, paragraph_gap) over the inherited pace."""
    entries = mapping_keys(node, ctx, "pace", PACE_KEYS)
    values = {}
    for key in PACE_KEYS:
        if key in entries:
            seconds = duration_value(entries[key][1], ctx, f"pace.{key}", allow_zero=True)
            if seconds is not None:
                values[key] = seconds
    return replace(base, **values)


def max_bitrate(sample_rate: int) -> int:
    """The highest MP3 bitrate at a sample rate (MPEG-1 above 32 kHz, MPEG-2 and 2.5 below)."""
    return 320 if sample_rate >= 32000 else 160 if sample_rate >= 16000 else 64


def audio_problem(audio: AudioFormat) -> str | None:
    """Why an MP3 cannot have these settings, or None."""
    if audio.bitrate > max_bitrate(audio.sample_rate):
        return (f"a bitrate of {audio.bitrate} kbit/s is not possible at {audio.sample_rate} Hz "
                f"(at most {max_bitrate(audio.sample_rate)})")
    if audio.sample_rate >= 32000 and audio.bitrate not in MPEG1_BITRATES:
        return (f"a bitrate of {audio.bitrate} kbit/s is not possible at {audio.sample_rate} Hz "
                f"(from 32000 Hz up: {', '.join(map(str, MPEG1_BITRATES))})")
    return None


def audio_format(node, ctx: LoadContext, base: AudioFormat) -> AudioFormat:
    """An audio: mapping (sample_rate, channels, bitrate) over the inherited format."""
    entries = mapping_keys(node, ctx, "audio", AUDIO_KEYS)
    values: dict[str, Any] = {}
    if "sample_rate" in entries:
        values["sample_rate"] = choice_value(entries["sample_rate"][1], ctx, "audio.sample_rate", SAMPLE_RATES)
    if "channels" in entries:
        values["channels"] = choice_value(entries["channels"][1], ctx, "audio.channels", CHANNELS)
    if "bitrate" in entries:
        values["bitrate"] = choice_value(entries["bitrate"][1], ctx, "audio.bitrate", BITRATES)
    audio = replace(base, **{k: v for k, v in values.items() if v is not None})
    problem = audio_problem(audio)
    if problem:
        ctx.error(entries.get("bitrate", entries.get("sample_rate", (node, node)))[1], problem)
        return base
    return audio


WORD_KEYS = tuple(DEFAULT_WORDS)


def cue_words(node, ctx: LoadContext, base: dict[str, str], what: str = "words") -> dict[str, str]:
    """words: {in, in_again, hold, out} spoken by voice cues."""
    entries = mapping_keys(node, ctx, what, WORD_KEYS)
    words = dict(base)
    for key, (_, value_node) in entries.items():
        text = filled_text(value_node, ctx, f"{what}.{key}")
        problem = cue_word_problem(text) if text else None
        if problem is not None:
            ctx.error(value_node, f"'{what}.{key}' {problem}")
        elif text:
            words[key] = text
    return words


AUDIO_SUFFIXES = (".wav", ".mp3", ".ogg", ".flac", ".m4a", ".aac", ".opus")
AUDIO_FORMATS = "a .wav, .mp3, .ogg, .flac, .m4a, .aac or .opus file"
BACKGROUND_KEYS = ("sound", "level", "duck", "fade")


def background_settings(node, ctx: LoadContext) -> Background | None:
    """background: {sound: brown-noise | pink-noise | white-noise | PATH, level, duck, fade}"""
    if isinstance(node, yaml.ScalarNode) and scalar_value(node) in (None, False, "none"):
        return None
    fields = mapping_keys(node, ctx, "background", BACKGROUND_KEYS)
    if "sound" not in fields:
        if isinstance(node, yaml.MappingNode):
            ctx.error(node, f"'background' needs 'sound:' ({', '.join(NOISE_KINDS)} or an audio file)")
        return None
    sound_node = fields["sound"][1]
    sound = text_value(sound_node, ctx, "background.sound")
    if sound is None:
        return None
    file = None
    if sound not in NOISE_KINDS:
        if not sound.lower().endswith(AUDIO_SUFFIXES):
            close = difflib.get_close_matches(sound, NOISE_KINDS, n=1)
            hint = (f"did you mean '{close[0]}'?" if close
                    else f"use one of {', '.join(NOISE_KINDS)} or {AUDIO_FORMATS}")
            ctx.error(sound_node, f"'background.sound' '{sound}' is not a known sound ({hint})")
            return None
        file = library_file(sound_node, ctx, "background.sound")
        if file is None:
            return None
        sound = "file"
    values: dict[str, Any] = {}
    if "level" in fields:
        values["level_db"] = decibel_value(fields["level"][1], ctx, "background.level", -60, 0)
    if "duck" in fields:
        values["duck_db"] = decibel_value(fields["duck"][1], ctx, "background.duck", 0, 40)
    if "fade" in fields:
        values["fade"] = duration_value(fields["fade"][1], ctx, "background.fade")
    if any(v is None for v in values.values()):
        return None
    return Background(sound=sound, file=file, location=ctx.at(sound_node), **values)


def finish_settings(entries, ctx: LoadContext, base: Finish) -> Finish:
    """lead_in, fade_out and loudness, where given."""
    values = {}
    for key in ("lead_in", "fade_out"):
        if key in entries:
            node = entries[key][1]
            if isinstance(node, yaml.ScalarNode) and is_zero_duration(scalar_value(node)):
                values[key] = 0.0
            else:
                seconds = duration_value(node, ctx, key)
                if seconds is not None:
                    values[key] = seconds
    if "loudness" in entries:
        loudness = loudness_value(entries["loudness"][1], ctx)
        if loudness is not None:
            values["loudness"] = loudness
    return replace(base, **values)


def cover_image(node, ctx: LoadContext) -> Path | None:
    """A PNG or JPEG inside the library."""
    path = library_file(node, ctx, "cover", kind="cover")
    if path is not None and path.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        ctx.error(node, "'cover' must be a .png or .jpg image")
        return None
    problem = image_problem(path) if path is not None else None
    if problem is not None:
        ctx.error(node, f"'cover' file '{excerpt(text_value(node, ctx, 'cover') or '')}' {problem}")
        return None
    return path


@dataclass(frozen=True, kw_only=True)
class SettingsBlock:
    """The settings library.yaml and a script both give; a script's block is read over its library's."""

    voice: VoiceSettings = DEFAULT_VOICE
    pace: Pace = Pace()
    audio: AudioFormat = AudioFormat()
    variables: tuple[tuple[str, str], ...] = ()  # declared defaults (not the --set overrides)
    background: Background | None = None
    finish: Finish = Finish()
    cue_words: tuple[tuple[str, str], ...] = tuple(DEFAULT_WORDS.items())
    cover: Path | None = None

    def block(self) -> SettingsBlock:
        """Just these settings (of a library's defaults, say), as the base of a script's."""
        return SettingsBlock(**{f.name: getattr(self, f.name) for f in fields(SettingsBlock)})


def settings_block(entries: dict, ctx: LoadContext, base: SettingsBlock, overrides=()) -> SettingsBlock:
    """The settings keys among a file's entries, each over the base's. Variables come first: the context's
    variables become the declared ones with the `overrides` (--set) over them, so that cue words use them."""
    variables = dict(base.variables)
    if "variables" in entries:
        variables.update(variable_defaults(entries["variables"][1], ctx))
    ctx.variables = {**variables, **dict(overrides)}
    values: dict = {"variables": tuple(variables.items()), "finish": finish_settings(entries, ctx, base.finish)}
    if "voice" in entries:
        values["voice"] = voice_settings(entries["voice"][1], ctx).over(base.voice)
    if "pace" in entries:
        values["pace"] = pace_settings(entries["pace"][1], ctx, base.pace)
    if "audio" in entries:
        values["audio"] = audio_format(entries["audio"][1], ctx, base.audio)
    if "cue_words" in entries:
        values["cue_words"] = tuple(cue_words(entries["cue_words"][1], ctx, dict(base.cue_words), "cue_words").items())
    if "background" in entries:
        values["background"] = background_settings(entries["background"][1], ctx)
    if "cover" in entries:
        values["cover"] = cover_image(entries["cover"][1], ctx)
    return replace(base.block(), **values)
