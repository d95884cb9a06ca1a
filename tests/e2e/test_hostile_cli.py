"""Hostile input, third round (issue 22): an output folder has one owner, --cluster at anything that is not a
Dask scheduler, command-line bytes that are not UTF-8, files that were never written as scripts, YAML anchors.
Each case ends in one clear line with its exact message, and changes nothing."""

import contextlib
import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from meditations.cli.commands import main
from helpers import ROOT

SCRIPT = "title: x\nvariables: {name: friend}\nsteps:\n  - say: Hello {name}.\n"


def run(*args, **env):
    return CliRunner(env=env or None).invoke(main, list(args))


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "s.yaml").write_text(SCRIPT)
    return tmp_path


# ---------------------------------------------------------------- YAML anchors, refused like aliases

@pytest.mark.parametrize("text, message", [
    ("title: &t Calm\nsteps:\n  - say: hi\n", "s.yaml:1:8: YAML anchors (&name) are not supported; remove the anchor"),
    ("title: x\nsteps: &s\n  - say: hi\n", "s.yaml:2:8: YAML anchors (&name) are not supported; remove the anchor"),
    ("title: x\nsteps:\n  - &a {say: hi}\n", "s.yaml:3:5: YAML anchors (&name) are not supported; remove the anchor"),
    ("title: &t x\ndescription: *t\nsteps:\n  - say: hi\n",  # an alias is what to write out: it is named first
     "s.yaml:2:14: YAML aliases (*name) are not supported; write the value out"),
])
def test_an_anchor_is_refused_where_it_stands(work, text, message):
    (work / "s.yaml").write_text(text)
    result = run("validate", "s.yaml")
    assert (result.exit_code, result.stderr) == (1, message + "\n")


def test_an_anchor_in_a_profile_is_refused(work):
    (work / "p.yaml").write_text("client: &c Ana\nlibrary: lib\nscripts: [s]\n")
    result = run("validate", "--profile", "p.yaml")
    assert (result.exit_code, result.stderr) == (
        1, "p.yaml:1:9: YAML anchors (&name) are not supported; remove the anchor\n")


def test_an_ampersand_in_a_text_is_no_anchor(work):
    (work / "s.yaml").write_text("title: Tom & Jerry\nsteps:\n  - say: Rest & breathe.\n")
    result = run("validate", "s.yaml")
    assert (result.exit_code, result.stdout) == (0, "1 script valid\n")


# ---------------------------------------------------------------- command-line bytes that are not UTF-8

NOT_UTF8 = "is not valid UTF-8 text (set the terminal's encoding to UTF-8)"


def cli_bytes(cwd, *args: bytes):
    """The command line run with these argument bytes, as a shell passes them."""
    return subprocess.run([sys.executable.encode(), str(ROOT / "cli.py").encode(), *args], cwd=cwd,
                          capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)


@pytest.mark.parametrize("args, message", [
    ((b"plan", b"lib/s.yaml", b"--set", b"name=\xff"), f"Invalid value for '--set': the value of name {NOT_UTF8}"),
    ((b"render", b"lib/s.yaml", b"--set", b"name=Ana\xe9"), f"Invalid value for '--set': the value of name {NOT_UTF8}"),
    ((b"plan", b"lib/s.yaml", b"--set", b"n\xffme=Ana"), f"Invalid value for '--set': the name 'n\\xffme' {NOT_UTF8}"),
    ((b"build", b"lib", b"--dry-run", b"--set", b"name=\xff"),
     f"Invalid value for '--set': the value of name {NOT_UTF8}"),
    ((b"render", b"lib/s.yaml", b"--chapter", b"Calm\xff"), f"Invalid value for '--chapter': 'Calm\\xff' {NOT_UTF8}"),
    ((b"render", b"lib/s.yaml", b"--steps", b"1-\xff"), f"Invalid value for '--steps': '1-\\xff' {NOT_UTF8}"),
    ((b"voices", b"--language", b"\xff"), f"Invalid value for '--language': '\\xff' {NOT_UTF8}"),
    ((b"build", b"lib", b"--dry-run", b"--base-url", b"https://example.org/\xff/"),
     f"Invalid value for '--base-url': 'https://example.org/\\xff/' {NOT_UTF8}"),
    ((b"build", b"lib", b"--cluster", b"tcp://h\xff:8786"),
     f"Invalid value for '--cluster': 'tcp://h\\xff:8786' {NOT_UTF8}"),
])
def test_option_bytes_that_are_not_utf8_are_a_usage_error(work, args, message):
    result = cli_bytes(work, *args)
    assert (result.returncode, result.stdout, result.stderr.decode().splitlines()[-1]) == (2, b"", f"Error: {message}")
    assert not (work / "audio_out").exists()


def test_a_file_name_that_is_not_utf8_is_still_a_file_name(work):
    """Only texts must be UTF-8: a folder's name may be any bytes."""
    folder = os.fsencode(work) + b"/out\xff"
    result = cli_bytes(work, b"render", b"lib/s.yaml", b"-o", folder, b"--set", b"name=Ana")
    assert result.returncode == 0, result.stderr
    assert os.path.exists(folder + b"/s.mp3")


# ---------------------------------------------------------------- --cluster at anything but a Dask scheduler

NOT_DASK = ("Error: the server at {} is not a Dask scheduler (it did not answer as one within 5 s): check the "
            "address given to --cluster\n")


@contextlib.contextmanager
def serving(answer):
    """A real TCP server on 127.0.0.1 at a free port: each connection accepted, then answer(connection)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held = []

    def accept():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            held.append(connection)
            answer(connection)

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        for connection in held:
            connection.close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        """Nothing on the test's stderr, which holds what meditate printed."""


@contextlib.contextmanager
def http_server():
    """A real HTTP server on 127.0.0.1 at a free port (it answers Dask's handshake with 400 Bad Request)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def build_on(address):
    started = time.monotonic()
    result = run("build", "lib", "-o", "out", "--cluster", address)
    return result, time.monotonic() - started


@pytest.mark.parametrize("server", ["silent", "banner", "http"])
def test_a_server_that_is_not_a_scheduler_is_one_line_within_seconds(work, server):
    if server == "http":
        context = http_server()
    else:
        context = serving(lambda c: c.sendall(b"SSH-2.0-OpenSSH_9.6\r\n") if server == "banner" else None)
    with context as port:
        address = f"tcp://127.0.0.1:{port}"
        result, seconds = build_on(address)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", NOT_DASK.format(address))
    assert seconds < 15
    assert not (work / "out").exists()


@pytest.mark.parametrize("address", ["tcp://[::1", "tcp://[zz::1]:8786", "tcp://::1:8786", "tcp://127.0.0.1:99999",
                                     "tcp://127.0.0.1:0", "tcp://256.1.1.1:8786", "tcp://-scheduler:8786",
                                     "udp://127.0.0.1:8786", "tcp://[::1]"])
def test_a_malformed_address_is_one_line(work, address):
    result = run("build", "lib", "-o", "out", "--cluster", address)
    assert (result.exit_code, result.stderr) == (
        1, f"Error: --cluster '{address}' is not a scheduler address: give tcp://HOST:PORT (tls://HOST:PORT with "
           "TLS), or local for a cluster on this machine\n")
    assert not (work / "out").exists()


@pytest.mark.usefixtures("work")
def test_a_bracketed_ipv6_address_is_an_address():
    port = free_port(socket.AF_INET6, "::1")
    result = run("build", "lib", "-o", "out", "--cluster", f"tcp://[::1]:{port}")
    assert (result.exit_code, result.stderr) == (
        1, f"Error: cannot reach the Dask scheduler at tcp://[::1]:{port} within 5 s: start it (docs/scaling.md) "
           "or check the address given to --cluster\n")


def free_port(family=socket.AF_INET, host="127.0.0.1") -> int:
    try:
        with socket.socket(family) as probe:
            probe.bind((host, 0))
            return probe.getsockname()[1]
    except OSError:
        pytest.skip(f"no {host} on this machine")


def test_tls_without_dask_s_tls_settings(work):
    port = free_port()
    result = run("build", "lib", "-o", "out", "--cluster", f"tls://127.0.0.1:{port}")
    assert (result.exit_code, result.stderr) == (
        1, f"Error: --cluster tls://127.0.0.1:{port} uses TLS, but Dask's configuration gives no TLS files: set "
           "distributed.comm.tls.ca-file and client cert and key (docs/scaling.md)\n")
    assert not (work / "out").exists()


@contextlib.contextmanager
def dask_settings(**settings):
    """Dask's configuration as a build machine's file or environment would give it (with _ for -)."""
    import dask

    with dask.config.set({f"distributed.comm.{key.replace('__', '.').replace('_', '-')}": value
                          for key, value in settings.items()}):
        yield


def test_a_tls_setting_naming_no_file(work):
    with dask_settings(tls__ca_file=str(work / "nowhere" / "ca.pem")):
        result = run("build", "lib", "-o", "out", "--cluster", "tls://127.0.0.1:8786")
    assert (result.exit_code, result.stderr) == (
        1, f"Error: Dask's setting distributed.comm.tls.ca-file names {work / 'nowhere' / 'ca.pem'}, which is not a "
           "file (docs/scaling.md)\n")


def test_tls_settings_that_are_not_certificates(work):
    (work / "ca.pem").write_text("not a certificate\n")
    with dask_settings(tls__ca_file="ca.pem", tls__client__cert="ca.pem"):
        result = run("build", "lib", "-o", "out", "--cluster", "tls://127.0.0.1:8786")
    assert (result.exit_code, result.stderr) == (
        1, "Error: cannot use Dask's TLS settings: their files are not a PEM certificate and key (docs/scaling.md)\n")


@pytest.mark.usefixtures("work")
def test_plain_tcp_where_dask_s_configuration_requires_encryption():
    with dask_settings(require_encryption=True):
        result = run("build", "lib", "-o", "out", "--cluster", "tcp://127.0.0.1:8786")
    assert (result.exit_code, result.stderr) == (
        1, "Error: --cluster tcp://127.0.0.1:8786 is not encrypted, but Dask's configuration requires encryption "
           "(distributed.comm.require-encryption): give a tls:// address\n")


@pytest.fixture
def certificates(tmp_path):
    """Dask's TLS settings with a self-signed certificate and its key (the practice's own authority, as
    docs/scaling.md describes)."""
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out",
                    "cert.pem", "-days", "2", "-subj", "/CN=127.0.0.1"], cwd=tmp_path, check=True, capture_output=True)
    return {"tls__ca_file": str(tmp_path / "cert.pem"), "tls__client__cert": str(tmp_path / "cert.pem"),
            "tls__client__key": str(tmp_path / "key.pem")}


def test_tls_to_a_server_that_speaks_no_tls(work, certificates):
    with http_server() as port, dask_settings(**certificates):
        result, seconds = build_on(f"tls://127.0.0.1:{port}")
    assert (result.exit_code, result.stderr) == (
        1, f"Error: the TLS handshake with tls://127.0.0.1:{port} failed: check Dask's TLS settings and the "
           "scheduler's certificate (docs/scaling.md)\n")
    assert seconds < 15 and not (work / "out").exists()


def test_tls_to_a_silent_server(work, certificates):
    with serving(lambda _: None) as port, dask_settings(**certificates):
        address = f"tls://127.0.0.1:{port}"
        result, seconds = build_on(address)
    assert (result.exit_code, result.stderr) == (1, NOT_DASK.format(address))
    assert seconds < 15 and not (work / "out").exists()


def test_a_real_tls_scheduler_is_reached(certificates, tmp_path):
    """The handshake check lets a real scheduler through: `dask scheduler --protocol tls` with the certificate."""
    from meditations.building.executors import DaskExecutor

    port = free_port()
    log = (tmp_path / "scheduler.log").open("wb")  # noqa: SIM115 - closed below
    scheduler = subprocess.Popen([str(Path(sys.executable).parent / "dask"), "scheduler", "--protocol", "tls",
                                  "--host", "127.0.0.1", "--port", str(port), "--no-dashboard",
                                  "--tls-ca-file", certificates["tls__ca_file"],
                                  "--tls-cert", certificates["tls__client__cert"],
                                  "--tls-key", certificates["tls__client__key"]],
                                 stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while b"Scheduler at:" not in (tmp_path / "scheduler.log").read_bytes():
            assert scheduler.poll() is None and time.monotonic() < deadline, (tmp_path / "scheduler.log").read_text()
            time.sleep(0.1)
        with dask_settings(**certificates), DaskExecutor(f"tls://127.0.0.1:{port}", 2) as executor:
            assert executor.jobs == 1  # connected; no worker yet: one slot, and the build waits for a worker
    finally:
        scheduler.terminate()
        scheduler.wait(30)
        log.close()


# ---------------------------------------------------------------- files never written as scripts: nothing quoted

SECRET = "password: hunter2\nuser: ana\napi_key: hunter2-abc\n"
PASSWD = "root:x:0:0:hunter2:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
CREDENTIALS = '{"client_secret": "hunter2-abc", "title": "hunter2", "steps": "hunter2"}\n'
SCRIPT_OUT = ("{}:1:1: leads out of the library folder '{}' to a file that is not a valid script; nothing of that "
              "file is shown (run meditate validate on it where it is)")
PROFILE_OUT = ("{}:1:1: leads out of its folder '{}' to a file that is not a valid profile; nothing of that file is "
               "shown (run meditate validate --profile on it where it is)")
NOT_A_SCRIPT = ("{}:1:1: is not a script: it has no 'title:', no 'steps:' and no other key a script has (its keys "
                "are not shown)")


def make(root, files):
    """Files below root (path -> text); "->target" makes a symbolic link."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content.startswith("->"):
            path.symlink_to(content[2:])
        else:
            path.write_text(content)


def quiet_about_secrets(result):
    assert "hunter2" not in result.output and "password" not in result.output and "api_key" not in result.output
    assert "client_secret" not in result.output and "daemon" not in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("files, command, expected", [
    ({"secret.yaml": SECRET, "lib/x.yaml": "->../secret.yaml"}, ["validate", "lib/x.yaml"],
     [SCRIPT_OUT.format("lib/x.yaml", "lib")]),
    ({"passwd": PASSWD, "lib/x.yaml": "->../passwd"}, ["validate", "lib/x.yaml"],
     [SCRIPT_OUT.format("lib/x.yaml", "lib")]),
    ({"creds.json": CREDENTIALS, "lib/x.yaml": "->../creds.json"}, ["validate", "lib/x.yaml"],
     [SCRIPT_OUT.format("lib/x.yaml", "lib")]),
    # a folder linked into the library leads out as well; the library folder is where the link stands
    ({"elsewhere/x.yaml": SECRET, "lib/library.yaml": "album: A\n", "lib/more": "->../elsewhere"},
     ["validate", "lib/more/x.yaml"], [SCRIPT_OUT.format("lib/more/x.yaml", "lib")]),
    # no link: a file with none of a script's keys was never written as one
    ({"lib/x.yaml": SECRET}, ["validate", "lib/x.yaml"], [NOT_A_SCRIPT.format("lib/x.yaml")]),
    ({"lib/x.yaml": "AWS_SECRET_ACCESS_KEY: hunter2\nAWS_REGION: eu-west-1\n"}, ["validate", "lib/x.yaml"],
     [NOT_A_SCRIPT.format("lib/x.yaml")]),
    ({"secret.yaml": SECRET, "profiles/ana.yaml": "->../secret.yaml"}, ["validate", "--profile", "profiles/ana.yaml"],
     [PROFILE_OUT.format("profiles/ana.yaml", "profiles")]),
    ({"creds.json": CREDENTIALS.replace("title", "client"), "profiles/ana.yaml": "->../creds.json"},
     ["build", "--profile", "profiles/ana.yaml"], [PROFILE_OUT.format("profiles/ana.yaml", "profiles")]),
    ({"profiles/ana.yaml": SECRET}, ["render", "--profile", "profiles/ana.yaml"],
     ["profiles/ana.yaml:1:1: is not a client profile: it has no 'scripts:' and no other key a profile has (its "
      "keys are not shown)"]),
    ({"secret.yaml": SECRET, "lib/library.yaml": "->../secret.yaml", "lib/s.yaml": SCRIPT}, ["validate", "lib/s.yaml"],
     ["lib/library.yaml:1:1: leads out of its folder 'lib' to a file that is not a valid library.yaml; nothing of that "
      "file is shown (fix the file it leads to, or make library.yaml a file of the library)"]),
    ({"lib/library.yaml": SECRET, "lib/s.yaml": SCRIPT}, ["validate", "lib/s.yaml"],
     ["lib/library.yaml:1:1: is not a library.yaml: it has none of the keys a library.yaml has (its keys are not "
      "shown)"]),
], ids=["link to secret keys", "link to a passwd file", "link to credentials with a title", "linked folder",
        "secret keys in the library", "environment-like keys", "profile link", "profile link, build",
        "profile of secret keys", "library.yaml link", "library.yaml of secret keys"])
def test_a_file_not_written_as_a_script_is_named_not_quoted(tmp_path, monkeypatch, files, command, expected):
    make(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    result = run(*command)
    assert (result.exit_code, result.stderr.splitlines()) == (1, expected)
    quiet_about_secrets(result)
    assert [name for name in ("out", "audio_out", "client_sets") if (tmp_path / name).exists()] == []


def test_a_build_names_such_files_and_writes_nothing_of_them(tmp_path, monkeypatch):
    make(tmp_path, {"secret.yaml": SECRET, "lib/x.yaml": "->../secret.yaml", "lib/y.yaml": SECRET})
    monkeypatch.chdir(tmp_path)
    result = run("build", "lib", "-o", "out")
    assert (result.exit_code, result.stdout, result.stderr.splitlines()) == (
        1, "built 0, unchanged 0, failed 2\n",
        [SCRIPT_OUT.format("lib/x.yaml", "lib"), NOT_A_SCRIPT.format("lib/y.yaml")])
    quiet_about_secrets(result)
    written = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert written and not [p for p in written if b"hunter2" in p.read_bytes() or b"password" in p.read_bytes()]


def test_a_link_to_a_valid_script_elsewhere_is_used(tmp_path, monkeypatch):
    make(tmp_path, {"shared/calm.yaml": SCRIPT, "lib/linked.yaml": "->../shared/calm.yaml", "lib/calm.yaml": SCRIPT,
                    "shared/ana.yaml": "client: Ana\nlibrary: ../lib\nscripts: [calm]\n",
                    "profiles/ana.yaml": "->../shared/ana.yaml"})
    monkeypatch.chdir(tmp_path)
    assert run("validate", "lib/linked.yaml").stdout == "1 script valid\n"
    assert run("validate", "--profile", "profiles/ana.yaml").stdout == "profiles/ana.yaml: 1 script valid\n"


def test_a_script_s_own_mistakes_are_still_named(tmp_path, monkeypatch):
    """A key of a script written wrongly is a script's: its messages name the keys as before."""
    make(tmp_path, {"s.yaml": "Title: x\nSteps:\n  - say: hi\n"})
    monkeypatch.chdir(tmp_path)
    result = run("validate", "s.yaml")
    assert (result.exit_code, result.stderr.splitlines()) == (1, [
        "s.yaml:1:1: unknown key 'Title' (did you mean 'title'?)", "s.yaml:1:1: missing required key 'title'",
        "s.yaml:1:1: missing required key 'steps'", "s.yaml:2:1: unknown key 'Steps' (did you mean 'steps'?)"])


# ---------------------------------------------------------------- one output folder, one owner

PAUSE = "title: {}\nvariables: {{name: friend}}\nsteps:\n  - pause: 1s\n"


@pytest.fixture
def clinic(tmp_path, monkeypatch):
    """A library (its tracks' titles name whoever they are for) and Annabel's profile, whose set goes into the
    private client_sets/annabel: the issue's layout has scripts/annabel/ as well."""
    make(tmp_path, {"scripts/calm.yaml": PAUSE.format("Calm for {name}"),
                    "profiles/annabel.yaml": "client: Annabel\nlibrary: ../scripts\nvariables: {name: Annabel}\n"
                                             "scripts: [calm]\n"})
    monkeypatch.chdir(tmp_path)
    return tmp_path


def files_below(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def paths_below(folder: Path) -> list[str]:
    """Every file and folder below, empty folders too: what a refused command must not have made."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def library_files(clinic) -> dict[str, bytes]:
    """The shared library's own files (its page, playlist, manifest, tracks), not what is in its sub-folders."""
    return {name: data for name, data in files_below(clinic / "audio_out").items() if "/" not in name}


def built(*args):
    result = run("build", "-j", "1", *args)
    assert result.exit_code == 0, result.output
    return result


def older_layout(clinic):
    """Annabel's set where a previous meditate put it, inside the library's output (audio_out/annabel/, its
    manifest's owner her profile, at the same depth as in client_sets/), beside the library's own tracks."""
    built("scripts")
    built("--profile", "profiles/annabel.yaml")
    (clinic / "client_sets" / "annabel").rename(clinic / "audio_out" / "annabel")
    (clinic / "client_sets").rmdir()


OLDER_LAYOUT = ("Error: audio_out/annabel holds a client's set (the profile profiles/annabel.yaml) inside the public "
                "output: move it out (for example to client_sets/annabel) and build again\n")


PUBLIC_OUTPUT = "{}: client sets go into a private folder of their own (default client_sets/)"


def test_the_default_layout_records_its_owners_and_keeps_clients_off_the_library_s_page(clinic):
    import json

    built("--profile", "profiles/annabel.yaml")
    built("scripts")
    manifest = json.loads((clinic / "audio_out" / "library.json").read_text())
    assert (manifest["owner"], manifest["nested"]) == ({"library": "../scripts"}, [])  # no client's folder named
    client = json.loads((clinic / "client_sets" / "annabel" / "library.json").read_text())
    assert (client["owner"], client["nested"]) == ({"profile": "../../profiles/annabel.yaml"}, [])
    assert b"Calm for Annabel" in files_below(clinic / "client_sets" / "annabel")["calm.mp3"]
    public = files_below(clinic / "audio_out")
    assert [name for name in public if "/" in name] == []  # nothing of a client's below the public output
    assert [name for name, data in public.items() if b"annabel" in data.lower()] == []
    assert built("scripts").stdout == "built 0, unchanged 1, failed 0\n"
    assert built("--profile", "profiles/annabel.yaml").stdout == "built 0, unchanged 1, failed 0\n"


def test_a_client_s_set_into_the_library_s_output_is_refused_before_anything_is_written(clinic):
    """What was once the default (audio_out/annabel/, where the library has tracks of scripts/annabel/) now
    needs an -o into the public output, and that is refused up front, whatever is there."""
    make(clinic, {"scripts/annabel/hello.yaml": PAUSE.format("Hello")})
    built("scripts")
    before, listing = files_below(clinic), paths_below(clinic)
    public = "audio_out is the public library's output"
    inside = "audio_out/{} is inside the public library's output audio_out"
    for command, where in (
            (["build", "--profile", "profiles/annabel.yaml", "-o", "audio_out"], public),
            (["build", "--profiles", "profiles", "-o", "audio_out"], public),
            (["render", "--profile", "profiles/annabel.yaml", "-o", "audio_out"], public),
            (["build", "--profile", "profiles/annabel.yaml", "-o", "audio_out", "--dry-run"], public),
            (["build", "--profile", "profiles/annabel.yaml", "-o", "audio_out/annabel"], inside.format("annabel")),
            (["render", "--profile", "profiles/annabel.yaml", "-o", "audio_out/clients"], inside.format("clients"))):
        result = run(*command)
        assert (result.exit_code, result.stdout, result.stderr) == (
            1, "", "Error: " + PUBLIC_OUTPUT.format(where) + "\n"), command
    assert (files_below(clinic), paths_below(clinic)) == (before, listing)


def test_a_client_folder_that_holds_an_older_library_s_tracks_is_refused(clinic):
    """A library output an older meditate wrote names no owner, so it is not known to be public; a client's set
    still never goes where that library has tracks."""
    import json

    make(clinic, {"scripts/annabel/hello.yaml": PAUSE.format("Hello")})
    built("scripts")
    library = clinic / "audio_out" / "library.json"
    manifest = json.loads(library.read_text())
    del manifest["owner"], manifest["nested"]  # as an older meditate wrote it
    library.write_text(json.dumps(manifest))
    before, listing = files_below(clinic), paths_below(clinic)
    for command in (["build", "--profile", "profiles/annabel.yaml", "-o", "audio_out"],
                    ["build", "--profiles", "profiles", "-o", "audio_out"],
                    ["render", "--profile", "profiles/annabel.yaml", "-o", "audio_out"],
                    ["build", "--profile", "profiles/annabel.yaml", "-o", "audio_out", "--dry-run"]):
        result = run(*command)
        assert (result.exit_code, result.stdout, result.stderr) == (
            1, "", "profiles/annabel.yaml:1:1: its output folder audio_out/annabel holds tracks of another build "
            "(audio_out/annabel/hello.mp3); give it another 'output:'\n"), command
    assert (files_below(clinic), paths_below(clinic)) == (before, listing)


def test_a_library_track_into_a_client_s_folder_is_refused(clinic):
    built("--profile", "profiles/annabel.yaml")
    make(clinic, {"scripts/annabel/hello.yaml": PAUSE.format("Hello")})
    before, listing = files_below(clinic), paths_below(clinic)
    message = ("Error: scripts/annabel/hello.yaml would be written into client_sets/annabel, which belongs to the "
               "profile profiles/annabel.yaml; build scripts into another folder (-o)\n")
    for command in (["build", "scripts", "-o", "client_sets"], ["build", "scripts", "-o", "client_sets", "--dry-run"]):
        result = run(*command)
        assert (result.exit_code, result.stdout, result.stderr) == (1, "", message), command
    result = run("render", "scripts", "-o", "client_sets")  # a render mirrors the folders too
    assert (result.exit_code, result.stdout, result.stderr) == (
        1, "", "Error: scripts/annabel/hello.yaml would be written into client_sets/annabel, which belongs to the "
               "profile profiles/annabel.yaml; render scripts/annabel/hello.yaml into another folder (-o)\n")
    assert (files_below(clinic), paths_below(clinic)) == (before, listing)


def test_a_client_s_set_an_older_layout_left_in_the_public_output_stops_the_library_s_build(clinic):
    """An older meditate built clients' sets inside the library's output (audio_out/annabel/), so publishing the
    folder published them: the library's next build stops, changes nothing, and says where to move the set; moved,
    the library builds and names no client."""
    import json

    older_layout(clinic)
    before = files_below(clinic)
    for command in (["build", "scripts"], ["build", "scripts", "--prune"], ["build", "scripts", "--dry-run"]):
        result = run(*command)
        assert (result.exit_code, result.stdout, result.stderr) == (1, "", OLDER_LAYOUT), command
    assert files_below(clinic) == before
    (clinic / "client_sets").mkdir()
    (clinic / "audio_out" / "annabel").rename(clinic / "client_sets" / "annabel")
    assert built("scripts").stdout == "built 0, unchanged 1, failed 0\n"
    assert json.loads((clinic / "audio_out" / "library.json").read_text())["nested"] == []
    assert built("--profile", "profiles/annabel.yaml").stdout == "built 0, unchanged 1, failed 0\n"


@pytest.mark.parametrize("command, message", [
    (["build", "other", "-o", "client_sets/annabel"],
     "Error: client_sets/annabel belongs to the profile profiles/annabel.yaml; build other into another folder (-o)"),
    (["build", "other", "-o", "client_sets/annabel/more"],
     "Error: client_sets/annabel/more is inside client_sets/annabel, which belongs to the profile "
     "profiles/annabel.yaml; build other into another folder (-o)"),
    (["build", "--profile", "profiles/bob.yaml"],
     "profiles/bob.yaml:4:9: its output folder client_sets/annabel belongs to the profile profiles/annabel.yaml; "
     "give it another 'output:'"),
    (["render", "--profile", "profiles/bob.yaml"],
     "profiles/bob.yaml:4:9: its output folder client_sets/annabel belongs to the profile profiles/annabel.yaml; "
     "give it another 'output:'"),
    (["build", "--profile", "profiles/carol.yaml", "-o", "client_sets/annabel"],
     "profiles/carol.yaml:1:1: its output folder client_sets/annabel/carol is inside client_sets/annabel, which "
     "belongs to the profile profiles/annabel.yaml; give it another 'output:'"),
    (["render", "scripts/calm.yaml", "-o", "client_sets/annabel"],
     "Error: client_sets/annabel belongs to the profile profiles/annabel.yaml; render scripts/calm.yaml into another "
     "folder (-o)"),
    (["render", "other/o.yaml", "-o", "audio_out"],
     "Error: audio_out belongs to the library scripts; render other/o.yaml into another folder (-o)"),
    (["build", "other", "-o", "audio_out"],
     "Error: audio_out belongs to the library scripts; build other into another folder (-o)"),
    (["build", "--profile", "profiles/dora.yaml", "-o", "."],
     "profiles/dora.yaml:4:9: its output folder audio_out belongs to the library scripts; give it another 'output:'"),
    (["build", "--profile", "profiles/annabel.yaml", "-o", "audio_out"],
     "Error: " + PUBLIC_OUTPUT.format("audio_out is the public library's output")),
    (["render", "--profile", "profiles/annabel.yaml", "-o", "audio_out/annabel"],
     "Error: " + PUBLIC_OUTPUT.format("audio_out/annabel is inside the public library's output audio_out")),
], ids=["library into a client's folder", "library inside a client's folder", "two profiles, one output",
        "a render of two profiles, one output", "a client's folder inside another's",
        "render into a client's folder", "render of another library's script", "two libraries, one folder",
        "a profile into the library's folder", "client sets into the library's output",
        "a render of client sets inside the library's output"])
def test_a_folder_another_owns_is_refused_before_anything_is_written(clinic, command, message):
    make(clinic, {"other/o.yaml": PAUSE.format("Other"),
                  "profiles/bob.yaml": "client: Bob\nlibrary: ../scripts\nvariables: {name: Bob}\noutput: annabel\n"
                                       "scripts: [calm]\n",
                  "profiles/carol.yaml": "library: ../scripts\nscripts: [calm]\n",
                  "profiles/dora.yaml": "library: ../scripts\nvariables: {name: Dora}\nscripts: [calm]\n"
                                        "output: audio_out\n"})
    built("--profile", "profiles/annabel.yaml")
    built("scripts")
    before, listing = files_below(clinic), paths_below(clinic)
    result = run(*command)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", message + "\n")
    assert (files_below(clinic), paths_below(clinic)) == (before, listing)


def test_what_an_owner_may_still_write(clinic):
    built("--profile", "profiles/annabel.yaml")
    built("scripts")
    make(clinic, {"draft.yaml": PAUSE.format("Draft")})
    for command in (["render", "scripts/calm.yaml"], ["render", "--profile", "profiles/annabel.yaml"],
                    ["render", "draft.yaml", "-o", "audio_out/drafts"], ["build", "scripts", "-o", "elsewhere"]):
        result = run(*command)
        assert result.exit_code == 0, (command, result.output)


def test_one_refused_client_among_many_the_others_build(clinic):
    make(clinic, {"profiles/bob.yaml": "library: ../scripts\nvariables: {name: Bob}\nscripts: [calm]\n"})
    built("scripts", "-o", "client_sets/annabel")  # a library built where Annabel's set would go
    theirs = files_below(clinic / "client_sets" / "annabel")
    result = run("build", "--profiles", "profiles", "-j", "1")
    assert (result.exit_code, result.stderr) == (
        1, "profiles/annabel.yaml:1:1: its output folder client_sets/annabel belongs to the library scripts; "
           "give it another 'output:'\n")
    assert result.stdout.splitlines()[-1] == ("clients: built 1, unchanged 0, failed 1; tracks: built 1, unchanged 0, "
                                              "failed 0")
    assert files_below(clinic / "client_sets" / "annabel") == theirs
    assert sorted(files_below(clinic / "client_sets" / "bob")) == [
        ".meditate-state.json", "HANDOUT.html", "calm.mp3", "calm.vtt", "index.html", "library.json", "library.m3u8",
        "tracks.zip"]


def test_a_folder_whose_owner_was_renamed_is_taken_over(clinic):
    built("scripts")
    (clinic / "scripts").rename(clinic / "practices")
    assert built("practices").stdout == "built 0, unchanged 1, failed 0\n"
    (clinic / "profiles" / "annabel.yaml").write_text("library: ../practices\nscripts: [calm]\n")
    built("--profile", "profiles/annabel.yaml")
    (clinic / "profiles" / "annabel.yaml").rename(clinic / "profiles" / "ana.yaml")
    (clinic / "profiles" / "ana.yaml").write_text("library: ../practices\noutput: annabel\nscripts: [calm]\n")
    assert built("--profile", "profiles/ana.yaml").stdout == "built 0, unchanged 1, failed 0\n"
