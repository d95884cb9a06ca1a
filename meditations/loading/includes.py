"""Includes and partials: the file an `include:` step names, checked, and the steps it holds."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import yaml

from meditations.files import FileLimits, file_problem, within
from meditations.model import Location, excerpt

from .context import LoadContext, compose_file, show_path
from .keys import PARTIAL_KEYS, SCRIPT_KEYS
from .validators import mapping_keys, text_value, variable_defaults


def include_target(node, ctx: LoadContext) -> tuple[Path, str] | None:
    """The file an include names (its real path and its name in messages), checked: inside the library, no
    cycle, within the nesting limit, a regular script file of bounded size. None when refused (reported)."""
    relative = text_value(node, ctx, "include")
    if relative is None:
        return None
    real = ctx.look_up(ctx.path.parent / relative)
    display = os.path.normpath(os.path.join(os.path.dirname(ctx.display), relative))
    if not within(real, ctx.library_root):
        ctx.error(node, f"include '{excerpt(relative)}' is outside the library folder '{show_path(ctx.library_root)}'")
        return None
    chain = ctx.include_chain + (ctx.path,)
    if real in chain:
        names = [p.name for p in chain[chain.index(real):]] + [real.name]
        ctx.error(node, "include cycle: " + " -> ".join(names))
        return None
    if len(ctx.include_chain) + 1 > ctx.options.max_include_depth:
        ctx.error(node, f"includes are nested deeper than the limit of {ctx.options.max_include_depth} "
                        "(MEDITATE_MAX_INCLUDE_DEPTH)")
        return None
    problem = file_problem(real, "script", limits=FileLimits(script_bytes=ctx.options.limits.max_file_bytes))
    if problem == "not found":
        ctx.error(node, f"included file '{excerpt(relative)}' not found")
        return None
    if problem is not None:
        ctx.error(node, f"include '{excerpt(relative)}' {problem}")
        return None
    return real, display


def load_partial(real: Path, display: str, parent: LoadContext, parse_steps: Callable) -> tuple:
    """The steps of an included file (a list of steps, a partial, or a whole script), read with `parse_steps`
    in a context of its own: its variables' defaults never override the including file's."""
    root = compose_file(real, display, parent.problems, parent.options)
    ctx = replace(parent, display=display, path=real, include_chain=parent.include_chain + (parent.path,),
                  variables=dict(parent.variables))
    parent.sources.append(real)
    if root is None:
        if not any(p.location.file == display for p in ctx.problems.problems):
            ctx.problems.add(Location(display, 1, 1), "the included file is empty: it needs 'steps:'")
        return ()
    if isinstance(root, yaml.SequenceNode):
        return parse_steps(root, ctx)
    # A complete script (it has a title) plays its steps; its other settings are its own business.
    whole = isinstance(root, yaml.MappingNode) and any(getattr(k, "value", None) == "title" for k, _ in root.value)
    entries = mapping_keys(root, ctx, "script" if whole else "partial", SCRIPT_KEYS if whole else PARTIAL_KEYS)
    if "description" in entries:
        text_value(entries["description"][1], ctx, "description")
    if "variables" in entries:
        ctx.variables = {**variable_defaults(entries["variables"][1], ctx), **parent.variables}
    if "steps" not in entries:
        if isinstance(root, yaml.MappingNode):
            ctx.error(root, "an included file needs 'steps:'")
        return ()
    return parse_steps(entries["steps"][1], ctx)
