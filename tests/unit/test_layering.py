"""The shape of the code: stage packages in pipeline order, each behind its public face, and no import cycle.

PACKAGES lists the packages of `meditations/` from the bottom up. A module may import its own package and
the packages listed before it, never one after it; from outside a package it imports the package's face
(its `__init__`), never a private module behind it; and no chain of imports, anywhere (functions included,
inside one package too), leads back to where it started. Only the command line imports click.
docs/architecture.md draws the same table.
"""

from __future__ import annotations

import ast
from pathlib import Path


ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "meditations"

PACKAGES = (
    "version",      # the tool's version (part of every cache key)
    "model",        # the script, its timeline, breathing, durations, times, errors
    "files",        # checked reads, containment, temporary files, caches, signals
    "audio",        # samples, resampling, loudness, sounds, clip statistics
    "loading",      # stage: load + validate (YAML, texts, settings, profiles, discovery, templates)
    "planning",     # stage: plan, pure (a timeline from a script and its clip lengths)
    "speaking",     # stage: speak (engines behind one interface, worker processes, the speech cache)
    "mixing",       # stage: mix (blocks, bed, finish)
    "encoding",     # stage: encode + check (pieces, tags, WebVTT, verification)
    "publishing",   # stage: publish (playlist, page, feed); below building, which calls it last
    "building",     # stage: build (clips then plan, one track, a library, clients, executors, the cluster)
    "",             # the public face: meditations/__init__.py (load, plan, render, build, Settings)
    "cli",          # the command line, over the public face
)


def engine_modules() -> dict[str, Path]:
    """Every module of the package, by dotted name (a package by its own name)."""
    modules = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def package_of(module: str) -> str | None:
    """The stage package a module belongs to ("" for the public face), or None when outside meditate."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    return parts[1] if len(parts) > 1 else ""


def is_private(module: str) -> bool:
    """A module behind its package's face: anything below `meditations.<package>`."""
    return len(module.split(".")) > 2


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


def internal_graph() -> dict[str, set[str]]:
    """Each module of meditate and the modules of meditate it imports."""
    modules = engine_modules()
    return {name: {t for t in imports_of(name, path, set(modules)) if t in modules and t != name}
            for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def test_every_module_is_in_a_listed_package():
    unlisted = sorted(name for name in engine_modules() if package_of(name) not in PACKAGES)
    assert not unlisted, f"add their package to PACKAGES (tests/test_layering.py): {unlisted}"


def test_no_module_imports_a_later_package():
    upward = []
    for name, targets in internal_graph().items():
        own = PACKAGES.index(package_of(name))
        for target in sorted(targets):
            if PACKAGES.index(package_of(target)) > own:
                upward.append(f"{name} imports {target}")
    assert not upward, upward


def test_other_packages_use_only_a_package_face():
    reaching_in = []
    for name, targets in internal_graph().items():
        for target in sorted(targets):
            if package_of(target) != package_of(name) and is_private(target):
                reaching_in.append(f"{name} imports {target}")
    assert not reaching_in, reaching_in


def test_no_import_cycle_anywhere():
    assert not cycles(internal_graph())


def test_no_module_of_meditate_is_imported_inside_a_function():
    """Such an import hides a knot in the graph. Only heavy third-party packages are imported where first
    needed (scipy, mutagen, pydub, dask, onnxruntime, piper): speech workers and the command line start
    without them."""
    late = []
    for name, path in engine_modules().items():
        for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                late += [f"{name}:{node.lineno}" for node in ast.walk(function)
                         if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith(PACKAGE))
                         or isinstance(node, ast.Import) and any(a.name.startswith(PACKAGE) for a in node.names)]
    assert not late, late


def test_the_engine_never_imports_click():
    offenders = [name for name, path in engine_modules().items() if package_of(name) != "cli"
                 and any(t == "click" or t.startswith("click.") for t in imports_of(name, path, set()))]
    assert not offenders, f"only the command line (meditations/cli/) may import click: {offenders}"


def test_the_cycle_check_finds_a_cycle_inside_one_package():
    graph = {"a.x": {"a.y"}, "a.y": {"a.z"}, "a.z": {"a.x"}, "a.w": {"a.x"}}
    assert cycles(graph) == [["a.x", "a.y", "a.z"]]
    assert cycles({"a.x": {"a.y"}, "a.y": set()}) == []


def test_private_and_package_names():
    assert package_of("meditations.speaking.engines.piper") == "speaking"
    assert package_of("meditations") == ""
    assert package_of("numpy") is None
    assert is_private("meditations.mixing.bed") and not is_private("meditations.mixing")


def test_the_check_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "probe.py"
    module.write_text("def late():\n    from ..building import track\n    import click\n", encoding="utf-8")
    found = imports_of("meditations.mixing.probe", module, {"meditations.building.track"})
    assert {"meditations.building", "meditations.building.track", "click"} <= found
