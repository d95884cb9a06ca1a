"""Voice samples: a few calm sentences in each voice, so a therapist can choose by ear."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import yaml

from meditations.model import MeditateError
from meditations.speaking import SpeechEngine, Voice, resolve_voice

from .track import RenderResult, load, render

SAMPLE_TEXT = "Hello. This is the voice called {voice}. Breathe in slowly, and let your shoulders soften."


def choose_voices(voices: list[Voice], wanted=(), language: str | None = None) -> list[Voice]:
    """The voices named (by id, language code or name), or all of them, optionally of one language."""
    if wanted:
        chosen = []
        for name in wanted:
            voice = resolve_voice(name, "", voices)
            if voice is None:
                raise MeditateError(f"unknown voice '{name}'; run 'meditate voices' to list the voices")
            chosen.append(voice)
    else:
        chosen = sorted(voices, key=lambda v: (v.engine, v.id))
    if language:
        prefix = language.lower()
        chosen = [v for v in chosen if v.language.lower() == prefix or v.language.lower().startswith(prefix + "-")]
        if not chosen:
            raise MeditateError(f"no voice speaks the language '{language}'")
    return chosen


def sample_file_name(voice: Voice) -> str:
    """A safe file name for a voice's sample."""
    return re.sub(r"[^a-z0-9]+", "-", voice.id.lower()).strip("-") + ".mp3"


def render_sample(voice: Voice, out_dir: Path, engine: SpeechEngine) -> RenderResult:
    """Render a short sample of one voice."""
    text = SAMPLE_TEXT.format(voice=re.sub(r"[^\w ,]+", " ", voice.name))
    with tempfile.TemporaryDirectory() as folder:
        script_path = Path(folder) / "sample.yaml"
        # written by the YAML library: a voice name with a quote in it (several have one) stays one title
        document = {"title": "Voice sample: " + re.sub(r"[{}]", "", voice.name), "lead_in": "0.3s", "fade_out": "0.5s",
                    "voice": {"engine": voice.engine, "name": voice.id}, "steps": [{"say": text}]}
        script_path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
        script = load(script_path)
        return render(script, out_dir / sample_file_name(voice), engine)
