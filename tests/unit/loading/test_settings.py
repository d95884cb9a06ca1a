"""The one settings model (meditations/settings.py): every field is in a track's fingerprint key, layered, and
laid over the loaded script; and the order built-in defaults < library.yaml < script < profile < command line
holds end to end, through the real loader, profile reader and command-line conversion. Adding a setting to
`Settings` without a sample value below fails here first."""

from dataclasses import fields, replace

import pytest

from meditations.cli.options import command_line_settings
from helpers import write_wav
from meditations.loading.profiles import load_profile
from meditations.model.script import VoiceSettings
from meditations.loading.settings import Settings, layered, load, settings_key

SAMPLES = {  # a value other than the default, for every field
    "variables": (("name", "Ana"),),
    "voice": VoiceSettings(rate=150),
    "recordings": "set below (a folder)",
    "sample_rate": 48000,
    "channels": 2,
    "bitrate": 128,
    "loudness": -20.0,
    "length": 600.0,
}


def test_every_setting_has_a_sample_here():
    assert [f.name for f in fields(Settings)] == list(SAMPLES)


@pytest.mark.parametrize("name", [f.name for f in fields(Settings) if f.compare])
def test_every_keyed_setting_changes_the_key(name):
    assert settings_key(replace(Settings(), **{name: SAMPLES[name]})) != settings_key(Settings())


def test_the_recordings_folder_is_not_in_the_key(tmp_path):
    """Its files are sources of the track instead: moving the folder must not rebuild every track."""
    assert settings_key(Settings(recordings=tmp_path / "a")) == settings_key(Settings(recordings=tmp_path / "b"))


def test_the_key_ignores_where_a_voice_was_written():
    from meditations.model.errors import Location

    placed = VoiceSettings(name="en", name_location=Location("a.yaml", 3, 9))
    assert settings_key(Settings(voice=placed)) == settings_key(Settings(voice=VoiceSettings(name="en")))


@pytest.mark.parametrize("name", list(SAMPLES))
def test_every_setting_is_layered(name, tmp_path):
    value = tmp_path if name == "recordings" else SAMPLES[name]
    given = replace(Settings(), **{name: value})
    assert getattr(layered(given, Settings()), name) == value  # kept when the layer above leaves it
    assert getattr(layered(Settings(), given), name) == value  # given by the layer above


def test_the_higher_layer_wins():
    low = Settings(variables=(("name", "Ana"), ("place", "home")), voice=VoiceSettings(rate=100), loudness=-20.0,
                   length=300.0)
    high = Settings(variables=(("name", "Ben"),), voice=VoiceSettings(rate_percent=90), loudness=-14.0)
    both = layered(low, high)
    assert dict(both.variables) == {"name": "Ben", "place": "home"}
    assert both.voice.rate == 90  # a relative rate scales the rate below
    assert (both.loudness, both.length) == (-14.0, 300.0)


LIBRARY = """
variables: {name: from the library}
loudness: -24
voice: {rate: 100}
"""

SCRIPT = """
title: Layers
variables: {name: from the script}
loudness: -20
voice: {rate: 120}
length: 5m
steps:
  - say: Hello {name}.
"""


@pytest.fixture
def library(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "library.yaml").write_text(LIBRARY)
    (tmp_path / "scripts" / "layers.yaml").write_text(SCRIPT)
    (tmp_path / "client.yaml").write_text(
        "library: scripts\nvariables: {name: from the profile}\nvoice: {rate: 140}\nlength: 6m\nscripts: [layers]\n")
    return tmp_path


def loaded(profile=None, **options):
    """The script as `meditate render` loads it: the profile's layer, then the command line's."""
    command_line = command_line_settings(variables=options.pop("overrides", ()), **options)
    if profile is None:
        return load("scripts/layers.yaml", command_line)
    client = load_profile(profile)
    return load(client.tracks[0].script, layered(client.settings(client.tracks[0]), command_line))


def test_command_line_over_profile_over_script_over_library(library):
    script = loaded("client.yaml", overrides=(("name", "from the command line"),), loudness=-14.0, length=420.0)
    assert (dict(script.variables)["name"], script.finish.loudness, script.length) == (
        "from the command line", -14.0, 420.0)
    script = loaded("client.yaml")
    assert (dict(script.variables)["name"], script.voice.rate, script.finish.loudness, script.length) == (
        "from the profile", 140, -20.0, 360.0)
    script = loaded()
    assert (dict(script.variables)["name"], script.voice.rate, script.finish.loudness, script.length) == (
        "from the script", 120, -20.0, 300.0)
    (library / "scripts" / "layers.yaml").write_text("title: Layers\nsteps:\n  - say: Hello {name}.\n")
    script = loaded()
    assert (dict(script.variables)["name"], script.voice.rate, script.finish.loudness, script.length) == (
        "from the library", 100, -24.0, None)
    (library / "scripts" / "library.yaml").unlink()
    script = load("scripts/layers.yaml", Settings(variables=(("name", "x"),)))
    assert (script.voice.rate, script.finish.loudness, script.length) == (None, -16.0, None)  # built-in defaults


def test_every_setting_given_from_outside_reaches_the_script(library):
    """Each field reaches the script: through `applied_to`, or the loader (`load_options`)."""
    recordings = library / "mine"
    recordings.mkdir()
    given = replace(Settings(**{k: v for k, v in SAMPLES.items() if k != "recordings"}), recordings=recordings)
    script = load("scripts/layers.yaml", given)
    assert (script.audio.sample_rate, script.audio.channels, script.audio.bitrate) == (48000, 2, 128)
    assert (script.finish.loudness, script.length, script.length_location) == (-20.0, 600.0, None)
    assert dict(script.variables)["name"] == "Ana"
    assert script.voice.rate == 150
    write_wav(recordings / "hello.wav", 0.5, 0.3)
    (library / "scripts" / "own.yaml").write_text("title: Own\nsteps:\n  - say: {text: Hello., recording: hello.wav}\n")
    assert load("scripts/own.yaml", given).steps[0].recording == recordings / "hello.wav"
