"""The registry of step kinds: each kind is one parser and one line in STEP_KINDS (see docs/architecture.md,
"Loading and settings"). Also the step lists themselves, and the two steps that hold other steps."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

import yaml

from meditations.model import Include, Repeat, Step, excerpt

from .context import LoadContext, node_kind
from .includes import include_target, load_partial
from .steps import parse_bell, parse_breathe, parse_chapter, parse_pause, parse_say
from .validators import int_value, mapping_keys
from .yamlsource import scalar_value


@dataclass(frozen=True)
class StepKind:
    """How to read one kind of step: its parser and the keys it accepts beside its own."""

    parse: Callable[[dict, LoadContext], Step | None]
    extra_keys: tuple[str, ...] = ()


def parse_repeat(entries, ctx: LoadContext):
    """- repeat: N  with  steps: [...]"""
    key_node, node = entries["repeat"]
    count = int_value(node, ctx, "repeat", 1, ctx.options.max_repeat)
    if "steps" not in entries:
        ctx.error(key_node, "'repeat' needs 'steps:' listing what to repeat")
        return None
    if count is not None and ctx.repeats * count > ctx.options.max_repeat:
        ctx.error(node, f"repeats inside repeats play these steps {ctx.repeats * count} times, over the limit of "
                        f"{ctx.options.max_repeat} (MEDITATE_MAX_REPEAT)")
        return None
    outer = ctx.repeats
    ctx.repeats = outer * (count or 1)
    try:
        steps = parse_steps(entries["steps"][1], ctx, "steps")
    finally:
        ctx.repeats = outer
    if count is None:
        return None
    return Repeat(count, steps, ctx.at(key_node))


def parse_include(entries, ctx: LoadContext):
    """- include: _partials/closing.yaml"""
    node = entries["include"][1]
    target = include_target(node, ctx)
    if target is None:
        return None
    real, display = target
    return Include(real, load_partial(real, display, ctx, parse_steps), ctx.at(node))


STEP_KINDS: dict[str, StepKind] = {
    "say": StepKind(parse_say, extra_keys=("voice",)),
    "pause": StepKind(parse_pause),
    "chapter": StepKind(parse_chapter),
    "repeat": StepKind(parse_repeat, extra_keys=("steps",)),
    "include": StepKind(parse_include),
    "breathe": StepKind(parse_breathe),
    "bell": StepKind(parse_bell),
}


def parse_steps(node, ctx: LoadContext, what: str = "steps") -> tuple[Step, ...]:
    """A list of steps."""
    if not isinstance(node, yaml.SequenceNode):
        ctx.error(node, f"'{what}' must be a list of steps (each line starting with '- '), got {node_kind(node)}")
        return ()
    if not node.value:
        ctx.error(node, f"'{what}' is empty: add at least one step")
        return ()
    steps: list[Step] = []
    for item in node.value:
        step = parse_step(item, ctx)
        if step is not None:
            steps.append(step)
    return tuple(steps)


def parse_step(node, ctx: LoadContext) -> Step | None:
    """One step: a mapping with exactly one action key."""
    example = "a mapping such as '- say: Hello' or '- pause: 5s'"
    if not isinstance(node, yaml.MappingNode):
        ctx.error(node, f"a step must be {example}, got {node_kind(node)}")
        return None
    keys = [(scalar_value(k) if isinstance(k, yaml.ScalarNode) else None, k) for k, _ in node.value]
    actions = [(key, key_node) for key, key_node in keys if key in STEP_KINDS]
    if not actions:
        for key, key_node in keys:
            ctx.error(key_node, unknown_step_message(key))
        return None
    if len(actions) > 1:
        ctx.error(actions[1][1], f"a step does one thing: it has both '{actions[0][0]}' and '{actions[1][0]}'"
                                 " (start the second with its own '- ')")
        return None
    action = actions[0][0]
    kind = STEP_KINDS[action]
    entries = mapping_keys(node, ctx, action, (action,) + kind.extra_keys)
    if action not in entries:
        return None
    return kind.parse(entries, ctx)


def unknown_step_message(key) -> str:
    """'unknown step' with the closest step kind, or the list of them."""
    close = difflib.get_close_matches(str(key), list(STEP_KINDS), n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else f" (a step is one of: {', '.join(STEP_KINDS)})"
    return f"unknown step '{excerpt(str(key))}'{hint}"
