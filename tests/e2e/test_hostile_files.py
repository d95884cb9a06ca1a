"""Hostile files around the caches and the output folder (issue 22): a cache entry belongs to its key and a
stuck entry never stops a render; a link of any kind at the name of a file meditate writes is replaced,
never written through; an output folder moved while a build runs stops it with one line, its finished
tracks kept where it went."""

import hashlib
import json
import os
import secrets
import shutil
import stat
import struct
import subprocess
import uuid
import zlib

from pathlib import Path

import pytest
from click.testing import CliRunner

import meditations
from meditations.cli.commands import main
from meditations.files import BlobCache, write_atomic
from meditations.speaking import SpeechEngine
from test_hostile import materialize, valid_track
from test_interrupt import no_process_left, start, temporaries, wait_for


def run(*args, **env):
    return CliRunner(env=env or None).invoke(main, list(args))


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def chattr(flag, paths):
    """Set or clear the immutable flag (root included: nobody may write, replace or remove the file)."""
    for path in paths:
        if subprocess.run(["chattr", flag, str(path)], capture_output=True).returncode != 0:
            pytest.skip("needs chattr on this file system")


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB file system (a tmpfs), for a disk that fills up."""
    folder = tmp_path / "small"
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)],
                      capture_output=True).returncode != 0:
        pytest.skip("needs permission to mount a small tmpfs")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def fill(folder):
    """Write into folder until its disk is full."""
    with open(folder / "filler", "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass


# ---------------------------------------------------------------- a cache entry belongs to its key

KINDS = ("speech", "clip-stats", "mp3-pieces", "voice-gain", "bed-peaks")
CACHED = ("title: Cached\nbackground: {sound: pink-noise}\nsteps:\n  - say: The first sentence, spoken here.\n"
          "  - pause: 2s\n  - say: A second sentence, not the same at all.\n  - pause: 2s\n")


def render_with(cache):
    """Render s.yaml and b.yaml with this cache folder; what they made (the render must succeed)."""
    result = run("render", "s.yaml", "b.yaml", "-o", "out", MEDITATE_CACHE_DIR=str(cache))
    assert (result.exit_code, result.stderr) == (0, "")
    return result.output, {path.name: path.read_bytes() for path in sorted(Path("out").iterdir())}


def entries(cache, kind=None):
    """The files of the cache's entries (of one kind), in order."""
    return sorted(path for name in ([kind] if kind else KINDS) for path in (cache / name).rglob("*.bin")
                  if path.is_file())


@pytest.fixture
def cached(work):
    """A render with a cache of its own: (the cache folder, what the render made). Its two scripts have
    other sentences and another bed: each kind of entry but the voice's gain has two that the render reads."""
    (work / "s.yaml").write_text(CACHED)
    (work / "b.yaml").write_text(CACHED.replace("pink-noise", "brown-noise").replace("first", "opening"))
    made = render_with(work / "cache")
    assert all(len(entries(work / "cache", kind)) >= 2 for kind in KINDS if kind != "voice-gain")
    return work / "cache", made


def another_entry(every, path):
    """The entry after path among every entry: another key's, of the same kind while it has one."""
    return every[(every.index(path) + 1) % len(every)]


@pytest.mark.parametrize("kind", KINDS)
def test_an_entry_copied_over_another_keys_is_made_again(cached, kind):
    cache, made = cached
    every = entries(cache)
    copied = {path: another_entry(every, path).read_bytes() for path in entries(cache, kind)}
    for path, data in copied.items():
        path.write_bytes(data)
    if kind == "voice-gain":  # read when a clip is made
        shutil.rmtree(cache / "speech")
    assert render_with(cache) == made
    for path in copied:
        assert path.read_bytes() != copied[path]  # replaced by the entry of its own key
        assert BlobCache(cache / kind).get(path.stem) is not None


def test_an_entry_of_the_previous_format_is_made_again(tmp_path):
    store, key, payload = BlobCache(tmp_path), "ab" + "0" * 62, b"a clip"
    store.path_for(key).parent.mkdir(parents=True)
    store.path_for(key).write_bytes(b"MDC1" + hashlib.sha256(payload).digest() + payload)
    assert store.get(key) is None
    assert store.put(key, payload)
    assert store.get(key) == payload and store.path_for(key).read_bytes()[:4] == b"MDC2"


def test_folders_where_entries_go_cost_no_render(cached):
    cache, made = cached
    stuck = entries(cache)
    for path in stuck:
        path.unlink()
        path.mkdir()
        (path / "kept").write_text("not the cache's")
    assert render_with(cache) == made
    assert render_with(cache) == made  # the entries made elsewhere are found again
    assert all((path / "kept").read_text() == "not the cache's" for path in stuck)


def test_entries_that_cannot_be_replaced_cost_no_render(cached):
    cache, made = cached
    every = entries(cache)
    copied = {path: another_entry(every, path).read_bytes() for path in every}
    for path, data in copied.items():
        path.write_bytes(data)
        path.chmod(0o444)
    try:
        chattr("+i", every)  # read-only for root too
        assert render_with(cache) == made
        assert render_with(cache) == made
        assert all(path.read_bytes() == copied[path] for path in every)
    finally:
        chattr("-i", every)


def test_a_cache_disk_that_fills_up_keeps_what_it_can(cached, small_disk, monkeypatch):
    # (The command line refuses a cache disk that is full when it starts: this one fills up meanwhile.)
    cache, made = cached
    shutil.copytree(cache / "speech", small_disk / "speech")  # the clips, made before the disk filled up
    fill(small_disk)
    monkeypatch.setenv("MEDITATE_CACHE_DIR", str(small_disk))
    shutil.rmtree("out")
    with SpeechEngine(workers=1) as engine:
        for name in ("s", "b"):
            meditations.render(meditations.load(f"{name}.yaml"), f"out/{name}.mp3", engine)
    assert {path.name: path.read_bytes() for path in sorted(Path("out").iterdir())} == made[1]
    assert not any(entries(small_disk, kind) for kind in ("clip-stats", "mp3-pieces", "bed-peaks"))


def test_a_speech_cache_that_can_keep_no_clip_is_one_line(work):
    (work / "s.yaml").write_text("title: x\nsteps:\n  - say: Nowhere to keep this sentence.\n")
    speech = work / "cache" / "speech"
    speech.mkdir(parents=True)
    for name in [f"{n:02x}" for n in range(256)] + ["spare"]:  # a file where each folder of entries goes
        (speech / name).write_text("")
    result = run("render", "s.yaml", "-o", "out", MEDITATE_CACHE_DIR=str(work / "cache"))
    assert (result.exit_code, result.stderr) == (1, (
        f"s.yaml:3:10: speech synthesis failed for 'Nowhere to keep this sentence.': the speech cache folder "
        f"{speech} cannot be written; set MEDITATE_CACHE_DIR to a folder you can write\n"))
    assert not (work / "out").exists() or list((work / "out").iterdir()) == []


# ---------------------------------------------------------------- links of any kind, never written through



def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


# a 1x1 grey PNG: the library's cover, embedded in every track and copied into the output folder
PNG = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)) \
    + png_chunk(b"IDAT", zlib.compress(b"\x00\x80")) + png_chunk(b"IEND", b"")
LIBRARY = {
    "library.yaml": "album: Links\ncover: cover.png\nlead_in: 0.5s\nfade_out: 1s\n",
    "cover.png": PNG,
    "one.yaml": "title: One\nsteps:\n  - say: The first track.\n  - pause: 2s\n",
    "sub/two.yaml": "title: Two\nsteps:\n  - say: The second track.\n  - pause: 2s\n",
}
WRITTEN = ["library.json", ".meditate-state.json", ".meditate-journal.jsonl", "one.mp3", "one.vtt", "sub/two.mp3",
           "sub/two.vtt", "index.html", "library.m3u8", "feed.xml", "cover.png"]


def link(kind, target, name):
    name.parent.mkdir(parents=True, exist_ok=True)
    if kind == "hard":
        os.link(target, name)
    else:
        name.symlink_to(target)


def precious(folder, count):
    """Files outside the output folder, and how they are now: {path: (bytes, mtime, links)}."""
    folder.mkdir()
    for n in range(count):
        (folder / f"{n}.txt").write_text(f"precious {n}\n")
    return state(folder)


def state(folder):
    return {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in sorted(folder.iterdir())}


@pytest.mark.parametrize("kind", ["hard", "symbolic"])
def test_no_file_of_a_build_is_written_through_a_link(work, kind):
    materialize(work / "scripts", LIBRARY)
    before = precious(work / "outside", len(WRITTEN))
    for n, name in enumerate(WRITTEN):
        link(kind, work / "outside" / f"{n}.txt", work / "out" / name)
    result = run("build", "scripts", "-o", "out", "--base-url", "https://example.org/links/")
    assert (result.exit_code, result.stderr) == (0, "")
    assert state(work / "outside") == before
    assert all(path.stat().st_nlink == 1 for path in before)  # not one name of ours left on them
    for name in WRITTEN:
        path = work / "out" / name
        if name != ".meditate-journal.jsonl":  # (removed once library.json holds its entries)
            assert stat.S_ISREG(os.lstat(path).st_mode) and os.lstat(path).st_nlink == 1, name
    assert not (work / "out" / ".meditate-journal.jsonl").exists()
    tracks = json.loads((work / "out" / "library.json").read_text())["tracks"]
    assert [t["file"] for t in tracks] == ["one.mp3", "sub/two.mp3"]
    assert all(valid_track(work / "out" / t["file"], t["duration"]) for t in tracks)
    assert (work / "out" / "cover.png").read_bytes() == PNG


@pytest.mark.parametrize(("kind", "why"), [("hard", "it is a hard link (the same file has another name)"),
                                           ("symbolic", "it is a link")])
def test_a_lock_file_that_is_a_link_is_refused(work, kind, why):
    materialize(work / "scripts", LIBRARY)
    before = precious(work / "outside", 1)
    link(kind, work / "outside" / "0.txt", work / "out" / ".meditate.lock")
    result = run("build", "scripts", "-o", "out")
    assert (result.exit_code, result.stderr) == (1, f"Error: cannot use the lock file out/.meditate.lock: {why}\n")
    assert state(work / "outside") == before
    assert sorted(p.name for p in (work / "out").iterdir()) == [".meditate.lock"]


def test_a_journal_that_is_a_link_is_neither_read_nor_written(work):
    materialize(work / "scripts", LIBRARY)
    (work / "outside").mkdir()
    entry = {"file": "one.mp3", "title": "Not this one", "duration": 1.0}
    (work / "outside" / "journal").write_text(json.dumps(entry) + "\n")
    before = state(work / "outside")
    link("hard", work / "outside" / "journal", work / "out" / ".meditate-journal.jsonl")
    result = run("build", "scripts", "-o", "out")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.output.endswith("built 2, unchanged 0, failed 0\n")
    assert state(work / "outside") == before


def test_a_subfolder_that_is_a_link_is_never_written_through(work):
    materialize(work / "scripts", LIBRARY)
    (work / "outside").mkdir()
    link("symbolic", work / "outside", work / "out" / "sub")
    result = run("build", "scripts", "-o", "out")
    assert (result.exit_code, result.stderr) == (1, "Error: cannot write out/sub/two.mp3: out/sub is a link, and "
                                                    "meditate writes only inside the output folder\n")
    assert list((work / "outside").iterdir()) == []
    assert result.output.endswith("built 1, unchanged 0, failed 1\n")
    assert valid_track(work / "out" / "one.mp3", json.loads((work / "out" / "library.json").read_text())
                       ["tracks"][0]["duration"])


@pytest.mark.parametrize("kind", ["hard", "symbolic"])
def test_a_temporary_file_is_always_a_new_one(tmp_path, monkeypatch, kind):
    before = precious(tmp_path / "outside", 1)
    names = iter(["aaaaaaaa", "aaaaaaaa", "bbbbbbbb"])
    monkeypatch.setattr(secrets, "token_hex", lambda _size: next(names))
    taken = tmp_path / "out" / f".t.vtt.{os.getpid()}-aaaaaaaa.tmp"  # the name it would choose first
    link(kind, tmp_path / "outside" / "0.txt", taken)
    write_atomic(tmp_path / "out" / "t.vtt", b"WEBVTT\n")
    assert state(tmp_path / "outside") == before
    assert (tmp_path / "out" / "t.vtt").read_bytes() == b"WEBVTT\n"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [taken.name, "t.vtt"]


# ---------------------------------------------------------------- the output folder moved while a build runs

MOVED = "Error: the folder out was moved or replaced while meditate was writing into it; what was finished " \
        "before is in the moved folder; run the command again\n"
THREE = {f"{name}.yaml": f"title: {name}\nsteps:\n  - say: Track {name}.\n  - pause: 2m\n"
         for name in ("one", "two", "three")}


def test_an_output_folder_moved_during_a_build_stops_it(tmp_path):
    materialize(tmp_path / "scripts", THREE)
    tag = uuid.uuid4().hex
    build = start(["build", "scripts", "-o", "out", "-j", "1"], tmp_path, tag)
    out, moved = tmp_path / "out", tmp_path / "moved"
    wait_for(lambda: any(out.glob("*.mp3")))
    os.rename(out, moved)
    stdout, stderr = build.communicate(timeout=300)
    assert (build.returncode, stderr) == (1, MOVED)
    assert no_process_left(tag)
    assert not out.exists()  # never made again where it was
    finished = {track.name: track.read_bytes() for track in moved.glob("*.mp3")}
    assert 1 <= len(finished) < 3
    assert all((moved / name).with_suffix(".vtt").is_file() for name in finished)
    assert not (moved / ".meditate.lock").exists()
    assert temporaries(moved) == []
    # the next build into the moved folder makes only the rest, and keeps what was finished
    again = start(["build", "scripts", "-o", "moved"], tmp_path, tag)
    stdout, stderr = again.communicate(timeout=300)
    assert (again.returncode, stderr) == (0, "")
    assert stdout.endswith(f"built {3 - len(finished)}, unchanged {len(finished)}, failed 0\n")
    tracks = json.loads((moved / "library.json").read_text())["tracks"]
    assert all((moved / name).read_bytes() == data for name, data in finished.items())
    assert all(valid_track(moved / t["file"], t["duration"]) for t in tracks)


def test_an_output_folder_moved_during_a_render_stops_it(tmp_path):
    (tmp_path / "long.yaml").write_text("title: Long\nsteps:\n  - say: A long track.\n  - pause: 20m\n")
    tag = uuid.uuid4().hex
    render = start(["render", "long.yaml", "-o", "out"], tmp_path, tag)
    out, moved = tmp_path / "out", tmp_path / "moved"
    wait_for(lambda: out.exists() and any(".long.mp3." in name for name in temporaries(out)))
    os.rename(out, moved)
    stdout, stderr = render.communicate(timeout=300)
    assert (render.returncode, stdout, stderr) == (1, "", MOVED)
    assert no_process_left(tag)
    assert not out.exists()
    assert list(moved.iterdir()) == []  # its temporary files removed from where they went
