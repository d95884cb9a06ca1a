"""Client profiles: one small YAML file per client saying which practices they get, and how.

```yaml
client: Ana                      # for messages only
library: ../scripts              # where the scripts are (default: scripts/ in the working folder)
variables: {name: Ana}
voice: {rate: 120}               # optional, over every script's voice
length: 10m                      # optional, every track fitted to it
output: ana                      # the set's folder under the private output (default: the client's folder)
recordings: ana-recordings       # optional: the client's own recordings, found before the library's
scripts:
  - compassionate-breathing
  - {script: box-breathing, length: 5m}
```

In the client area a profile is `clients/NAME/profile.yaml`: the client and the set's folder are then NAME,
and the client's own scripts (`clients/NAME/scripts/`) are found before the library's. `client share` adds a
`base_url:` and a `token:` (the set's folder is then NAME-TOKEN, a web address no one can guess).

Profiles hold personal data: keep them out of version control (the repository ignores clients/ and profiles/).
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

from meditations.files import within
from meditations.model import (
    DEFAULT_VOICE,
    Location,
    Pace,
    Problem,
    ProblemCollector,
    ScriptError,
    VoiceSettings,
    excerpt,
)

from .context import LoadContext, LoadOptions, node_kind
from .foreign import has_a_key_of, leads_out, leads_out_message, refuse_unquoted
from .settings import Settings, load
from .validators import duration_value, mapping_keys, text_value, variable_defaults
from .voicespec import voice_settings
from .yamlsource import compose, location_of, read_text

PROFILE_KEYS = ("client", "library", "variables", "voice", "length", "output", "recordings", "scripts", "base_url",
                "token")
ENTRY_KEYS = ("script", "length")
AREA_PROFILE = "profile.yaml"  # clients/NAME/profile.yaml
OWN_SCRIPTS = "scripts"  # clients/NAME/scripts/: scripts written for this client alone
# What no file system (or a web address) can hold in a folder name, and what would make it a path.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|#%]+")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


@dataclass(frozen=True)
class ProfileTrack:
    """One practice in a client's set."""

    script: Path
    length: float | None
    location: Location


@dataclass(frozen=True)
class Profile:
    """A client's set of practices and personal settings."""

    path: Path
    client: str
    variables: tuple[tuple[str, str], ...]
    voice: VoiceSettings | None
    output: str
    tracks: tuple[ProfileTrack, ...]
    variable_locations: tuple[tuple[str, Location], ...] = ()
    recordings: Path | None = None  # the client's own recordings folder
    output_location: Location | None = None  # where 'output:' names the client's folder (None: from the file name)
    base_url: str | None = None  # where the client's sets are served (client share)
    token: str | None = None  # the secret part of the set's folder name, once shared

    @property
    def folder(self) -> str:
        """The set's folder under the private output: the output name, with the token once there is one."""
        return f"{self.output}-{self.token}" if self.token else self.output

    def settings(self, track: ProfileTrack | None = None) -> Settings:
        """This profile's layer of the settings (settings.layered puts the command line's over it): its
        variables, voice and recordings folder, and a track's length."""
        return Settings(variables=self.variables, voice=self.voice, recordings=self.recordings,
                        length=track.length if track else None)


def check_profile(profile: Profile) -> None:
    """Load every script of the set with the profile's settings; a variable no script declares or uses is
    a located error (a typo must not leave the client's name out of their tracks)."""
    problems: list[Problem] = []
    known: set[str] = set()
    used: set[str] = set()
    for track in profile.tracks:
        try:
            script = load(track.script, profile.settings())
        except ScriptError as exc:
            problems.extend(exc.problems)
            continue
        known.update(script.declared_variables)
        used.update(script.placeholders)
    if not problems:
        for name, location in profile.variable_locations:
            if name not in known | used:
                choices = ", ".join(sorted(known)) or "none"
                problems.append(Problem(location, f"no script of this profile has a variable '{name}' "
                                                  f"(their variables: {choices})"))
    if problems:
        raise ScriptError(problems)


def safe_folder_name(text: str) -> str:
    """A folder name for a client as people write their name (NFC: "Zoë" typed either way is one folder),
    with only the characters no file system or web address can hold replaced (never a path)."""
    name = _UNSAFE.sub("-", unicodedata.normalize("NFC", text)).strip(" .-")
    return name or "profile"


def area_profile(path: Path) -> bool:
    """Whether a profile is the client area's clients/NAME/profile.yaml."""
    return path.name == AREA_PROFILE


NOT_A_PROFILE = ("is not a client profile: it has no 'scripts:' and no other key a profile has (its keys are not "
                 "shown)")


def load_profile(path: str | Path, options: LoadOptions | None = None) -> Profile:
    """Read and check a profile; every problem is located (or, for a file that leads out of its folder, one line
    that quotes nothing of it: foreign.py)."""
    options = options or LoadOptions()
    path = Path(path)
    display = str(path)
    text = read_text(path, display, options.limits)  # a file that cannot be read is said so, whatever it is
    try:
        return _load_profile(path, display, text, options)
    except ScriptError:
        folder = Path(os.path.abspath(path)).parent
        if leads_out(path, folder):
            check = "run meditate validate --profile on it where it is"
            raise refuse_unquoted(display, leads_out_message(folder, "profile", "its folder", check)) from None
        raise


def _load_profile(path: Path, display: str, text: str, options: LoadOptions) -> Profile:
    problems = ProblemCollector()
    root = compose(text, display, options.limits)
    if root is None or not isinstance(root, yaml.MappingNode):
        problems.add(Location(display, 1, 1) if root is None else location_of(root, display),
                     "a profile must be a mapping with 'scripts:' listing the client's practices")
        raise ScriptError(problems.problems)
    if not has_a_key_of(root, PROFILE_KEYS):
        raise refuse_unquoted(display, NOT_A_PROFILE)
    ctx = LoadContext(display, path.resolve(), problems, {}, DEFAULT_VOICE, Pace(), path.resolve().parent, options)
    entries = mapping_keys(root, ctx, "profile", PROFILE_KEYS)
    client = text_value(entries["client"][1], ctx, "client") if "client" in entries else None
    library = Path.cwd() / "scripts"
    if "library" in entries:
        folder = text_value(entries["library"][1], ctx, "library")
        if folder is not None:
            library = (path.parent / folder)
            if not library.is_dir():
                ctx.error(entries["library"][1], f"library folder '{excerpt(folder)}' not found")
    variables = variable_defaults(entries["variables"][1], ctx) if "variables" in entries else {}
    variable_places = {}
    if "variables" in entries and isinstance(entries["variables"][1], yaml.MappingNode):
        variable_places = {k.value: ctx.at(k) for k, _ in entries["variables"][1].value if k.value in variables}
    voice = voice_settings(entries["voice"][1], ctx) if "voice" in entries else None
    length = duration_value(entries["length"][1], ctx, "length") if "length" in entries else None
    own = path.parent.name if area_profile(path) else path.stem
    output, output_location = own, None
    if "output" in entries:
        output = text_value(entries["output"][1], ctx, "output") or output
        output_location = ctx.at(entries["output"][1])
    recordings = _recordings_folder(entries["recordings"][1], ctx, path) if "recordings" in entries else None
    base_url = text_value(entries["base_url"][1], ctx, "base_url") if "base_url" in entries else None
    token = _token(entries["token"][1], ctx) if "token" in entries else None
    tracks: tuple[ProfileTrack, ...] = ()
    if "scripts" not in entries:
        ctx.error(root, "missing required key 'scripts' (the client's practices)")
    else:
        libraries = (path.parent / OWN_SCRIPTS, library) if area_profile(path) else (library,)
        tracks = _tracks(entries["scripts"][1], ctx, libraries, length)
    problems.raise_if_any()
    return Profile(path, client or own, tuple(variables.items()), voice, safe_folder_name(output), tracks,
                   tuple(variable_places.items()), recordings, output_location, base_url, token)


def _token(node, ctx: LoadContext) -> str | None:
    token = text_value(node, ctx, "token")
    if token is not None and not _TOKEN.fullmatch(token):
        ctx.error(node, "'token' must be 16 to 64 letters, digits, - or _ (meditate client share makes one)")
        return None
    return token


def _recordings_folder(node, ctx: LoadContext, profile: Path) -> Path | None:
    """The client's own recordings folder, relative to the profile file."""
    folder = text_value(node, ctx, "recordings")
    if folder is None:
        return None
    path = profile.parent / folder
    if not path.is_dir():
        ctx.error(node, f"recordings folder '{folder}' not found")
        return None
    return path


def _tracks(node, ctx: LoadContext, libraries: tuple[Path, ...], default_length: float | None,
            ) -> tuple[ProfileTrack, ...]:
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        ctx.error(node, f"'scripts' must be a list of script names, got {node_kind(node)}")
        return ()
    tracks = []
    for item in node.value:
        length = default_length
        name_node = item
        if isinstance(item, yaml.MappingNode):
            fields = mapping_keys(item, ctx, "scripts", ENTRY_KEYS)
            if "script" not in fields:
                ctx.error(item, "each entry needs 'script:' (a script name)")
                continue
            name_node = fields["script"][1]
            if "length" in fields:
                length = duration_value(fields["length"][1], ctx, "length")
        name = text_value(name_node, ctx, "scripts")
        if name is None:
            continue
        script = next((found for folder in libraries if (found := _find_script(folder, name))), None)
        if script is None:
            where = " or ".join(str(folder) for folder in libraries)
            ctx.error(name_node, f"no script '{excerpt(name)}' in {where}")
            continue
        tracks.append(ProfileTrack(script, length, ctx.at(name_node)))
    return tuple(tracks)


def _find_script(library: Path, name: str) -> Path | None:
    for candidate in (library / name, library / f"{name}.yaml", library / f"{name}.yml"):
        if candidate.is_file() and within(candidate, library):
            return candidate
    return None
