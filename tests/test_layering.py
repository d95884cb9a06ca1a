"""The import layering of the engine: cli -> orchestration -> stages -> primitives.

A module may import its own layer and the layers below, never one above; the engine never imports click
(cli.py and its cli_parts/ are the one front end). Every module is placed in LAYERS (a package entry places the modules inside
it), so a new module must be placed before this test passes. Imports inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "meditations"

PRIMITIVES, STAGES, ORCHESTRATION, CLI = range(4)
LAYER_NAMES = ("primitives", "stages", "orchestration", "cli")

LAYERS = {
    # the front end: options in, messages and exit codes out
    "cli": CLI,
    "cli_parts": CLI,  # cli.py's options, messages and progress display
    # orchestration: runs the stages for a track, a library, a voice sample
    "meditations.render": ORCHESTRATION,
    "meditations.library": ORCHESTRATION,
    "meditations.buildpool": ORCHESTRATION,
    "meditations.journal": ORCHESTRATION,
    "meditations.lockfile": ORCHESTRATION,
    "meditations.manifest": ORCHESTRATION,
    "meditations.fingerprint": ORCHESTRATION,
    "meditations.executors": ORCHESTRATION,
    "meditations.remote": ORCHESTRATION,
    "meditations.placing": ORCHESTRATION,
    "meditations.clients": ORCHESTRATION,
    "meditations.samples": ORCHESTRATION,
    # stages: load and validate, plan, synthesize, mix, encode, publish
    "meditations.loading": STAGES,  # the loader package: validators, settings blocks, step parsers, includes
    "meditations.settings": STAGES,
    "meditations.yamlsource": STAGES,
    "meditations.recordings": STAGES,
    "meditations.text": STAGES,
    "meditations.templates": STAGES,
    "meditations.discovery": STAGES,
    "meditations.profiles": STAGES,
    "meditations.preview": STAGES,
    "meditations.planner": STAGES,
    "meditations.layout": STAGES,
    "meditations.breathplan": STAGES,
    "meditations.lengthfit": STAGES,
    "meditations.clips": STAGES,
    "meditations.voicechoice": STAGES,
    "meditations.speech": STAGES,
    "meditations.speechworker": STAGES,
    "meditations.speechclip": STAGES,
    "meditations.voices": STAGES,
    "meditations.workerhandle": STAGES,
    "meditations.engines": STAGES,
    "meditations.versions": STAGES,
    "meditations.sounds": STAGES,
    "meditations.loudness": STAGES,
    "meditations.mixer": STAGES,
    "meditations.encoder": STAGES,
    "meditations.segments": STAGES,
    "meditations.pieces": STAGES,
    "meditations.clipstats": STAGES,
    "meditations.clipaudio": STAGES,
    "meditations.bedlevels": STAGES,
    "meditations.verify": STAGES,
    "meditations.transcript": STAGES,
    "meditations.transcript_read": STAGES,
    "meditations.publish": STAGES,
    "meditations.publishing": STAGES,  # the playlist, page and feed of publish.py
    # primitives: errors, the script's data, files and processes
    "meditations": PRIMITIVES,  # the package itself: its version
    "meditations.errors": PRIMITIVES,
    "meditations.script": PRIMITIVES,
    "meditations.breathing": PRIMITIVES,
    "meditations.durations": PRIMITIVES,
    "meditations.clock": PRIMITIVES,
    "meditations.timeline": PRIMITIVES,
    "meditations.steps": PRIMITIVES,
    "meditations.pcm": PRIMITIVES,
    "meditations.resample": PRIMITIVES,
    "meditations.safe_files": PRIMITIVES,
    "meditations.containment": PRIMITIVES,
    "meditations.cache": PRIMITIVES,
    "meditations.tempfiles": PRIMITIVES,
    "meditations.signals": PRIMITIVES,
}

# Imports that run against the layering today, each with why; the restructuring removes them.
KNOWN_EXCEPTIONS: set[tuple[str, str]] = set()


def engine_modules() -> dict[str, Path]:
    """Every module of the engine (and of the command line: cli.py, cli_parts/), by dotted name."""
    modules = {"cli": ROOT / "cli.py"}
    modules.update({f"cli_parts.{p.stem}" if p.stem != "__init__" else "cli_parts": p
                    for p in sorted((ROOT / "cli_parts").glob("*.py"))})
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def layer_of(module: str) -> int | None:
    """The layer of a module: its own entry, else that of the nearest package holding it (below the
    engine's own package, whose entry is for itself alone)."""
    parts = module.split(".")
    if module in LAYERS:
        return LAYERS[module]
    for end in range(len(parts) - 1, 0, -1):
        prefix = ".".join(parts[:end])
        if prefix == PACKAGE:
            break
        if prefix in LAYERS:
            return LAYERS[prefix]
    return None


def imports_of(module: str, path: Path, known: set[str]) -> set[str]:
    """The modules (absolute dotted names) that a module imports, anywhere in it, functions included."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            # `from . import x` names a module when x is one
            found.update(f"{target}.{alias.name}" for alias in node.names if f"{target}.{alias.name}" in known)
    return found


def test_every_module_has_a_layer():
    missing = [name for name in engine_modules() if layer_of(name) is None]
    assert not missing, f"place these modules in LAYERS (tests/test_layering.py): {missing}"


def test_no_module_imports_a_higher_layer():
    modules = engine_modules()
    upward = []
    for name, path in modules.items():
        own = layer_of(name)
        for target in imports_of(name, path, set(modules)):
            if target not in modules and not target.startswith(f"{PACKAGE}."):
                continue  # the standard library and third-party packages
            layer = layer_of(target)
            if own is not None and layer is not None and layer > own and (name, target) not in KNOWN_EXCEPTIONS:
                upward.append(f"{name} ({LAYER_NAMES[own]}) imports {target} ({LAYER_NAMES[layer]})")
    assert not upward, upward


def test_the_engine_never_imports_click():
    offenders = [name for name, path in engine_modules().items() if layer_of(name) != CLI
                 and any(t == "click" or t.startswith("click.") for t in imports_of(name, path, set()))]
    assert not offenders, f"only the command line (cli.py, cli_parts/) may import click: {offenders}"


def test_known_exceptions_still_exist():
    """An exception that the code no longer needs is removed from the list, so it cannot hide a new one."""
    modules = engine_modules()
    stale = [pair for pair in KNOWN_EXCEPTIONS
             if pair[0] not in modules or pair[1] not in imports_of(pair[0], modules[pair[0]], set(modules))]
    assert not stale, f"remove from KNOWN_EXCEPTIONS: {stale}"


def test_a_new_module_must_be_placed():
    assert layer_of("meditations.engines.newengine") == STAGES  # inside a placed package
    assert layer_of("cli_parts.newpart") == CLI
    assert layer_of("meditations.newmodule") is None


def test_the_check_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "probe.py"
    module.write_text("def late():\n    from .render import load\n    import click\n", encoding="utf-8")
    assert {"meditations.render", "click"} <= imports_of("meditations.probe", module, set())
