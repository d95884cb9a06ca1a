"""Builds on a Dask cluster (real Dask: a LocalCluster, and a scheduler and workers started with the `dask`
command line) and every client's set at once (--profiles)."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from meditations.cli.commands import main
from meditations.encoding.verify import check_mp3

SCRIPTS = {
    "library.yaml": "album: Clinic\nlead_in: 0.2s\nfade_out: 0.3s\nvariables: {name: friend}\n",
    "_partials/closing.yaml": "steps:\n  - say: Thank you for practising.\n",
    "hello.yaml": "title: Hello\nsteps:\n  - say: Hello {name}.\n  - include: _partials/closing.yaml\n",
    "breath.yaml": "title: Breath\nsteps:\n  - breathe: {pattern: 1-0-2, cycles: 1, cue: voice}\n"
                   "  - say: Well done, {name}.\n",
}
CLIENTS = ("Annabel", "Bartholomew", "Cordelia")
SUMMARY = "clients: built {}, unchanged {}, failed {}; tracks: built {}, unchanged {}, failed {}"


@pytest.fixture
def clinic(tmp_path, monkeypatch):
    """A small library and three client profiles, each with a name no other client's files may hold."""
    for name, text in SCRIPTS.items():
        (tmp_path / "scripts" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "scripts" / name).write_text(text)
    (tmp_path / "profiles").mkdir()
    for client in CLIENTS:
        (tmp_path / "profiles" / f"{client.lower()}.yaml").write_text(
            f"client: {client}\nlibrary: ../scripts\nvariables: {{name: {client}}}\nscripts: [hello, breath]\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MEDITATE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def build(*args):
    return CliRunner().invoke(main, ["build", "--profiles", "profiles", "-j", "2", *args])


def folder_files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.startswith(".")}


def test_a_local_cluster_builds_every_client_exactly_as_the_local_pool_does(clinic):
    local = build("-o", "local")
    assert local.exit_code == 0, local.stderr
    assert local.stdout.splitlines()[-1] == SUMMARY.format(3, 0, 0, 6, 0, 0)
    cluster = build("-o", "cluster", "--cluster", "local", "--verbose")
    assert cluster.exit_code == 0, cluster.stderr
    assert cluster.stdout.splitlines()[-1] == local.stdout.splitlines()[-1]
    assert sorted(line.split(" on tcp://127.0.0.1:")[0] for line in cluster.stdout.splitlines()[:-1]
                  if line.startswith("built ")) == sorted(line for line in local.stdout.splitlines()[:-1]
                                                           if line.startswith("built "))
    for client in CLIENTS:
        # Manifests (fingerprints, sources, chapters, SHA-256), transcripts (the plans' speech), MP3s, pages
        assert folder_files(clinic / "cluster" / client.lower()) == folder_files(clinic / "local" / client.lower())
    again = build("-o", "cluster", "--cluster", "local")
    assert again.stdout.splitlines()[-1] == SUMMARY.format(0, 3, 0, 0, 6, 0)


def test_a_cluster_is_sent_a_few_tracks_per_worker_at_a_time(clinic, monkeypatch):
    """Each track job carries megabytes (sources and clips): a clinic's thousands must not all be packed at
    once. With one worker, at most two jobs are packed and not yet placed at any moment."""
    from meditations.building import parallel as pool

    packed, placed, most = [], [], [0]
    real_job, real_place = pool.track_job, pool.place

    def counting_job(*args):
        packed.append(args[0].display)
        most[0] = max(most[0], len(packed) - len(placed))
        return real_job(*args)

    def counting_place(*args):
        placed.append(args[0].display)
        return real_place(*args)

    monkeypatch.setattr(pool, "track_job", counting_job)
    monkeypatch.setattr(pool, "place", counting_place)
    result = CliRunner().invoke(main, ["build", "--profiles", "profiles", "-j", "1", "-o", "out", "--cluster", "local"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1] == SUMMARY.format(3, 0, 0, 6, 0, 0)
    assert sorted(packed) == sorted(placed) and len(packed) == 6
    assert most[0] == 2


def test_no_client_s_data_reaches_another_client_s_folder(clinic):
    result = build("-o", "out")
    assert result.exit_code == 0, result.stderr
    for client in CLIENTS:
        files = folder_files(clinic / "out" / client.lower())
        assert {"hello.mp3", "breath.mp3", "library.json", "index.html"} <= set(files)
        assert client.encode() in files["hello.vtt"]
        for other in set(CLIENTS) - {client}:
            assert not [name for name, data in files.items() if other.encode() in data]
        entries = json.loads(files["library.json"])["tracks"]
        assert [e["file"] for e in entries] == ["breath.mp3", "hello.mp3"]


def test_a_broken_profile_is_located_and_the_others_still_build(clinic):
    (clinic / "profiles" / "broken.yaml").write_text("client: Dora\nlibrary: ../scripts\nscripts: [hello, nowhere]\n")
    result = build("-o", "out")
    assert result.exit_code == 1
    assert result.stderr == f"profiles/broken.yaml:3:18: no script 'nowhere' in {Path('profiles/../scripts')}\n"
    assert result.stdout.splitlines()[-1] == SUMMARY.format(3, 0, 1, 6, 0, 0)
    assert sorted(p.name for p in (clinic / "out").iterdir()) == ["annabel", "bartholomew", "cordelia"]


def test_two_profiles_naming_one_output_folder(clinic):
    (clinic / "profiles" / "zed.yaml").write_text("library: ../scripts\noutput: annabel\nscripts: [hello]\n")
    result = build("-o", "out", "--dry-run")
    assert result.exit_code == 1
    assert result.stderr == ("profiles/zed.yaml:1:1: its output folder 'annabel' is also profiles/annabel.yaml's; "
                             "give one of them another 'output:'\n")
    assert result.stdout.splitlines()[-1] == "6 to build, 0 unchanged"
    assert "would build annabel/hello.mp3: new" in result.stdout.splitlines()


def test_an_unreachable_scheduler_changes_nothing(clinic):
    (clinic / "out").mkdir()
    (clinic / "out" / "keep.txt").write_text("mine")
    port = free_port()
    result = build("-o", "out", "--cluster", f"tcp://127.0.0.1:{port}")
    assert result.exit_code == 1
    assert result.stderr == (f"Error: cannot reach the Dask scheduler at tcp://127.0.0.1:{port} within 5 s: "
                             "start it (docs/scaling.md) or check the address given to --cluster\n")
    assert sorted(p.name for p in (clinic / "out").iterdir()) == ["keep.txt"]


def test_a_cluster_address_that_is_not_one():
    result = CliRunner().invoke(main, ["build", "--cluster", "my laptop"])
    assert result.exit_code == 1
    assert result.stderr == ("Error: --cluster 'my laptop' is not a scheduler address: give tcp://HOST:PORT "
                             "(tls://HOST:PORT with TLS), or local for a cluster on this machine\n")


def test_a_local_cluster_s_workers_keep_glibc_s_adaptive_malloc():
    """Dask's nannies set MALLOC_TRIM_THRESHOLD_ by default, which turns off glibc's adaptive mmap threshold:
    every block a render mixes was mapped afresh (a million page faults per track, twice the CPU time)."""
    from meditations.building.executors import DaskExecutor

    with DaskExecutor("local", 1) as executor:
        assert executor.submit(os.getenv, "MALLOC_TRIM_THRESHOLD_").result() is None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def dask_command(*args, env=None, log=None):
    """A `dask` command-line process in a session of its own (so the test can stop all it started)."""
    return subprocess.Popen([str(Path(sys.executable).parent / "dask"), *args], env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


@pytest.mark.slow
def test_a_worker_killed_mid_build_costs_only_time(clinic, tmp_path):
    """A scheduler and two workers from the dask command line, each worker with its own speech cache and
    temporary folder (as on another machine); one is SIGKILLed while it renders: the build completes."""
    for n in range(3):  # more tracks: both workers get several
        (clinic / "scripts" / f"more{n}.yaml").write_text(f"title: More {n}\nsteps:\n  - pause: 3s\n"
                                                          f"  - say: Rest now, {{name}}, number {n}.\n")
    for client in CLIENTS:
        (clinic / "profiles" / f"{client.lower()}.yaml").write_text(
            f"client: {client}\nlibrary: ../scripts\nvariables: {{name: {client}}}\n"
            "scripts: [hello, breath, more0, more1, more2]\n")
    port = free_port()
    processes = []
    log = (tmp_path / "dask.log").open("wb")  # noqa: SIM115 - closed in the finally below
    try:
        processes.append(dask_command("scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard",
                                      log=log))
        temporaries = []
        for n in range(2):
            temporary = tmp_path / f"worker{n}-tmp"
            temporary.mkdir()
            temporaries.append(temporary)
            env = {**os.environ, "MEDITATE_CACHE_DIR": str(tmp_path / f"worker{n}-cache"), "TMPDIR": str(temporary)}
            processes.append(dask_command("worker", f"tcp://127.0.0.1:{port}", "--nthreads", "1", "--no-nanny",
                                          "--no-dashboard", "--host", "127.0.0.1", env=env, log=log))
        wait_for_workers(port, 2)
        build_process = subprocess.Popen(
            [str(Path(sys.executable).parent / "meditate"), "build", "--profiles", "profiles", "-o", "out",
             "--cluster", f"tcp://127.0.0.1:{port}", "--verbose"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, "MEDITATE_CACHE_DIR": str(clinic / "cache")})
        deadline = time.monotonic() + 300
        while not list(temporaries[0].glob("meditate-worker-*")):  # worker 0 is rendering a track now
            assert build_process.poll() is None and time.monotonic() < deadline, "worker 0 never rendered"
            time.sleep(0.01)
        os.kill(processes[1].pid, signal.SIGKILL)
        out, err = build_process.communicate(timeout=600)
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
    assert build_process.returncode == 0, err.decode()
    assert list(temporaries[0].glob("meditate-worker-*"))  # the killed worker was rendering (its folder is left)
    lines = out.decode().splitlines()
    assert lines[-1] == SUMMARY.format(3, 0, 0, 15, 0, 0)
    for client in CLIENTS:
        folder = clinic / "out" / client.lower()
        entries = json.loads((folder / "library.json").read_text())["tracks"]
        assert len(entries) == 5
        for entry in entries:
            facts = check_mp3(folder / entry["file"], entry["duration"])
            assert facts.sha256 == entry["sha256"]
        assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]  # no partial file


def wait_for_workers(port: int, count: int) -> None:
    from distributed import Client

    with Client(f"tcp://127.0.0.1:{port}", timeout=30) as client:
        client.wait_for_workers(count, timeout=60)


def processes_with(marker: str) -> list[int]:
    """The processes whose environment holds marker (those this test started, and their children)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.slow
def test_ctrl_c_cancels_the_cluster_s_tasks_and_leaves_nothing(clinic, tmp_path):
    for n in range(4):
        (clinic / "scripts" / f"long{n}.yaml").write_text(f"title: Long {n}\nsteps:\n  - pause: 600s\n"
                                                          f"  - say: Still here, {{name}}.\n")
    (clinic / "profiles" / "annabel.yaml").write_text(
        "library: ../scripts\nvariables: {name: Annabel}\nscripts: [long0, long1, long2, long3]\n")
    temporary = tmp_path / "build-tmp"
    temporary.mkdir()
    build_process = subprocess.Popen(
        [str(Path(sys.executable).parent / "meditate"), "build", "--profiles", "profiles", "-o", "out", "--cluster",
         "local", "-j", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "TMPDIR": str(temporary), "MEDITATE_CACHE_DIR": str(clinic / "cache")})
    deadline = time.monotonic() + 300
    while not list(temporary.glob("meditate-worker-*")):  # a worker is rendering
        assert build_process.poll() is None and time.monotonic() < deadline, build_process.stderr.read()
        time.sleep(0.01)
    build_process.send_signal(signal.SIGINT)
    _, err = build_process.communicate(timeout=120)
    assert build_process.returncode == 130
    assert err.decode().splitlines()[-1] == ("Stopped by SIGINT: finished tracks are kept; run the same command "
                                             "again to make the rest")
    deadline = time.monotonic() + 30
    while processes_with(str(temporary)) and time.monotonic() < deadline:  # the workers are stopping
        time.sleep(0.1)
    assert processes_with(str(temporary)) == []
    assert not [p for p in (clinic / "out").rglob("*") if p.name.endswith(".tmp")]


@pytest.mark.parametrize("clips, slots, sizes", [
    (1, 2, [1]),
    (160, 2, [80, 80]),  # one batch per worker: each batch loads a voice, so not eight of 20
    (300, 2, [75] * 4),
    (1000, 2, [125] * 8),  # four per worker at most: they finish together
    (200, 5, [40] * 5),
    (3, 8, [1, 1, 1]),
])
def test_synthesis_batches_start_few_speech_engines_and_keep_every_worker_busy(clips, slots, sizes):
    from meditations.building.parallel import synthesis_batches

    batches = synthesis_batches(list(range(clips)), slots)
    assert [len(b) for b in batches] == sizes
    assert [c for b in batches for c in b] == list(range(clips))
