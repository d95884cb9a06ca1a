"""Voice lookup: a voice by its id, language code or name, and voice lists as stored in the cache."""

from __future__ import annotations

import json

from .engines import Voice


def resolve_voice(wanted: str | None, language: str, voices: list[Voice]) -> Voice | None:
    """The voice for a name (voice id, language code or display name) or, if none, a language."""
    query = (wanted or language or "en").strip().lower()
    for test in (lambda v: v.id.lower() == query,
                 lambda v: v.language.lower() == query,
                 lambda v: v.id.rsplit("/", 1)[-1].lower() == query,
                 lambda v: v.name.lower() == query):
        for voice in voices:
            if test(voice):
                return voice
    if wanted is None:
        for voice in voices:
            if voice.language.lower().startswith(query + "-"):
                return voice
    return None


def voices_json(voices: list[Voice]) -> bytes:
    """A voice list as stored in the cache."""
    return json.dumps([[v.id, v.name, v.language, v.engine, v.sample_rate, v.source, v.identity, v.model]
                       for v in voices]).encode("utf-8")


def voices_from_json(payload: bytes) -> list[Voice] | None:
    """A stored voice list, or None when damaged."""
    try:
        return [Voice(*entry) for entry in json.loads(payload)]
    except (ValueError, TypeError):
        return None
