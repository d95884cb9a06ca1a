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
    ((b"build", b"lib", b"--cluster", b"tcp://h\xff:8786"), f"Invalid value for '--cluster': 'tcp://h\\xff:8786' {NOT_UTF8}"),
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


def build_on(work, address):
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
        result, seconds = build_on(work, address)
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


def test_a_bracketed_ipv6_address_is_an_address(work):
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


def test_plain_tcp_where_dask_s_configuration_requires_encryption(work):
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
        result, seconds = build_on(work, f"tls://127.0.0.1:{port}")
    assert (result.exit_code, result.stderr) == (
        1, f"Error: the TLS handshake with tls://127.0.0.1:{port} failed: check Dask's TLS settings and the "
           "scheduler's certificate (docs/scaling.md)\n")
    assert seconds < 15


def test_tls_to_a_silent_server(work, certificates):
    with serving(lambda c: None) as port, dask_settings(**certificates):
        address = f"tls://127.0.0.1:{port}"
        result, seconds = build_on(work, address)
    assert (result.exit_code, result.stderr) == (1, NOT_DASK.format(address))
    assert seconds < 15


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
