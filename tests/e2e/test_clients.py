"""The client area (issue 24): a client's profile, scripts and set live apart from the public library; their
words never reach the public output; a personalised render never replaces a library track; a client can be
removed completely, cache included."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

from meditations.building.clips import speech_requests
from meditations.cli.commands import main
from meditations.loading import load, load_profile
from meditations.speaking import SpeechEngine, clip_cache, resolve_voices

LIBRARY = "album: Practice\nvariables: {name: \"\"}\n"
SCRIPT = "title: Calm\nsteps:\n  - say: Welcome, {name}.\n  - pause: 1s\n  - say: Let your shoulders soften.\n"
ZOE = unicodedata.normalize("NFC", "Zoë")


def run(*args, stdin: str | None = None):
    return CliRunner().invoke(main, list(args), input=stdin)


@pytest.fixture
def practice(tmp_path, monkeypatch):
    """A practice's folder: the library's scripts/, nothing else yet."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "library.yaml").write_text(LIBRARY, encoding="utf-8")
    (tmp_path / "scripts" / "calm.yaml").write_text(SCRIPT, encoding="utf-8")
    return tmp_path


def public_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def test_a_client_is_added_built_and_kept_out_of_the_public_library(practice):
    added = run("client", "new", ZOE, "--scripts", "calm")
    assert added.exit_code == 0, added.output
    assert added.output == f"wrote clients/{ZOE}/profile.yaml: build the set with: meditate client build {ZOE}\n"
    profile = load_profile(practice / "clients" / ZOE / "profile.yaml")
    assert profile.client == ZOE and dict(profile.variables) == {"name": ZOE} and profile.folder == ZOE

    built = run("client", "build", ZOE)
    assert built.exit_code == 0, built.output
    assert (practice / "client_sets" / ZOE / "calm.mp3").is_file()
    manifest = json.loads((practice / "client_sets" / ZOE / "library.json").read_text(encoding="utf-8"))
    assert manifest["owner"] == {"profile": f"../../clients/{ZOE}/profile.yaml"}
    assert manifest["tracks"][0]["script"] == "../../scripts/calm.yaml"  # no machine's layout in it
    assert str(practice) not in (practice / "client_sets" / ZOE / "library.json").read_text(encoding="utf-8")

    public = run("build", "--base-url", "https://example.org/library/")
    assert public.exit_code == 0, public.output
    assert (practice / "audio_out" / "calm.mp3").is_file()
    assert ZOE.encode() not in public_bytes(practice / "audio_out")
    assert sorted(p.name for p in (practice / "audio_out").iterdir()) == [
        ".meditate-state.json", "calm.mp3", "calm.vtt", "feed.xml", "index.html", "library.json", "library.m3u8"]


def test_a_name_typed_either_way_is_one_client(practice):
    assert run("client", "new", unicodedata.normalize("NFD", "Zoë"), "--scripts", "calm").exit_code == 0
    assert [p.name for p in (practice / "clients").iterdir()] == [ZOE]
    again = run("client", "new", ZOE, "--scripts", "calm")
    assert again.exit_code == 1
    assert again.output == (f"Error: clients/{ZOE}/profile.yaml already exists: edit it, or remove the client first "
                            f"(meditate client remove {ZOE})\n")


def test_a_clients_own_script_takes_the_librarys_place_in_their_set(practice):
    """A script of the client's own with a library script's name is theirs: added after their set was built (when
    nothing the library's track read has changed), the next build makes the track from it; removed, from the
    library's again."""
    assert run("client", "new", "Ana", "--scripts", "calm").exit_code == 0
    assert run("client", "build", "Ana").exit_code == 0
    folder = practice / "client_sets" / "Ana"
    own = practice / "clients" / "Ana" / "scripts" / "calm.yaml"
    own.write_text(SCRIPT.replace("Let your shoulders soften.", "Rest here, as we practised."), encoding="utf-8")
    for made_from, line in (("../../clients/Ana/scripts/calm.yaml", "Rest here, as we practised."),
                            ("../../scripts/calm.yaml", "Let your shoulders soften.")):
        rebuilt = run("client", "build", "Ana")
        assert rebuilt.exit_code == 0 and rebuilt.output.splitlines()[-1] == "built 1, unchanged 0, failed 0", \
            rebuilt.output
        manifest = json.loads((folder / "library.json").read_text(encoding="utf-8"))
        assert manifest["tracks"][0]["script"] == made_from
        assert line in (folder / "calm.vtt").read_text(encoding="utf-8")
        own.unlink(missing_ok=True)


def test_without_a_terminal_or_options_a_new_client_gets_a_commented_profile(practice):
    added = run("client", "new", "Ana")
    assert added.exit_code == 0, added.output
    text = (practice / "clients" / "Ana" / "profile.yaml").read_text(encoding="utf-8")
    assert "# length: 10m" in text and '  - "calm"' in text and 'name: "Ana"' in text
    assert (practice / "clients" / "Ana" / "scripts").is_dir()


def test_a_client_build_never_goes_into_the_public_output(practice):
    assert run("build").exit_code == 0
    assert run("client", "new", "Ana", "--scripts", "calm").exit_code == 0
    refused = run("build", "--profile", "clients/Ana/profile.yaml", "-o", "audio_out")
    assert refused.exit_code == 1
    assert refused.output == ("Error: audio_out is the public library's output: client sets go into a private "
                              "folder of their own (default client_sets/)\n")
    assert not (practice / "audio_out" / "Ana").exists()


def test_a_personalised_render_never_replaces_the_librarys_track(practice):
    assert run("build").exit_code == 0
    before = (practice / "audio_out" / "calm.mp3").read_bytes()
    refused = run("render", "scripts/calm.yaml", "--set", "name=Ana")
    assert refused.exit_code == 1
    assert refused.output == ("Error: audio_out/calm.mp3 is a track of the library scripts, built with other "
                              "settings: rendering scripts/calm.yaml over it would replace it; render into another "
                              "folder (-o), or add --force to replace it\n")
    assert (practice / "audio_out" / "calm.mp3").read_bytes() == before
    assert run("render", "scripts/calm.yaml").exit_code == 0  # the same inputs: the same track
    assert run("render", "scripts/calm.yaml", "--set", "name=Ana", "-o", "drafts").exit_code == 0
    forced = run("render", "scripts/calm.yaml", "--set", "name=Ana", "--force")
    assert forced.exit_code == 0, forced.output


def test_remove_takes_the_client_and_their_audio_and_nothing_else(practice):
    assert run("client", "new", "Ana", "--scripts", "calm").exit_code == 0
    assert run("client", "new", "Ben", "--scripts", "calm").exit_code == 0
    assert run("client", "build", "--all").exit_code == 0
    assert run("build").exit_code == 0

    def keys(spoken_name):
        script = load(practice / "scripts" / "calm.yaml",
                      load_profile(practice / "clients" / spoken_name / "profile.yaml").settings())
        with SpeechEngine() as engine:
            return {r.text: r.key() for r in speech_requests(script, resolve_voices(script, engine.voices()))}

    ana, ben = keys("Ana"), keys("Ben")
    cache = clip_cache()
    assert cache.has(ana["Welcome, Ana."]) and cache.has(ana["Let your shoulders soften."])

    asked = run("client", "remove", "Ana")
    assert asked.exit_code == 2
    assert asked.output.endswith("Error: this removes the client's files for good: add --yes to do it without a "
                                 "terminal\n")
    assert (practice / "clients" / "Ana").is_dir()

    removed = run("client", "remove", "Ana", "--yes")
    assert removed.exit_code == 0, removed.output
    assert removed.output.splitlines()[-1] == "removed Ana"
    assert not (practice / "clients" / "Ana").exists() and not (practice / "client_sets" / "Ana").exists()
    left = [p for p in practice.rglob("*") if "Ana" in p.name or (p.is_file() and b"Ana" in p.read_bytes())]
    assert left == []  # nothing of hers anywhere in the practice's folder
    assert not cache.has(ana["Welcome, Ana."])  # their own sentence is gone
    assert cache.has(ana["Let your shoulders soften."])  # the library's and Ben's stays
    assert cache.has(ben["Welcome, Ben."])
    assert (practice / "client_sets" / "Ben" / "calm.mp3").is_file() and (practice / "audio_out" / "calm.mp3").is_file()


def test_two_profiles_that_name_one_folder_are_refused(practice):
    for name in ("Zoë", unicodedata.normalize("NFD", "Zoë")):
        folder = practice / "profiles"
        folder.mkdir(exist_ok=True)
        (folder / f"{name}.yaml").write_text("scripts: [calm]\n", encoding="utf-8")
    result = run("build", "--profiles", "profiles")
    assert result.exit_code == 1
    assert f"its output folder '{ZOE}' is also" in result.output


def test_share_hands_over_the_set_at_an_address_no_one_can_guess(practice):
    assert run("client", "new", "Ana", "--scripts", "calm").exit_code == 0
    assert run("client", "build", "Ana").exit_code == 0
    local = run("client", "share", "Ana")
    assert local.exit_code == 0, local.output
    assert local.output.splitlines()[-2:] == [
        "Ana's set is ready in client_sets/Ana/: give them HANDOUT.html (print it, or send it)",
        "or, to listen by a link and in a podcast app, publish it: add --base-url URL"]
    folder = practice / "client_sets" / "Ana"
    assert {"HANDOUT.html", "tracks.zip", "index.html"} <= {p.name for p in folder.iterdir()}
    assert not (folder / "feed.xml").exists() and not (folder / "qr.png").exists()

    shared = run("client", "share", "Ana", "--base-url", "https://example.org/sets/")
    assert shared.exit_code == 0, shared.output
    token = load_profile(practice / "clients" / "Ana" / "profile.yaml").token
    assert token and len(token) >= 22
    secret = practice / "client_sets" / f"Ana-{token}"
    assert not folder.exists() and (secret / "calm.mp3").is_file()  # moved, not rebuilt
    assert "built 0, unchanged 1, failed 0" in shared.output
    address = f"https://example.org/sets/Ana-{token}/"
    assert shared.output.splitlines()[-1] == (f"upload client_sets/Ana-{token}/ to {address} (that folder only); "
                                              f"their page: {address}index.html")
    feed = (secret / "feed.xml").read_text(encoding="utf-8")
    assert "<itunes:block>Yes</itunes:block>" in feed and "<podcast:locked>yes</podcast:locked>" in feed
    assert f"{address}calm.mp3" in feed
    assert '<meta name="robots" content="noindex, nofollow">' in (secret / "index.html").read_text(encoding="utf-8")

    rebuilt = run("client", "build", "Ana")  # a later build keeps the private page, feed and address
    assert rebuilt.exit_code == 0 and (secret / "feed.xml").read_text(encoding="utf-8") == feed
    assert run("client", "remove", "Ana", "--yes").exit_code == 0
    assert not secret.exists() and not (practice / "clients" / "Ana").exists()


def test_a_public_script_that_names_a_client_is_pointed_out(practice):
    assert run("client", "new", "Annabel", "--scripts", "calm").exit_code == 0
    (practice / "scripts" / "for-annabel.yaml").write_text("title: For her\nsteps:\n  - say: Hello Annabel.\n",
                                                           encoding="utf-8")
    (practice / "scripts" / "noted.yaml").write_text(  # a note, as the templates have, names no one
        "# try it with --set name=Annabel\ntitle: Noted  # for Annabel's kind\nsteps:\n  - say: Hello.\n",
        encoding="utf-8")
    result = CliRunner().invoke(main, ["build", "--dry-run"])
    assert result.exit_code == 0
    assert result.stderr.count("warning") == 1
    assert result.stderr.splitlines()[0] == (
        "scripts/for-annabel.yaml:3:16: warning: 'Annabel' is a client's name (clients/Annabel/profile.yaml): a "
        "client's words belong in clients/Annabel/scripts/, not in the public library")


def test_a_public_script_that_needs_a_clients_variable_is_refused(practice):
    (practice / "scripts" / "library.yaml").write_text("album: Practice\n", encoding="utf-8")  # no name default
    result = CliRunner().invoke(main, ["build"])
    assert result.exit_code == 1
    assert result.stderr == ("scripts/calm.yaml:3:19: unknown placeholder '{name}': define it under 'variables:' "
                             "or pass --set name=VALUE\n")
    assert not (practice / "audio_out" / "calm.mp3").exists()


def test_on_a_terminal_a_new_client_is_asked_for(practice):
    """`client new` with no options on a terminal asks three questions (answered here before they are asked:
    a terminal keeps what is typed) and writes the profile from the answers."""
    import os
    import pty
    import subprocess
    import sys

    main_end, child_end = pty.openpty()
    process = subprocess.Popen([sys.executable, str(Path(__file__).parents[2] / "cli.py"), "client", "new", "Ana"],
                               stdin=child_end, stdout=child_end, stderr=child_end, cwd=practice)
    os.close(child_end)
    os.write(main_end, "Ana María\ncalm\n10m\n".encode())
    seen = b""
    while True:
        try:
            chunk = os.read(main_end, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(main_end)
    assert process.wait(timeout=60) == 0
    shown = seen.decode().replace("\r\n", "\n")
    assert "How should the practices address Ana? (empty: no name) [Ana]: " in shown
    assert "Practices: calm\nWhich practices, separated by commas [calm]: " in shown
    assert "Fit every track to a length (e.g. 10m; empty: each practice's own): " in shown
    assert shown.endswith("wrote clients/Ana/profile.yaml: build the set with: meditate client build Ana\n")
    profile = load_profile(practice / "clients" / "Ana" / "profile.yaml")
    assert dict(profile.variables) == {"name": "Ana María"} and profile.tracks[0].length == 600
