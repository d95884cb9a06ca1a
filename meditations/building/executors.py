"""Where a build's work runs: one `concurrent.futures`-style interface over the local spawn pool (the
default) and a Dask cluster (`--cluster tcp://HOST:8786`, or `--cluster local` for a LocalCluster here).

A build submits plain functions with picklable arguments (synthesis batches, track renders) and waits for the
first of them to be done (`first_done`, as `concurrent.futures.wait` with FIRST_COMPLETED); it never needs to
know where they ran. `remote` says whether the workers may be on other machines (then they are sent the script
sources and clips they need and return the track's bytes; the build's own process writes every file). Opening
a cluster executor connects first, with a short timeout, so an unreachable scheduler is one clear error before
the build takes its lock or writes anything.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ipaddress
import multiprocessing
import os
import re
import socket
from collections.abc import Callable, Iterable
from typing import Any

from meditations.files import deaf_children, shown, stop_processes, worker_initializer
from meditations.model import MeditateError, excerpt

CONNECT_TIMEOUT = 5  # seconds: a scheduler that does not answer by then is reported, not waited for
INSTALL_HINT = ("--cluster needs Dask: install it with pip install 'meditate[cluster]' "
                "(in a clone: pip install '.[cluster]')")


# What a LocalCluster's workers need (docs/scaling.md gives the same for `dask worker`):
# - not daemonic: our tasks start processes of their own (speech engines, the MP3 encoder);
# - glibc's malloc left as it is: Dask's nannies set MALLOC_TRIM_THRESHOLD_, which turns off glibc's
#   adaptive mmap threshold, so every mixing block of a render (each larger than 128 KiB) was mapped and
#   unmapped afresh: a million page faults per track, the render's CPU time doubled in the kernel.
WORKER_CONFIG = {"distributed.worker.daemon": False,
                 "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


class _Closing:
    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Release the workers."""


class LocalExecutor(_Closing):
    """The local pool: `jobs` worker processes started with spawn, deaf to the terminal (signals.py)."""

    remote = False

    def __init__(self, jobs: int):
        self.jobs = jobs
        self.pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=jobs, mp_context=multiprocessing.get_context("spawn"), initializer=worker_initializer)

    def submit(self, function: Callable, *args: Any) -> Any:
        """Run function(*args) in a worker; a concurrent.futures.Future."""
        with deaf_children():  # a submit may start a worker process
            return self.pool.submit(function, *args)

    def first_done(self, futures: Iterable) -> set:
        """Wait until at least one of the futures is done; those that are."""

        return concurrent.futures.wait(list(futures), return_when=concurrent.futures.FIRST_COMPLETED).done

    def stop(self) -> None:
        """Interrupted: stop every worker now (each unwinds its task), reap them, forget what was queued."""

        stop_processes(list(self.pool._processes.values()))  # the executor has no public way to stop its workers
        self.pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        """Wait for the workers to exit."""
        self.pool.shutdown(wait=True)


_ADDRESS = re.compile(r"^(?:(tcp|tls)://)?(\[[^\]]*\]|[^:/\[\]]+):(\d{1,5})$")
_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")  # with "_": container names are host names too


def check_address(address: str) -> None:
    """A scheduler address Dask can use, or "local"; else a MeditateError saying what to give. The host is a
    name, an IPv4 address or an IPv6 address in brackets, and the port is 1 to 65535."""
    if address != "local" and not _valid_address(address):
        raise MeditateError(f"--cluster '{excerpt(address)}' is not a scheduler address: give tcp://HOST:PORT "
                            "(tls://HOST:PORT with TLS), or local for a cluster on this machine")


def _valid_address(address: str) -> bool:
    found = _ADDRESS.match(address)
    if found is None or not 1 <= int(found.group(3)) <= 65535:
        return False
    host = found.group(2)
    try:
        if host.startswith("["):
            ipaddress.IPv6Address(host[1:-1])
        elif re.fullmatch(r"[\d.]+", host):
            ipaddress.IPv4Address(host)
        elif not all(_HOST_LABEL.match(label) for label in host.removesuffix(".").split(".")):
            return False
    except ValueError:
        return False
    return True


_TLS_FILES = (("tls_ca_file", "distributed.comm.tls.ca-file"), ("tls_client_cert", "distributed.comm.tls.client.cert"),
              ("tls_client_key", "distributed.comm.tls.client.key"))


def _security(address: str):
    """Dask's security settings (its configuration: TLS files, required encryption) for this address; a
    MeditateError when they cannot be used with it."""
    from distributed.security import Security

    security = Security()
    for attribute, key in _TLS_FILES:
        named = getattr(security, attribute, None)
        if named and "-----BEGIN" not in named and not os.path.isfile(named):  # (a setting may hold the PEM text)
            raise MeditateError(f"Dask's setting {key} names {shown(named)}, which is not a file (docs/scaling.md)")
    try:
        context = security.get_connection_args("client").get("ssl_context")
    except (OSError, ValueError):  # (ssl.SSLError is an OSError)
        raise MeditateError("cannot use Dask's TLS settings: their files are not a PEM certificate and key "
                            "(docs/scaling.md)") from None
    if address.startswith("tls://") and context is None:
        raise MeditateError(f"--cluster {address} uses TLS, but Dask's configuration gives no TLS files: set "
                            "distributed.comm.tls.ca-file and client cert and key (docs/scaling.md)")
    if not address.startswith("tls://") and security.require_encryption:
        raise MeditateError(f"--cluster {address} is not encrypted, but Dask's configuration requires "
                            "encryption (distributed.comm.require-encryption): give a tls:// address")
    return security


def _handshake(address: str, security) -> None:
    """Reach the scheduler, then complete Dask's handshake with it within the timeout (Dask's Client bounds the
    connection but not the handshake: a server that accepts and says nothing, such as an HTTP server waiting for
    its request, would keep a build waiting for ever). In a thread of its own: the caller may run an event loop."""
    from distributed.comm import connect
    from distributed.comm.core import FatalCommClosedError

    scheme, host, port = _ADDRESS.match(address).groups()  # type: ignore[union-attr]  # checked before
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT).close()
    except OSError:
        raise MeditateError(f"cannot reach the Dask scheduler at {address} within {CONNECT_TIMEOUT} s: "
                            "start it (docs/scaling.md) or check the address given to --cluster") from None

    async def handshake() -> None:
        args = security.get_connection_args("client")
        comm = await asyncio.wait_for(connect(address, timeout=CONNECT_TIMEOUT, **args), CONNECT_TIMEOUT)
        await comm.close()

    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        try:
            thread.submit(asyncio.run, handshake()).result()
        except Exception as exc:  # noqa: BLE001 - a server that is not Dask's breaks Dask's reader in its own way
            if scheme == "tls" and isinstance(exc, FatalCommClosedError):
                raise MeditateError(f"the TLS handshake with {address} failed: check Dask's TLS settings and the "
                                    "scheduler's certificate (docs/scaling.md)") from None
            raise MeditateError(f"the server at {address} is not a Dask scheduler (it did not answer as one within "
                                f"{CONNECT_TIMEOUT} s): check the address given to --cluster") from None


class DaskExecutor(_Closing):
    """A Dask distributed client: on a running scheduler, or on a LocalCluster started for this build."""

    remote = True
    RETRIES = 2  # a task whose worker died is run again elsewhere (Dask does that); these cover other losses

    def __init__(self, address: str, jobs: int):
        check_address(address)
        try:
            import dask
        except ImportError:
            raise MeditateError(INSTALL_HINT) from None
        self.address, self.jobs = address, jobs
        self.cluster: Any = None
        self._client: Any = None
        self.futures: set = set()  # this build's tasks not yet done: what an interruption cancels
        dask.config.set(WORKER_CONFIG)
        if address != "local":  # a scheduler is reached now, before the build changes anything
            self.jobs = self.slots()

    @property
    def client(self):
        """The connected client (a LocalCluster is started when first needed: a build with nothing to
        render starts none)."""
        if self._client is None:
            from distributed import Client

            address, security = self.address, None
            if address == "local":
                from distributed import LocalCluster

                self.cluster = LocalCluster(n_workers=self.jobs, threads_per_worker=1, processes=True,
                                            dashboard_address=None, silence_logs=50)
                address = self.cluster.scheduler_address
            else:
                security = _security(address)
                _handshake(address, security)
            try:
                self._client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False, security=security)
            except (OSError, TimeoutError):
                self._close_cluster()
                raise MeditateError(f"cannot reach the Dask scheduler at {address} within {CONNECT_TIMEOUT} s: "
                                    "start it (docs/scaling.md) or check the address given to --cluster") from None
        return self._client

    def slots(self) -> int:
        """How many tasks the cluster runs at once now (its workers' threads; workers may come and go)."""
        if self.address == "local" and self._client is None:
            return self.jobs
        return max(1, sum(self.client.nthreads().values()))

    def submit(self, function: Callable, *args: Any) -> Any:
        """Run function(*args) on some worker; a distributed.Future (run again if its worker dies)."""
        future = self.client.submit(function, *args, pure=False, retries=self.RETRIES)
        self.futures.add(future)
        return future

    def first_done(self, futures: Iterable) -> set:
        """Wait until at least one of the futures is done; those that are."""
        from distributed import as_completed

        futures = list(futures)
        first = next(iter(as_completed(futures, loop=self.client.loop)))  # (distributed.wait needs a default client)
        done = {first, *(f for f in futures if f.done())}
        self.futures -= done  # a result is then held only until the build has read it: its worker frees it
        return done

    def stop(self) -> None:
        """Interrupted: cancel every task of this build on the cluster, then disconnect."""
        try:
            if self._client is not None:  # (a LocalCluster not started yet has nothing to cancel)
                self._client.cancel(list(self.futures), force=True)
        finally:
            self.close()

    def close(self) -> None:
        """Disconnect (and stop the LocalCluster this build started)."""
        try:
            if self._client is not None:
                self._client.close()
                self._client = None
        finally:
            self._close_cluster()

    def _close_cluster(self) -> None:
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None


def open_executor(cluster: str | None, jobs: int) -> LocalExecutor | DaskExecutor:
    """The local spawn pool (cluster None), or a Dask client (an address, or "local")."""
    if cluster is None:
        return LocalExecutor(jobs)
    return DaskExecutor(cluster, jobs)


def worker_name() -> str:
    """Who runs the current task: the Dask worker's address, or this host and process."""
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return f"{socket.gethostname()} pid {os.getpid()}"
