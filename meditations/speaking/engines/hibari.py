"""The hibari engine: hibari-tts, a small neural voice (distilled from Kokoro's af_heart) on onnxruntime.

Its one voice, `heart` (US English, female), comes inside the hibari-tts wheel, model and all. hibari's
other voices download from the internet on first use; meditate never downloads anything while it runs,
so only the voices inside the wheel are offered.

The network itself draws nothing at random: the noise part of each sound comes from a numpy generator
that hibari seeds per call, so a clip spoken with the seed chosen from its cache key is the same samples
whatever the worker spoke before. It speaks at 24 kHz; the worker resamples to CLIP_RATE like any voice.

hibari rounds each sound's length to whole frames of 12.5 ms after dividing it by the speed, and most
sounds last two or three frames, so its pace climbs in steps: from speed 0.55 to 0.575 it jumps from 119
to 134 words a minute, and between steps hardly moves (no `rate` could be met within 5 %). When a model is
loaded, that rounding is done on the running total instead (each sound ends on the frame nearest where it
should end): a sentence is as long as its speed asks, every sound still within one frame of its own length.
"""

from __future__ import annotations

import importlib.util
import json
import os
from dataclasses import replace

import numpy as np

from . import Voice, file_sha256, package_version

NAME = "hibari"
LISTS_IN_WORKER = False
DISTRIBUTION = "hibari-tts"

# The voices inside the wheel meditate offers: id -> the SHA-256 of the model file it must have.
BUNDLED = {
    "heart": "5f70741d4e900f4e85d0037498736cc1b3e1b9a63a13546a5da1e63abf4fccd8",
}

# Seconds per word = WORD_BASE + WORD_SCALE / speed (hibari's speed: larger is faster), fitted on `heart`
# speaking twelve of the bundled library's sentences at 100 to 200 words a minute (words per minute of
# speech: the pauses inside a sentence count, the gaps between sentences do not). bench/rate_fit.py fits it
# again; tests/e2e/test_hibari.py checks it.
WORD_BASE = 0.0038
WORD_SCALE = 0.2683
SPEEDS = (0.4, 2.0)  # about 90 to 450 words a minute (hibari names 0.5 to 2.0: below it, slower still)
DEFAULT_RATE = 150  # words per minute of speech
SAMPLE_RATE = 24000  # hibari's own rate (hibari.SAMPLE_RATE), resampled to CLIP_RATE by the worker


def version() -> str:
    """The packages that make this engine's audio."""
    return (f"hibari-tts={package_version(DISTRIBUTION)};onnxruntime={package_version('onnxruntime')};"
            f"durations=running-total;pace={WORD_BASE},{WORD_SCALE}")


def control(wpm: int) -> float:
    """hibari's speed for a pace in words per minute of speech (larger is faster)."""
    seconds_per_word = max(60.0 / wpm - WORD_BASE, 1e-3)
    return min(SPEEDS[1], max(SPEEDS[0], WORD_SCALE / seconds_per_word))


def _package_folder() -> str | None:
    """Where the hibari package is installed, found without importing it (listing voices stays light)."""
    spec = importlib.util.find_spec("hibari")
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)[0]


def _registry(folder: str) -> dict:
    with open(os.path.join(folder, "assets", "voices.json"), encoding="utf-8") as handle:
        return json.load(handle)


def list_voices() -> list[Voice]:
    """The hibari voices inside the installed wheel (one whose model fails its check carries the problem)."""
    folder = _package_folder()
    if folder is None:
        return []
    try:
        registry = _registry(folder)
    except (OSError, ValueError):
        return []
    source = f"{DISTRIBUTION} {package_version(DISTRIBUTION)} (pip)"
    voices = []
    for voice_id, expected in BUNDLED.items():
        entry = registry.get(voice_id)
        if not isinstance(entry, dict) or not entry.get("bundled"):
            continue
        model = os.path.join(folder, "assets", str(entry.get("file", "")))
        if not os.path.isfile(model):
            continue
        language = str(entry.get("language", "en-US")).lower()
        title = f"{voice_id.title()} (hibari, English, {entry.get('accent', '')}, {entry.get('gender', '')})"
        actual = file_sha256(model)
        voice = Voice(voice_id, title, language, NAME, SAMPLE_RATE, source,
                      f"{NAME}:{version()};model={actual}", model)
        if actual != expected:
            voice = replace(voice, identity="", problem=mismatch_message(voice_id, actual, expected))
        voices.append(voice)
    return voices


def mismatch_message(voice_id: str, actual: str, expected: str) -> str:
    """The one line that refuses a bundled model whose file is not the one this version was made for."""
    return (f"the hibari voice '{voice_id}' is not the model file meditate was made for (SHA-256 {actual[:12]}..., "
            f"expected {expected[:12]}...); reinstall it with: pip install --force-reinstall "
            f"{DISTRIBUTION}=={package_version(DISTRIBUTION)}")


def not_offered(name: str) -> str | None:
    """Why a voice hibari knows of is not offered (it would download on first use), or None."""
    folder = _package_folder()
    try:
        known = _registry(folder) if folder else {}
    except (OSError, ValueError):
        return None
    if name in known and name not in BUNDLED:
        return (f"the hibari voice '{name}' is not inside the hibari-tts wheel (hibari downloads it on first use, "
                "and meditate never downloads while it runs)")
    return None


class Synthesizer:
    """hibari in one worker process: each voice loaded once, on one onnxruntime thread."""

    def __init__(self):
        import onnxruntime
        from hibari import Hibari  # noqa: F401  (fails here if hibari cannot run)

        onnxruntime.set_default_logger_severity(3)  # errors only: its warnings would reach the terminal
        self._voices: dict[str, object] = {}

    def _voice(self, voice: Voice):
        if voice.model not in self._voices:
            from hibari import Hibari

            # the model itself handed over: hibari never looks for (or downloads) a file itself
            self._voices[voice.model] = Hibari(voice=voice.id, model=smooth_durations(voice.model), threads=1)
        return self._voices[voice.model]

    def speak(self, voice: Voice, text: str, control: float, seed: int) -> np.ndarray:
        """One sentence at hibari's speed `control`, its noise drawn from `seed`."""
        audio = self._voice(voice)(text, speed=float(control), seed=seed)
        return np.asarray(audio, dtype=np.float32)


def smooth_durations(model: str) -> bytes:
    """The model with its one Round of sound lengths (in frames) done on their running total: each sound
    ends on the frame nearest to where it should end, so a sentence's length follows the speed smoothly."""
    import onnx
    from onnx import TensorProto, helper

    graph_model = onnx.load(model)
    graph = graph_model.graph
    rounds = [index for index, node in enumerate(graph.node) if node.op_type == "Round"]
    if len(rounds) != 1:
        raise RuntimeError(f"the hibari model has {len(rounds)} Round nodes, not the one meditate expects")
    lengths, out = graph.node[rounds[0]].input[0], graph.node[rounds[0]].output[0]

    def constant(name: str, kind: int, dims: list, values: list):
        return helper.make_node("Constant", [], [name], value=helper.make_tensor(name, kind, dims, values))

    replacement = [constant("meditate_axis", TensorProto.INT64, [], [0]),
                   helper.make_node("CumSum", [lengths, "meditate_axis"], ["meditate_ends"]),
                   helper.make_node("Round", ["meditate_ends"], ["meditate_frames"]),
                   constant("meditate_zero", TensorProto.FLOAT, [1], [0.0]),
                   helper.make_node("Concat", ["meditate_zero", "meditate_frames"], ["meditate_starts_all"], axis=0),
                   constant("meditate_first", TensorProto.INT64, [1], [0]),
                   constant("meditate_last", TensorProto.INT64, [1], [-1]),
                   helper.make_node("Slice", ["meditate_starts_all", "meditate_first", "meditate_last"],
                                    ["meditate_starts"]),
                   helper.make_node("Sub", ["meditate_frames", "meditate_starts"], [out])]
    nodes = []
    for index, node in enumerate(graph.node):
        nodes += replacement if index == rounds[0] else [node]
    del graph.node[:]
    graph.node.extend(nodes)
    return graph_model.SerializeToString()
