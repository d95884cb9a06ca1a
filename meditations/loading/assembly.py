"""The assembly of a Script: a script file read over its library's defaults, with the caller's options."""

from __future__ import annotations

from pathlib import Path

import yaml

from meditations.files import FileLimits, Lookups, file_problem, file_sentence
from meditations.model import Location, Problem, ProblemCollector, Script, ScriptError, heard, shape

from .blocks import settings_block
from .context import LoadContext, LoadOptions, compose_file
from .foreign import has_a_key_of, leads_out, leads_out_message, refuse_unquoted
from .format_limits import check_chapter_count
from .keys import SCRIPT_KEYS
from .libraryyaml import LibraryDefaults, find_library_root, library_where_it_stands, load_library
from .registry import parse_steps
from .validators import duration_value, filled_text, mapping_keys, text_list
from .yamlsource import location_of


NOT_A_SCRIPT = "is not a script: it has no 'title:', no 'steps:' and no other key a script has (its keys are not shown)"


def load_script(path: str | Path, options: LoadOptions | None = None) -> Script:
    """Load, validate and resolve a script file; raises ScriptError listing every problem (or, for a file that
    leads out of its library, one line that quotes nothing of it: foreign.py)."""
    options = options or LoadOptions()
    path = Path(path)
    display = str(path)
    root_problem = file_problem(path, "script", "script file", FileLimits(script_bytes=options.limits.max_file_bytes))
    if root_problem is not None:  # before anything resolves the path (a link loop) or opens it (a FIFO)
        raise ScriptError([Problem(Location(display, 1, 1), file_sentence(root_problem))])
    try:
        return _load_script(path, display, options)
    except ScriptError:
        folder = library_where_it_stands(path)
        if leads_out(path, folder):
            raise refuse_unquoted(display, leads_out_message(folder, "script", "the library folder",
                                                             "run meditate validate on it where it is")) from None
        raise


def _load_script(path: Path, display: str, options: LoadOptions) -> Script:
    problems = ProblemCollector()
    lookups = Lookups()
    library = load_library(find_library_root(path, lookups), problems, options, lookups)
    root = compose_file(path, display, problems, options)
    if root is None:
        if not problems.problems:
            problems.add(Location(display, 1, 1), "the script is empty: it needs 'title:' and 'steps:'")
        problems.raise_if_any()
    if not isinstance(root, yaml.MappingNode):
        problems.add(location_of(root, display),
                     f"a script must be a mapping with 'title:' and 'steps:', got {shape(root)}")
        problems.raise_if_any()
    if not has_a_key_of(root, SCRIPT_KEYS):
        raise refuse_unquoted(display, NOT_A_SCRIPT)
    real = lookups.resolve(path)
    sources = [real] + ([library.file] if library.file else []) + list(library.sources)
    ctx = LoadContext(display, real, problems, {}, library.voice, library.pace, library.root, options, sources=sources,
                      lookups=lookups)
    entries = mapping_keys(root, ctx, "script", SCRIPT_KEYS)
    script = _script_from_entries(root, entries, ctx, library)
    problems.raise_if_any()
    check_chapter_count(script.steps)
    return script


def _script_from_entries(root, entries, ctx: LoadContext, library: LibraryDefaults) -> Script:
    block = settings_block(entries, ctx, library, ctx.options.overrides)
    ctx.voice = block.voice if ctx.options.voice is None else ctx.options.voice.over(block.voice)
    ctx.pace = block.pace
    ctx.cue_words = dict(block.cue_words)
    length = length_location = None
    if "length" in entries:
        length = duration_value(entries["length"][1], ctx, "length")
        length_location = ctx.at(entries["length"][1])

    def text_of(key: str, default: str) -> str:
        if key not in entries:
            return default
        value = filled_text(entries[key][1], ctx, key)
        return default if value is None else value

    if "title" not in entries:
        ctx.error(root, "missing required key 'title'")
    if "steps" not in entries:
        ctx.error(root, "missing required key 'steps'")
    steps = parse_steps(entries["steps"][1], ctx) if "steps" in entries else ()
    if steps and not ctx.problems.problems and not heard(steps):
        ctx.error(entries["steps"][1], "the steps have nothing to hear: add a say, pause, breathe or bell step")
    tags = text_list(entries["tags"][1], ctx, "tags") if "tags" in entries else ()
    return Script(
        path=ctx.path, display=ctx.display, title=text_of("title", ""),
        description=text_of("description", ""), author=text_of("author", library.artist),
        album=text_of("album", library.album), genre=text_of("genre", library.genre),
        language=text_of("language", library.language), tags=tags, voice=ctx.voice, pace=ctx.pace,
        audio=block.audio, variables=tuple(sorted({**dict(block.variables), **dict(ctx.options.overrides)}.items())),
        declared_variables=tuple(sorted(dict(block.variables))), placeholders=tuple(sorted(ctx.used)),
        background=block.background, finish=block.finish, length=length, length_location=length_location,
        cover=block.cover, max_track_seconds=ctx.options.max_track_seconds, estimated_seconds=ctx.estimate[0],
        warnings=tuple(dict.fromkeys(ctx.warnings)),
        steps=steps, sources=tuple(dict.fromkeys(ctx.sources)), library_root=library.root,
        lookups=tuple(ctx.lookups.places.items()),
    )
