"""The validated form of a script: frozen dataclasses the later stages read."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .breathing import Pattern

from .errors import Location

# the speech engines a script may name (speaking/engines/ has one module each)
ENGINE_NAMES = ("pyttsx3", "piper", "hibari")
DEFAULT_ENGINE = "pyttsx3"  # eSpeak NG, through pyttsx3's driver


@dataclass(frozen=True)
class VoiceSettings:
    """Speech voice settings; None means "inherit"."""

    name: str | None = None
    rate: int | None = None
    volume: float | None = None
    name_location: Location | None = field(default=None, compare=False)
    engine: str | None = None  # pyttsx3 (eSpeak NG) when no one names one
    model: Path | None = None  # a Piper voice file of the library's own
    rate_percent: float | None = None  # a rate relative to the one it would otherwise have: 90 is 10 % slower

    def over(self, base: VoiceSettings) -> VoiceSettings:
        """These settings where given, the base's elsewhere. Naming a voice, a model or another engine
        picks a new voice: the base's name and model are not carried into another engine. A relative rate
        is a share of the base's rate; over an engine's default rate (no rate given yet) it stays relative
        and is applied to that default when the voice is chosen."""
        switch = self.engine is not None and self.engine != (base.engine or DEFAULT_ENGINE)
        picks = self.name is not None or self.model is not None or switch
        rate, percent = self.rate, None
        if rate is None:
            rate, percent = base.rate, base.rate_percent
            if self.rate_percent is not None:
                if base.rate is not None:
                    rate = scaled_rate(base.rate, self.rate_percent)
                else:
                    percent = self.rate_percent * (base.rate_percent or 100) / 100
        return VoiceSettings(
            name=self.name if picks else base.name,
            rate=rate,
            volume=self.volume if self.volume is not None else base.volume,
            name_location=self.name_location if picks else base.name_location,
            engine=self.engine if self.engine is not None else base.engine,
            model=self.model if picks else base.model,
            rate_percent=percent,
        )

    def __post_init__(self):
        if isinstance(self.model, str):
            object.__setattr__(self, "model", Path(self.model))


DEFAULT_VOICE = VoiceSettings(name=None, rate=None, volume=0.9)  # no rate: the engine's own DEFAULT_RATE
MIN_RATE, MAX_RATE = 40, 400  # words per minute


def scaled_rate(rate: int, percent: float) -> int:
    """A rate in words per minute times a percentage, kept within the rates a voice takes."""
    return min(MAX_RATE, max(MIN_RATE, round(rate * percent / 100)))


@dataclass(frozen=True)
class Pace:
    """Silences the mixer places between the sentences and paragraphs of a say step."""

    sentence_gap: float = 1.5
    paragraph_gap: float = 3.0


@dataclass(frozen=True)
class AudioFormat:
    """The encoded file's format. Defaults suit spoken word: 44.1 kHz mono at 64 kbit/s CBR."""

    sample_rate: int = 44100
    channels: int = 1
    bitrate: int = 64


# Pieces of a say text, in order.
@dataclass(frozen=True)
class Sentence:
    """One sentence to speak (a clip of its own)."""

    text: str
    joined: bool = False  # a piece of an over-long sentence that was split: a short gap before it


@dataclass(frozen=True)
class TextPause:
    """An exact silence written as [pause 3s] inside a text."""

    seconds: float


@dataclass(frozen=True)
class ParagraphBreak:
    """A blank line inside a text."""


TextPiece = Sentence | TextPause | ParagraphBreak


@dataclass(frozen=True)
class Say:
    """Speak a text."""

    pieces: tuple[TextPiece, ...]
    voice: VoiceSettings
    pace: Pace
    location: Location
    recording: Path | None = None  # the therapist's own recording of this text, played instead of speech
    recording_location: Location | None = field(default=None, compare=False)

    @property
    def text(self) -> str:
        """The spoken text, sentences joined by spaces."""
        return " ".join(p.text for p in self.pieces if isinstance(p, Sentence))


@dataclass(frozen=True)
class Pause:
    """An exact silence."""

    seconds: float
    location: Location


@dataclass(frozen=True)
class Chapter:
    """Starts a chapter at this point of the track."""

    title: str
    location: Location


@dataclass(frozen=True)
class Repeat:
    """Steps played several times."""

    count: int
    steps: tuple
    location: Location


@dataclass(frozen=True)
class Include:
    """The steps of another file, in place."""

    path: Path
    steps: tuple
    location: Location


@dataclass(frozen=True)
class Breathe:
    """Paced breathing: whole cycles of a pattern, each phase cued."""

    pattern: Pattern
    cycles: int | None  # fixed length ...
    duration: float | None  # ... or flexible: as many whole cycles as fit
    cue: str  # voice | tone | bell | count | none
    words: tuple[tuple[str, str], ...]  # cue word key -> spoken text
    voice: VoiceSettings
    location: Location


@dataclass(frozen=True)
class Bell:
    """Bell strikes; the step lasts until the last strike has rung out (or `ring`)."""

    strikes: int
    gap: float
    ring: float | None
    sound: Path | None  # a user's recording instead of the synthesized bowl
    location: Location


Step = Say | Pause | Chapter | Repeat | Include | Breathe | Bell


NOISE_KINDS = ("brown-noise", "pink-noise", "white-noise")


@dataclass(frozen=True)
class Background:
    """A bed of sound under the whole track."""

    sound: str  # brown-noise | pink-noise | white-noise | file
    file: Path | None
    location: Location | None = field(default=None, compare=False)
    level_db: float = -30.0  # relative to the voice
    duck_db: float = 8.0  # how far it dips under speech
    fade: float = 5.0


@dataclass(frozen=True)
class Finish:
    """How the track starts, ends and how loud it is."""

    lead_in: float = 2.0
    fade_out: float = 4.0
    loudness: float = -16.0  # integrated LUFS (EBU R 128 / ITU-R BS.1770)
    true_peak: float = -1.0  # dBTP ceiling


@dataclass(frozen=True)
class Script:
    """A loaded, validated script with every include resolved and every placeholder filled in."""

    path: Path
    display: str
    title: str
    description: str
    author: str
    album: str
    genre: str
    language: str
    tags: tuple[str, ...]
    voice: VoiceSettings
    pace: Pace
    audio: AudioFormat
    variables: tuple[tuple[str, str], ...]
    steps: tuple
    sources: tuple[Path, ...]  # every file read to build this script (for fingerprints)
    library_root: Path
    background: Background | None = None
    finish: Finish = Finish()
    length: float | None = None  # a target length: pauses and breathe-by-duration stretch to fit
    length_location: Location | None = field(default=None, compare=False)
    warnings: tuple = ()  # Problems that do not stop a render (breathing safety)
    cover: Path | None = None  # an image embedded in the track
    max_track_seconds: int = 0  # the longest track allowed (0: no limit)
    estimated_seconds: float = 0.0  # a quick lower estimate of the length, made while loading
    declared_variables: tuple[str, ...] = ()  # names under variables: (library and script)
    placeholders: tuple[str, ...] = ()  # names the texts ask for
    # every path looked up while loading (includes, library.yaml up the folders, recordings...) and the real
    # path it led to, or None when nothing was there (for fingerprints: see files.Lookups)
    lookups: tuple[tuple[Path, Path | None], ...] = ()

    def unused_overrides(self, overrides) -> list[str]:
        """Names given with --set that this script neither declares nor uses."""
        known = set(self.declared_variables) | set(self.placeholders)
        return [name for name, _ in overrides if name not in known]
