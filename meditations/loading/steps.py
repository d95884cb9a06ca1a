"""Parsers of the steps that hold no other steps: say, pause, chapter, breathe, bell. Each takes the step's
entries ({key: (key node, value node)}) and the context, and gives the step or None (its problems reported)."""

from __future__ import annotations

from pathlib import Path

import yaml

from meditations.model import PRESETS, Bell, Breathe, Chapter, Pause, Say, parse_pattern

from .blocks import AUDIO_FORMATS, AUDIO_SUFFIXES, cue_words
from .context import LoadContext, scalar
from .recordings import in_client_folder
from .text import fill_placeholders, parse_say_text
from .validators import (
    RecordingVariables,
    choice_value,
    duration_value,
    filled_text,
    int_value,
    library_file,
    mapping_keys,
    text_reporter,
    text_value,
)
from .values import speaks_words
from .voicespec import voice_settings

SAY_KEYS = ("text", "recording")


def parse_say(entries, ctx: LoadContext):
    """- say: TEXT  or  - say: {text: TEXT, recording: FILE}  (with an optional voice: override)"""
    node = entries["say"][1]
    recording = recording_location = None
    if isinstance(node, yaml.MappingNode):
        fields = mapping_keys(node, ctx, "say", SAY_KEYS)
        if "recording" in fields:
            recording = recording_file(fields["recording"][1], ctx)
            recording_location = ctx.at(fields["recording"][1])
            if recording is not None and recording.suffix.lower() not in AUDIO_SUFFIXES:
                ctx.error(fields["recording"][1], f"'say.recording' must be {AUDIO_FORMATS}")
                return None
            if recording is None:
                return None
        if "text" not in fields:
            ctx.error(node, "'say' needs 'text:' (the words, also for a recording: they go into the transcript)")
            return None
        node = fields["text"][1]
    raw = text_value(node, ctx, "say")
    voice = ctx.voice
    if "voice" in entries:
        voice = voice_settings(entries["voice"][1], ctx).over(ctx.voice)
    if raw is None:
        return None
    if len(raw) > ctx.options.max_text_chars:
        ctx.error(node, f"this text is {len(raw)} characters, over the limit of {ctx.options.max_text_chars} "
                        "(MEDITATE_MAX_TEXT_CHARS)")
        return None
    filled = len(fill_placeholders(raw, ctx.variables, lambda _offset, _message: None))
    if filled > ctx.options.max_text_chars:  # values count too: a huge --set value is refused like a huge text
        ctx.error(node, f"this text is {filled} characters once its placeholders are filled in, over the limit of "
                        f"{ctx.options.max_text_chars} (MEDITATE_MAX_TEXT_CHARS)")
        return None
    pieces = parse_say_text(raw, RecordingVariables(ctx.variables, ctx.used), text_reporter(node, raw, ctx))
    if not pieces:
        ctx.error(node, "'say' needs some text to speak")
        return None
    if recording is None and not speaks_words(pieces):
        ctx.error(node, "'say' has nothing to speak: its text has no words, only punctuation or markup")
        return None
    words = sum(len(p.text.split()) for p in pieces if hasattr(p, "text"))
    ctx.add_time(node, 0.6 * words * 60 / (voice.rate or 130))  # at least this long: eSpeak keeps to its rate
    return Say(pieces=pieces, voice=voice, pace=ctx.pace, location=ctx.at(node), recording=recording,
               recording_location=recording_location)


def recording_file(node, ctx: LoadContext) -> Path | None:
    """A recording: in the profile's recordings folder if it is there, else inside the library."""
    relative = text_value(node, ctx, "say.recording")
    if relative is None:
        return None
    found = in_client_folder(relative, ctx.options.recordings, ctx.lookups)
    if found is not None:
        ctx.sources.append(found)
        return found
    return library_file(node, ctx, "say.recording")


def parse_pause(entries, ctx: LoadContext):
    """- pause: 10s"""
    node = entries["pause"][1]
    seconds = duration_value(node, ctx, "pause")
    if seconds is None:
        return None
    ctx.add_time(node, seconds)
    return Pause(seconds, ctx.at(node))


def parse_chapter(entries, ctx: LoadContext):
    """- chapter: TITLE"""
    node = entries["chapter"][1]
    title = filled_text(node, ctx, "chapter")
    return None if title is None else Chapter(title, ctx.at(node))


BREATHE_KEYS = ("pattern", "cycles", "duration", "cue", "words", "voice")
CUES = ("voice", "tone", "bell", "count", "none")
MAX_HOLD_SECONDS = 10.0
MIN_CYCLE_SECONDS = 4.0


def parse_breathe(entries, ctx: LoadContext):
    """- breathe: {pattern: 4-7-8, cycles: 4 | duration: 2m, cue: voice}  (or  - breathe: box)"""
    node = entries["breathe"][1]
    if isinstance(node, yaml.ScalarNode):
        ctx.error(node, "'breathe' needs 'pattern:' and 'cycles:' or 'duration:', "
                        "like breathe: {pattern: box, cycles: 4}")
        return None
    fields = mapping_keys(node, ctx, "breathe", BREATHE_KEYS)
    pattern = None
    if "pattern" not in fields:
        ctx.error(node, f"'breathe' needs 'pattern:' (seconds like 4-7-8, or one of: {', '.join(PRESETS)})")
    else:
        pattern_node = fields["pattern"][1]
        try:
            pattern = parse_pattern(scalar(pattern_node, ctx, "breathe.pattern", "a pattern"))
        except ValueError as exc:
            ctx.error(pattern_node, f"'breathe.pattern': {exc}")
    cycles = duration = None
    if "cycles" in fields and "duration" in fields:
        ctx.error(fields["duration"][0], "'breathe' takes 'cycles:' or 'duration:', not both")
    elif "cycles" in fields:
        cycles = int_value(fields["cycles"][1], ctx, "breathe.cycles", 1, ctx.options.max_repeat)
    elif "duration" in fields:
        duration = duration_value(fields["duration"][1], ctx, "breathe.duration")
    else:
        ctx.error(node, "'breathe' needs 'cycles:' (how many breaths) or 'duration:' (how long)")
    cue = "voice"
    if "cue" in fields:
        cue = str(choice_value(fields["cue"][1], ctx, "breathe.cue", CUES) or cue)
    words = cue_words(fields["words"][1], ctx, ctx.cue_words) if "words" in fields else ctx.cue_words
    voice = voice_settings(fields["voice"][1], ctx).over(ctx.voice) if "voice" in fields else ctx.voice
    if pattern is None or (cycles is None and duration is None):
        return None
    if duration is not None and duration < pattern.cycle_seconds:
        ctx.error(fields["duration"][1], f"'breathe.duration' is shorter than one {pattern.cycle_seconds:g}-second "
                                         "cycle of this pattern")
        return None
    _breathing_safety(pattern, fields["pattern"][1], ctx)
    ctx.add_time(node, cycles * pattern.cycle_seconds if cycles else (duration or 0.0))
    return Breathe(pattern, cycles, duration, cue, tuple(sorted(words.items())), voice, ctx.at(node))


def _breathing_safety(pattern, node, ctx: LoadContext) -> None:
    # Clients breathe along alone: long holds and very fast cycles can make people dizzy or anxious.
    if pattern.longest_hold > MAX_HOLD_SECONDS:
        ctx.warn(node, f"warning: a {pattern.longest_hold:g}-second breath hold is long for someone breathing "
                       f"along unsupervised (over {MAX_HOLD_SECONDS:g} s)")
    if pattern.cycle_seconds < MIN_CYCLE_SECONDS:
        ctx.warn(node, f"warning: a {pattern.cycle_seconds:g}-second cycle is very fast breathing "
                       f"(under {MIN_CYCLE_SECONDS:g} s); it can cause light-headedness")


BELL_KEYS = ("strikes", "gap", "ring", "sound")


def parse_bell(entries, ctx: LoadContext):
    """- bell: 1   or   - bell: {strikes: 3, gap: 5s, ring: 8s, sound: bells/mine.wav}"""
    node = entries["bell"][1]
    if isinstance(node, yaml.ScalarNode):
        strikes = int_value(node, ctx, "bell", 1, 20)
        return None if strikes is None else Bell(strikes, 5.0, None, None, ctx.at(node))
    fields = mapping_keys(node, ctx, "bell", BELL_KEYS)
    strikes = int_value(fields["strikes"][1], ctx, "bell.strikes", 1, 20) if "strikes" in fields else 1
    gap = duration_value(fields["gap"][1], ctx, "bell.gap") if "gap" in fields else 5.0
    ring = duration_value(fields["ring"][1], ctx, "bell.ring") if "ring" in fields else None
    sound = library_file(fields["sound"][1], ctx, "bell.sound") if "sound" in fields else None
    if sound is not None and sound.suffix.lower() not in AUDIO_SUFFIXES:
        ctx.error(fields["sound"][1], f"'bell.sound' must be {AUDIO_FORMATS}")
        return None
    if strikes is None or gap is None or ("ring" in fields and ring is None) or ("sound" in fields and sound is None):
        return None
    ctx.add_time(node, (strikes - 1) * gap)
    return Bell(strikes, gap, ring, sound, ctx.at(node))
