"""Never a stale or silent track (issue 22, third round): a source is what a name leads to, not the file it led
to last time; a hand-edited manifest entry is never published as built; a damaged manifest or journal never
stops a build. Real builds: eSpeak NG, the encoder, real links and files."""

import json
import os
import re
import wave
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from meditations.cli.commands import main
from helpers import ROOT


def build(*args, out="out"):
    return CliRunner().invoke(main, ["build", "scripts", "-o", out, "-j", "2", *args])


def dry_run(*args):
    return build("--dry-run", *args).stdout.splitlines()


def write(root: Path, files: dict) -> None:
    """Files below root; "->target" makes a symbolic link."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content.startswith("->"):
            path.symlink_to(content[2:])
        else:
            path.write_text(content, encoding="utf-8")


def relink(link: Path, target: str) -> None:
    link.unlink()
    link.symlink_to(target)


def tone(path: Path, hertz: float, seconds: float = 0.6, rate: int = 22050) -> None:
    t = np.arange(int(seconds * rate)) / rate
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1), handle.setsampwidth(2), handle.setframerate(rate)
        handle.writeframes((0.3 * np.sin(2 * np.pi * hertz * t) * 32767).astype("<i2").tobytes())


def transcript(out: Path, name: str) -> str:
    return (out / name).with_suffix(".vtt").read_text(encoding="utf-8")


QUICK = "lead_in: 0.2s\nfade_out: 0.2s\n"
PAUSES = ("title: Rest\ndescription: A quiet rest.\nlead_in: 0\nfade_out: 0\nsteps:\n  - chapter: Arrive\n"
          "  - pause: 2s\n  - chapter: Stay\n  - pause: 3s\n")  # no speech: quick to build


# ---------------------------------------------------------------- 1. a source is what a name leads to

LINKED = [
    # (what is linked, files, the link, its new target, the reason, what the rebuilt track says)
    ("a folder of partials", {
        "_partsA/closing.yaml": "steps:\n  - say: The first closing.\n",
        "_partsB/closing.yaml": "steps:\n  - say: The second closing.\n",
        "_p": "->_partsA",
        "s.yaml": f"title: S\n{QUICK}steps:\n  - include: _p/closing.yaml\n"},
     "_p", "_partsB", "_p/closing.yaml now leads to _partsB/closing.yaml", "The second closing."),
    ("a partial, through '..' after a folder link", {
        "_partsA/closing.yaml": "steps:\n  - say: The first closing.\n",
        "_partsA/in/x": "",
        "_partsB/closing.yaml": "steps:\n  - say: The second closing.\n",
        "_partsB/in/x": "",
        "_p": "->_partsA/in",
        "s.yaml": f"title: S\n{QUICK}steps:\n  - include: _p/../closing.yaml\n"},
     "_p", "_partsB/in", "_p/../closing.yaml now leads to _partsB/closing.yaml", "The second closing."),
    ("a partial's own include", {
        "_partsA/words.yaml": "steps:\n  - say: Words of the first.\n",
        "_partsB/words.yaml": "steps:\n  - say: Words of the second.\n",
        "_w": "->_partsA",
        "_closing.yaml": "steps:\n  - include: _w/words.yaml\n",
        "s.yaml": f"title: S\n{QUICK}steps:\n  - include: _closing.yaml\n"},
     "_w", "_partsB", "_w/words.yaml now leads to _partsB/words.yaml", "Words of the second."),
    ("library.yaml itself", {
        "_libA.yaml": "variables: {name: friend}\n",
        "_libB.yaml": "variables: {name: traveller}\n",
        "library.yaml": "->_libA.yaml",
        "s.yaml": f"title: S\n{QUICK}steps:\n  - say: Hello {{name}}.\n"},
     "library.yaml", "_libB.yaml", "library.yaml now leads to _libB.yaml", "Hello traveller."),
]


@pytest.mark.parametrize("files, link, target, reason, spoken", [c[1:] for c in LINKED], ids=[c[0] for c in LINKED])
def test_a_link_retargeted_rebuilds_what_it_leads_to(tmp_path, monkeypatch, files, link, target, reason, spoken):
    write(tmp_path / "scripts", files)
    monkeypatch.chdir(tmp_path)
    assert build("-q").exit_code == 0
    assert build().stdout == "built 0, unchanged 1, failed 0\n"
    relink(tmp_path / "scripts" / link, target)
    assert dry_run() == [f"would build s.mp3: {reason}", "1 to build, 0 unchanged"]
    assert build("--verify").stdout.splitlines()[-2:] == ["verified 1 track: all as built",
                                                          "built 1, unchanged 0, failed 0"]
    assert spoken in transcript(tmp_path / "out", "s.mp3")
    assert spoken in CliRunner().invoke(main, ["plan", "scripts/s.yaml"]).stdout  # the plan and the track agree
    assert build().stdout == "built 0, unchanged 1, failed 0\n"


def test_a_sound_whose_link_is_retargeted_is_rebuilt(tmp_path, monkeypatch):
    tone(tmp_path / "scripts" / "sounds-a" / "bell.wav", 300)
    tone(tmp_path / "scripts" / "sounds-b" / "bell.wav", 500, seconds=1.4)
    write(tmp_path / "scripts", {"sounds": "->sounds-a",
                                 "s.yaml": f"title: S\n{QUICK}steps:\n  - bell: {{sound: sounds/bell.wav}}\n"})
    monkeypatch.chdir(tmp_path)
    assert build("-q").exit_code == 0
    first = json.loads((tmp_path / "out" / "library.json").read_text())["tracks"][0]
    relink(tmp_path / "scripts" / "sounds", "sounds-b")
    assert dry_run() == ["would build s.mp3: sounds/bell.wav now leads to sounds-b/bell.wav", "1 to build, 0 unchanged"]
    assert build("-q").exit_code == 0
    again = json.loads((tmp_path / "out" / "library.json").read_text())["tracks"][0]
    assert again["sha256"] != first["sha256"] and again["duration"] > first["duration"]


def test_a_library_yaml_put_nearer_to_a_script_rebuilds_it(tmp_path, monkeypatch):
    write(tmp_path / "scripts", {
        "library.yaml": "variables: {name: friend}\n",
        "calm/s.yaml": f"title: S\n{QUICK}steps:\n  - say: Hello {{name}}.\n",
        "other.yaml": f"title: Other\n{QUICK}steps:\n  - say: Hello {{name}}.\n"})
    monkeypatch.chdir(tmp_path)
    assert build("-q").exit_code == 0
    write(tmp_path / "scripts", {"calm/library.yaml": "variables: {name: neighbour}\n"})
    assert dry_run() == ["would build calm/s.mp3: calm/library.yaml appeared", "1 to build, 1 unchanged"]
    assert "Hello neighbour." in CliRunner().invoke(main, ["plan", "scripts/calm/s.yaml"]).stdout
    assert build().stdout.splitlines()[-1] == "built 1, unchanged 1, failed 0"
    assert "Hello neighbour." in transcript(tmp_path / "out", "calm/s.mp3")
    (tmp_path / "scripts" / "calm" / "library.yaml").unlink()
    assert dry_run() == ["would build calm/s.mp3: calm/library.yaml is gone", "1 to build, 1 unchanged"]


def test_a_library_yaml_put_above_a_library_without_one_rebuilds_it(tmp_path, monkeypatch):
    write(tmp_path / "work" / "scripts", {"s.yaml": f"title: S\n{QUICK}steps:\n  - say: Hello {{name}}.\n"
                                                    "variables: {name: you}\n"})
    monkeypatch.chdir(tmp_path / "work")
    assert build("-q").exit_code == 0
    write(tmp_path / "work", {"library.yaml": "fade_out: 2s\n"})  # the library's root is now the folder above
    assert dry_run() == ["would build s.mp3: ../library.yaml appeared", "1 to build, 0 unchanged"]


def client_library(tmp_path: Path) -> None:
    tone(tmp_path / "scripts" / "welcome.wav", 300)
    write(tmp_path, {
        "scripts/welcome.yaml": f"title: Welcome\n{QUICK}steps:\n"
                                "  - say: {text: 'Welcome.', recording: welcome.wav}\n",
        "profiles/ana.yaml": "client: Ana\nlibrary: ../scripts\nrecordings: ana-recordings\nscripts: [welcome]\n"})
    (tmp_path / "profiles" / "ana-recordings").mkdir()


def build_ana(*args):
    return CliRunner().invoke(main, ["build", "--profile", "profiles/ana.yaml", "-o", "out", *args])


@pytest.mark.parametrize("how", ["a file", "the target of a link that led nowhere"])
def test_a_recording_that_appears_where_one_was_looked_for_is_used(tmp_path, monkeypatch, how):
    client_library(tmp_path)
    own = tmp_path / "profiles" / "ana-recordings" / "welcome.wav"
    take = own.parent / "takes" / "welcome.wav"  # where the link leads, once Ana records it
    if how != "a file":
        own.symlink_to("takes/welcome.wav")
    monkeypatch.chdir(tmp_path)
    assert build_ana("-q").exit_code == 0
    shared = json.loads((tmp_path / "out" / "ana" / "library.json").read_text())["tracks"][0]
    assert build_ana().stdout == "built 0, unchanged 1, failed 0\n"
    tone(own if how == "a file" else take, 500, seconds=1.5)
    assert build_ana("--dry-run").stdout.splitlines() == [
        "would build welcome.mp3: ../profiles/ana-recordings/welcome.wav appeared", "1 to build, 0 unchanged"]
    assert build_ana().stdout.splitlines()[-1] == "built 1, unchanged 0, failed 0"
    own_take = json.loads((tmp_path / "out" / "ana" / "library.json").read_text())["tracks"][0]
    assert own_take["duration"] > shared["duration"] + 0.5
    (own if how == "a file" else take).unlink()
    assert build_ana("--dry-run").stdout.splitlines() == [
        "would build welcome.mp3: ../profiles/ana-recordings/welcome.wav is gone", "1 to build, 0 unchanged"]


def test_the_manifest_records_every_lookup_and_where_it_led(tmp_path, monkeypatch):
    write(tmp_path / "scripts", {"_partsA/closing.yaml": "steps:\n  - say: Bye.\n", "_p": "->_partsA",
                                 "library.yaml": "album: A\n",
                                 "calm/s.yaml": f"title: S\n{QUICK}steps:\n  - include: ../_p/closing.yaml\n"})
    monkeypatch.chdir(tmp_path)
    assert build("-q").exit_code == 0
    entry = json.loads((tmp_path / "out" / "library.json").read_text())["tracks"][0]
    assert entry["lookups"] == {"calm/s.yaml": "calm/s.yaml", "calm/library.yaml": None,
                                "library.yaml": "library.yaml", "calm/../_p/closing.yaml": "_partsA/closing.yaml"}
    assert sorted(entry["sources"]) == ["_partsA/closing.yaml", "calm/s.yaml", "library.yaml"]


LOOKING = re.compile(r"os\.path\.(realpath|exists|lexists|isfile|isdir|islink)\b|\.(is_file|is_dir|exists|is_symlink|"
                     r"resolve|stat|lstat)\(\)|\bos\.(stat|lstat)\(|\brglob\(|\bglob\(")


def test_the_loader_looks_paths_up_in_one_place():
    """Complete by construction: no module that loads a track's files asks the file system where a name leads
    but through Lookups (files/lookups.py), which records it. Finding the scripts and reading a profile, which
    decide what the tracks are rather than what one is made of, are the only others."""
    loading = ROOT / "meditations" / "loading"
    others = {"discovery.py", "profiles.py"}
    offenders = [f"{path.name}:{number}: {line.strip()}" for path in sorted(loading.glob("*.py")) if path.name not in others
                 for number, line in enumerate(path.read_text().splitlines(), 1) if LOOKING.search(line)]
    assert offenders == []
    assert LOOKING.search((ROOT / "meditations" / "files" / "lookups.py").read_text())  # the check sees them


# ---------------------------------------------------------------- 2. hand-edited manifests

EDITED = "its manifest entry was changed outside meditate"
UNSEALED = "its manifest entry has no digest (an older meditate wrote it, or it was changed outside meditate)"
PUBLISHED = ("library.json", "index.html", "library.m3u8", "feed.xml")


def published(out: Path) -> dict:
    """The manifest, page, playlist and feed, but the feed's dates (a rebuilt track is published anew)."""
    files = {name: (out / name).read_text(encoding="utf-8") for name in PUBLISHED}
    files["feed.xml"] = re.sub(r"<(lastBuildDate|pubDate)>[^<]*<", "<\\1><", files["feed.xml"])
    return files


def edit_entry(out: Path, change) -> None:
    manifest = json.loads((out / "library.json").read_text())
    change(manifest["tracks"][0])
    (out / "library.json").write_text(json.dumps(manifest, indent=2))


EDITS = [
    ("title", lambda e: e.update(title="Free money, click here"), EDITED),
    ("description", lambda e: e.update(description="Call 555 0100"), EDITED),
    ("duration", lambda e: e.update(duration=3600.0), EDITED),
    ("chapters", lambda e: e["chapters"][1].update(title="Buy now"), EDITED),
    ("a chapter's start", lambda e: e["chapters"][1].update(start=0.5), EDITED),
    ("chapters removed", lambda e: e.update(chapters=[]), EDITED),
    ("transcript", lambda e: e.update(transcript="other.vtt"), EDITED),
    ("size", lambda e: e.update(size=1), EDITED),
    ("fingerprint", lambda e: e.update(fingerprint="f" * 64), EDITED),
    ("sources emptied", lambda e: e.update(sources={}), EDITED),
    ("a lookup", lambda e: e["lookups"].update({"s.yaml": None}), EDITED),
    ("lookups emptied", lambda e: e.update(lookups={}), EDITED),
    ("a digest of another entry", lambda e: e.update(title="T", digest="0" * 64), EDITED),
    ("its digest removed", lambda e: e.pop("digest"), UNSEALED),
    ("its digest and hash removed", lambda e: (e.pop("digest"), e.pop("sha256")), UNSEALED),
]


@pytest.fixture
def rest(tmp_path, monkeypatch):
    write(tmp_path / "scripts", {"s.yaml": PAUSES})
    monkeypatch.chdir(tmp_path)
    assert build("-q", "--base-url", "https://example.org/rest/").exit_code == 0
    out = tmp_path / "out"
    return out, published(out)


@pytest.mark.parametrize("change, reason", [e[1:] for e in EDITS], ids=[e[0] for e in EDITS])
def test_a_hand_edited_entry_is_rebuilt_and_the_page_shows_the_truth(rest, change, reason):
    out, before = rest
    edit_entry(out, change)
    assert build("--dry-run").stdout.splitlines() == [f"would build s.mp3: {reason}", "1 to build, 0 unchanged"]
    result = build("--verify", "--base-url", "https://example.org/rest/")
    assert result.stdout.splitlines()[-2:] == [f"verified 1 track: 1 not as built, rebuilt (s.mp3: {reason})",
                                               "built 1, unchanged 0, failed 0"]
    assert published(out) == before  # the true values, as first built
    assert build("--base-url", "https://example.org/rest/").stdout == "built 0, unchanged 1, failed 0\n"


@pytest.mark.parametrize("change, reason", [
    (lambda vtt: vtt.write_text(vtt.read_text() + "\n00:00:01.000 --> 00:00:02.000\nBuy now.\n"),
     "its transcript was changed outside meditate"),
    (lambda vtt: vtt.unlink(), "its transcript is missing"),
], ids=["edited", "removed"])
def test_a_transcript_changed_by_hand_is_rebuilt_and_the_page_shows_the_truth(rest, change, reason):
    out, before = rest
    change(out / "s.vtt")
    assert build("--dry-run").stdout.splitlines() == [f"would build s.mp3: {reason}", "1 to build, 0 unchanged"]
    result = build("--verify", "--base-url", "https://example.org/rest/")
    assert result.stdout.splitlines()[-2:] == [f"verified 1 track: 1 not as built, rebuilt (s.mp3: {reason})",
                                               "built 1, unchanged 0, failed 0"]
    assert published(out) == before and "Buy now" not in (out / "s.vtt").read_text()


def test_an_edited_entry_is_never_published_even_when_its_script_is_gone(tmp_path, monkeypatch):
    write(tmp_path / "scripts", {"s.yaml": PAUSES, "t.yaml": PAUSES.replace("title: Rest", "title: Other")})
    monkeypatch.chdir(tmp_path)
    assert build("-q").exit_code == 0
    out = tmp_path / "out"
    (tmp_path / "scripts" / "s.yaml").unlink()  # its track stays (no --prune), listed as it was built
    assert build().stdout == "built 0, unchanged 1, failed 0\n"
    assert ">Rest</h2>" in (out / "index.html").read_text()
    edit_entry(out, lambda e: e.update(title="Edited by hand"))
    assert build().stdout == "built 0, unchanged 1, failed 0\n"
    page = (out / "index.html").read_text()
    assert "Edited by hand" not in page and ">Rest</h2>" not in page and ">Other</h2>" in page
    assert "Edited by hand" not in (out / "library.m3u8").read_text()
    assert build("--prune").stdout == "built 0, unchanged 1, failed 0\n"  # an edited entry deletes nothing
    assert (out / "s.mp3").exists() and (out / "s.vtt").exists()


# ---------------------------------------------------------------- 3. a damaged manifest never stops a build

DEEP = "[" * 100000 + "]" * 100000


@pytest.fixture
def built(tmp_path, monkeypatch):
    write(tmp_path / "scripts", {"s.yaml": PAUSES})
    monkeypatch.chdir(tmp_path)
    assert build("-q").exit_code == 0
    return tmp_path / "out"


@pytest.mark.parametrize("damage", [DEEP, '{"tracks": ' + DEEP + "}", '{"tracks": [{"file": "s.mp3", "title": '
                                    + "[" * 5000 + "]" * 5000 + "}]}", '{"tracks": ' + "{\"a\": " * 50000 + "1"
                                    + "}" * 50000 + "}"], ids=["a list", "its tracks", "a title", "mappings"])
def test_a_deeply_nested_manifest_is_rebuilt_and_never_stops_a_build(built, damage):
    (built / "library.json").write_text(damage)
    assert dry_run() == ["would build s.mp3: new", "1 to build, 0 unchanged"]
    result = build()
    assert (result.exit_code, result.stdout.splitlines()[-1]) == (0, "built 1, unchanged 0, failed 0")
    assert "Traceback" not in result.output
    assert build().stdout == "built 0, unchanged 1, failed 0\n"  # and every later build goes on


def test_a_deeply_nested_journal_line_is_skipped_and_the_others_are_read(built):
    entry = json.loads((built / "library.json").read_text())["tracks"][0]
    (built / "library.json").write_text(DEEP)  # only the journal still knows the track
    (built / ".meditate-journal.jsonl").write_text(DEEP + "\n" + json.dumps(entry) + "\n" + DEEP + "\n")
    assert dry_run() == ["0 to build, 1 unchanged"]
    assert build().stdout == "built 0, unchanged 1, failed 0\n"
    assert not (built / ".meditate-journal.jsonl").exists()
    assert json.loads((built / "library.json").read_text())["tracks"] == [entry]


def test_a_deeply_nested_stat_cache_is_read_again(built):
    (built / ".meditate-state.json").write_text(DEEP)
    assert build().stdout == "built 0, unchanged 1, failed 0\n"
    assert json.loads((built / ".meditate-state.json").read_text())


def test_a_manifest_over_its_size_limit_is_not_read(built, monkeypatch):
    size = (built / "library.json").stat().st_size
    monkeypatch.setenv("MEDITATE_MAX_MANIFEST_BYTES", str(size - 1))
    assert dry_run() == ["would build s.mp3: new", "1 to build, 0 unchanged"]
    monkeypatch.setenv("MEDITATE_MAX_MANIFEST_BYTES", str(size))
    assert dry_run() == ["0 to build, 1 unchanged"]
    monkeypatch.setenv("MEDITATE_MAX_MANIFEST_BYTES", "lots")
    result = build()
    assert (result.exit_code, result.stderr) == (1, "Error: MEDITATE_MAX_MANIFEST_BYTES=lots is not a whole number\n")
    assert os.path.exists(built / "s.mp3")


def test_a_deeply_nested_piper_config_is_one_located_line(tmp_path, monkeypatch):
    """The same class in a library's own JSON: a voice's config nested 100000 deep."""
    (tmp_path / "voices").mkdir()
    (tmp_path / "voices" / "deep.onnx").write_bytes(b"not really a model")
    (tmp_path / "voices" / "deep.onnx.json").write_text(DEEP)
    (tmp_path / "s.yaml").write_text("title: x\nvoice: {engine: piper, model: voices/deep.onnx}\nsteps:\n  - say: Hi.\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["validate", "s.yaml"])
    assert (result.exit_code, result.stderr) == (
        1, "s.yaml:2:31: the Piper config 'deep.onnx.json' is not a Piper voice config\n")
