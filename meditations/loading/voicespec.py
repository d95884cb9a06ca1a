"""The `voice:` block of a script, library.yaml, a step or a profile: engine, name, model, rate, volume."""

from __future__ import annotations

import os

import yaml

from meditations.files import is_regular_file
from meditations.model import ENGINE_NAMES, VoiceSettings

from .context import LoadContext
from .validators import int_value, library_file, mapping_keys, number_value, percent_value, text_value
from .yamlsource import scalar_value

VOICE_KEYS = ("engine", "name", "model", "rate", "volume")


def voice_settings(node, ctx: LoadContext, what: str = "voice") -> VoiceSettings:
    """A voice: a name, or a mapping (engine, name, model, rate, volume), every key optional."""
    if isinstance(node, yaml.ScalarNode) and isinstance(scalar_value(node), str):
        name = text_value(node, ctx, what)
        return VoiceSettings(name=name, name_location=ctx.at(node))
    entries = mapping_keys(node, ctx, what, VOICE_KEYS)
    values: dict = {}
    if "engine" in entries:
        values["engine"] = _engine(entries["engine"][1], ctx, f"{what}.engine")
    if "name" in entries:
        values["name"] = text_value(entries["name"][1], ctx, f"{what}.name")
        values["name_location"] = ctx.at(entries["name"][1])
    if "model" in entries and "name" in entries:
        ctx.error(entries["name"][1], f"give '{what}.name' or '{what}.model', not both")
    elif "model" in entries:
        model_node = entries["model"][1]
        values["model"] = _model(model_node, ctx, f"{what}.model", values.get("engine"))
        values["name_location"] = ctx.at(model_node)
        values.setdefault("engine", "piper")
    if "rate" in entries:  # words per minute, or a share of the rate it would otherwise have (90%)
        percent = percent_value(entries["rate"][1], ctx, f"{what}.rate", 50, 200)
        if percent is None:
            values["rate"] = int_value(entries["rate"][1], ctx, f"{what}.rate", 40, 400, " words per minute")
        elif percent:
            values["rate_percent"] = percent
    if "volume" in entries:
        values["volume"] = number_value(entries["volume"][1], ctx, f"{what}.volume", 0.1, 1.0)
    return VoiceSettings(**values)


def _engine(node, ctx: LoadContext, what: str) -> str | None:
    engine = text_value(node, ctx, what)
    if engine is not None and engine not in ENGINE_NAMES:
        ctx.error(node, f"unknown speech engine '{engine}'; the engines are: {', '.join(sorted(ENGINE_NAMES))}")
        return None
    return engine


def _model(node, ctx: LoadContext, what: str, engine: str | None):
    """A Piper voice file inside the library, with its .onnx.json beside it (both part of the fingerprint)."""
    if engine not in (None, "piper"):
        ctx.error(node, f"'{what}' is a Piper voice file: use it with 'engine: piper'")
        return None
    path = library_file(node, ctx, what)
    if path is None:
        return None
    relative = scalar_value(node)
    if not os.access(path, os.R_OK):
        ctx.error(node, f"'{what}' file '{relative}' cannot be read")
        return None
    named = path.with_name(path.name + ".json")
    config = ctx.look_up(named)
    if not is_regular_file(config):
        ctx.error(node, f"'{what}' file '{relative}' has no config '{named.name}' beside it "
                        "(a Piper voice is two files: NAME.onnx and NAME.onnx.json)")
        return None
    ctx.sources.append(config)
    return path
