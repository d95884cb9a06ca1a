"""Interruptions, races and a full disk, with real processes and real signals: nothing left running, no
temporary file, no lock, no finished track made twice, and never a wrong track reported as written."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid

import pytest

from helpers import ROOT
from test_hostile import materialize, valid_track

MINUTES = "  - pause: 2m\n  - say: Still here.\n  - pause: 1m\n"
LIBRARY = {
    "library.yaml": "album: Signals\nlead_in: 0.5s\nfade_out: 1s\n",
    "one.yaml": "title: One\nsteps:\n  - say: The first track.\n" + MINUTES,
    "two.yaml": "title: Two\nsteps:\n  - say: The second track.\n" + MINUTES,
    "three.yaml": "title: Three\nsteps:\n  - say: The third track.\n" + MINUTES,
}
STOPPED = "Stopped by {}: finished tracks are kept; run the same command again to make the rest"


def start(args, cwd, tag, **options):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MEDITATE_TEST_TAG": tag}
    return subprocess.Popen([sys.executable, str(ROOT / "cli.py"), *args], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **options)


def tagged_processes(tag):
    """Every process started with this tag in its environment (a scan of /proc; children inherit it)."""
    marker = f"MEDITATE_TEST_TAG={tag}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                if marker in handle.read().split(b"\0"):
                    with open(f"/proc/{entry}/stat", "rb") as stat:
                        if stat.read().rsplit(b")", 1)[1].split()[0] != b"Z":
                            found.append(int(entry))
        except OSError:
            continue
    return found


def wait_for(condition, seconds=120.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def no_process_left(tag, grace=5.0):
    deadline = time.monotonic() + grace
    while tagged_processes(tag) and time.monotonic() < deadline:
        time.sleep(0.05)
    return tagged_processes(tag) == []


def temporaries(folder):
    return sorted(p.name for p in folder.rglob(".*.tmp"))


def encoding(folder):
    """Whether a track is being encoded into the folder (its temporary file is there)."""
    return folder.exists() and any(".mp3." in name for name in temporaries(folder))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["INT", "TERM", "HUP"])
def test_a_signal_stops_a_build_cleanly(tmp_path, signum):
    materialize(tmp_path / "scripts", LIBRARY)
    tag = uuid.uuid4().hex
    process = start(["build", "scripts", "-o", "out", "-j", "2"], tmp_path, tag, start_new_session=True)
    out = tmp_path / "out"
    wait_for(lambda: encoding(out))
    assert len(tagged_processes(tag)) >= 4  # meditate, two build workers, their encoders and speech workers
    if signum == signal.SIGINT:
        os.killpg(process.pid, signum)  # Ctrl-C reaches the whole foreground group
    else:
        os.kill(process.pid, signum)  # kill, systemd, a closed terminal: only meditate itself
    stdout, stderr = process.communicate(timeout=60)  # returns only once nobody holds its output open
    assert process.returncode == 128 + signum
    assert stderr.splitlines()[-1] == STOPPED.format(signal.Signals(signum).name)
    assert "Traceback" not in stderr
    assert no_process_left(tag)
    assert temporaries(out) == []
    assert not (out / ".meditate.lock").exists()


def test_a_signal_stops_a_render_cleanly(tmp_path):
    (tmp_path / "long.yaml").write_text("title: Long\nsteps:\n  - say: A long track.\n  - pause: 20m\n")
    tag = uuid.uuid4().hex
    process = start(["render", "long.yaml", "-o", "out"], tmp_path, tag)
    wait_for(lambda: encoding(tmp_path / "out"))
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    assert (process.returncode, stdout, stderr) == (143, "", STOPPED.format("SIGTERM") + "\n")
    assert no_process_left(tag)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == []


def built(stdout):
    return sorted(line.split()[1] for line in stdout.splitlines() if line.startswith("built ") and ".mp3" in line)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["INT", "TERM", "KILL"])
def test_an_interrupted_build_never_makes_a_finished_track_again(tmp_path, signum):
    materialize(tmp_path / "scripts", LIBRARY)
    tag = uuid.uuid4().hex
    command = ["build", "scripts", "-o", "out", "-j", "1"]
    process = start(command, tmp_path, tag, start_new_session=True)
    out = tmp_path / "out"
    wait_for(lambda: out.exists() and list(out.glob("*.mp3")))
    finished = sorted(p.name for p in out.glob("*.mp3"))  # in place: each was recorded as it finished
    (os.killpg if signum == signal.SIGKILL else os.kill)(process.pid, signum)
    process.communicate(timeout=60)
    assert not (out / "library.json").exists()  # the build never got to write its manifest
    assert no_process_left(tag)
    again = start(command, tmp_path, tag)
    stdout, stderr = again.communicate(timeout=300)
    assert again.returncode == 0, stderr
    assert not set(finished) & set(built(stdout))
    assert stdout.splitlines()[-1] == f"built {3 - len(finished)}, unchanged {len(finished)}, failed 0"
    manifest = json.loads((out / "library.json").read_text())
    assert [t["file"] for t in manifest["tracks"]] == ["one.mp3", "three.mp3", "two.mp3"]
    assert all(valid_track(out / t["file"], t["duration"]) for t in manifest["tracks"])
    assert not (out / ".meditate-journal.jsonl").exists()


@pytest.fixture
def small_disk(tmp_path):
    """OUT on a tmpfs of 300 KB: room for two short tracks, not for a long one."""
    out = tmp_path / "out"
    out.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(out)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield out
    subprocess.run(["umount", str(out)], check=True)


def test_a_full_disk_is_one_line_and_the_next_build_keeps_what_was_finished(tmp_path, small_disk):
    materialize(tmp_path / "scripts", {
        "a.yaml": "title: A\nsteps:\n  - say: Track A.\n  - pause: 8s\n",
        "b.yaml": "title: B\nsteps:\n  - say: Track B.\n  - pause: 8s\n",
        "c.yaml": "title: C\nsteps:\n  - say: Track C is long.\n  - pause: 60s\n"})
    command = ["build", "scripts", "-o", "out", "-j", "1"]
    tag = uuid.uuid4().hex
    first = start(command, tmp_path, tag)
    stdout, stderr = first.communicate(timeout=300)
    assert (first.returncode, stderr) == (1, "Error: cannot write out/c.mp3: No space left on device\n")
    assert built(stdout) == ["a.mp3", "b.mp3"]
    assert temporaries(small_disk) == []
    subprocess.run(["mount", "-o", "remount,size=2m", str(small_disk)], check=True)  # room made
    second = start(command, tmp_path, tag)
    stdout, stderr = second.communicate(timeout=300)
    assert (second.returncode, [line.split(" (")[0] for line in stdout.splitlines()]) == (
        0, ["built c.mp3", "built 1, unchanged 2, failed 0"])


def test_a_render_and_a_build_in_one_folder_both_finish_with_valid_tracks(tmp_path):
    # The default profile folder sits inside the default output folder: a render and a build meet there.
    materialize(tmp_path / "scripts", {"short.yaml": "title: Short\nsteps:\n  - say: A short one.\n"})
    (tmp_path / "long.yaml").write_text("title: Long\nsteps:\n  - say: A long track.\n  - pause: 40m\n"
                                        "  - say: The end.\n")
    tag = uuid.uuid4().hex
    render = start(["render", "long.yaml", "-o", "out"], tmp_path, tag)
    wait_for(lambda: encoding(tmp_path / "out"))
    build = start(["build", "scripts", "-o", "out"], tmp_path, tag)
    assert build.communicate(timeout=120)[0].splitlines()[-1] == "built 1, unchanged 0, failed 0"
    assert render.poll() is None and encoding(tmp_path / "out")  # the build ran, and cleaned up, meanwhile
    stdout, stderr = render.communicate(timeout=300)
    written = re.fullmatch(r"wrote out/long\.mp3 \(40:(\d\d\.\d\d)\)\n", stdout)
    assert (render.returncode, bool(written), stderr) == (0, True, "")
    assert valid_track(tmp_path / "out" / "long.mp3", 2400 + float(written.group(1)))
    assert valid_track(tmp_path / "out" / "short.mp3", json.loads(
        (tmp_path / "out" / "library.json").read_text())["tracks"][0]["duration"])


def test_a_render_whose_file_is_taken_away_says_so_and_fails(tmp_path):
    # What an older meditate's clean-up (or anyone's rm) did: the render must not report success.
    (tmp_path / "long.yaml").write_text("title: Long\nsteps:\n  - say: A long track.\n  - pause: 30m\n")
    tag = uuid.uuid4().hex
    render = start(["render", "long.yaml", "-o", "out"], tmp_path, tag)
    out = tmp_path / "out"
    wait_for(lambda: encoding(out) and any(p.stat().st_size > 0 for p in out.glob(".long.mp3.*.tmp")))
    for path in out.glob(".long.mp3.*.tmp"):
        path.unlink()
    stdout, stderr = render.communicate(timeout=120)
    assert (render.returncode, stdout, stderr) == (1, "", "Error: out/long.mp3 was not written: it holds no audio\n")
    assert sorted(p.name for p in out.iterdir()) == []


# ---------------------------------------------------------------- temporary files: whose they are

def test_clean_up_removes_only_the_temporaries_of_processes_that_are_gone(tmp_path):
    from meditations.files.tempfiles import make_temporary, remove_abandoned

    track = tmp_path / "t.mp3"
    # a live process's file: made by a child that holds it open
    code = ("import sys, time; from pathlib import Path; from meditations.files.tempfiles import make_temporary\n"
            "fd, p = make_temporary(Path(sys.argv[1])); print(p, flush=True); time.sleep(60)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    holder = subprocess.Popen([sys.executable, "-c", code, str(track)], stdout=subprocess.PIPE, text=True, env=env)
    live = holder.stdout.readline().strip()
    # a dead process's file
    dead = subprocess.run([sys.executable, "-c", code.replace("time.sleep(60)", "pass"), str(track)],
                          capture_output=True, text=True, env=env).stdout.strip()
    mine = make_temporary(track)
    other = tmp_path / ".t.mp3.x7hg2k.tmp"  # no pid in its name: another program's, or an older meditate's
    other.write_bytes(b"")
    try:
        assert remove_abandoned(tmp_path) == [tmp_path / os.path.basename(dead)]
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            [os.path.basename(live), mine[1].name, other.name])
    finally:
        holder.kill()
        holder.wait()
        os.close(mine[0])
    assert remove_abandoned(tmp_path) == [tmp_path / os.path.basename(live)]
