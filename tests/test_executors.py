"""``--executor dask://HOST:PORT`` never hangs and never leaks a traceback: a malformed address is
bad input (exit 2) before any work, and a peer that is closed, stays silent or answers garbage is
data unavailable (exit 3) within the connect time-out. Fake servers listen on 127.0.0.1 only, in
threads that are stopped at the end of each test."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest
from conftest import run_cli

from eventstudy.errors import BadInput, DataUnavailable
from eventstudy.volatility.executors import GarchTask, check_executor, dask_address, fit_many

TIMEOUT = 2.0  # connect time-out given to fit_many
BOUND = 20.0  # the old code hung forever: a call still running after this fails the test


class FakeServer:
    """Accepts connections on 127.0.0.1; stays silent or answers ``reply`` bytes."""

    def __init__(self, reply: bytes | None) -> None:
        self.reply = reply
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.conns: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.conns.append(conn)
            if self.reply is not None:
                with contextlib.suppress(OSError):
                    conn.sendall(self.reply)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        for conn in self.conns:
            conn.close()
        self.sock.close()


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[FakeServer]:
    fake = FakeServer(request.param)
    yield fake
    fake.close()
    assert not fake.thread.is_alive()


def _fit_bounded(executor: str) -> BaseException | None:
    """fit_many on ``executor`` in a thread; the exception it raised (None if it returned)."""
    outcome: list[BaseException | None] = []

    def call() -> None:
        try:
            fit_many([GarchTask(np.random.default_rng(0).normal(0, 1, 100))], executor,
                     progress=False, connect_timeout=TIMEOUT)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome.append(exc)

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(BOUND)
    assert not worker.is_alive(), f"fit_many still connecting after {BOUND} s"
    return outcome[0]


GARBAGE = b"\xff" * 64 + b"HTTP/1.1 200 OK\r\n\r\nnot dask" * 4


@pytest.mark.parametrize("server", [None, GARBAGE, b"\x00" * 64],
                         ids=["silent", "garbage", "zeros"], indirect=True)
def test_a_peer_that_is_not_a_dask_scheduler_is_unavailable_within_the_timeout(
        server: FakeServer, capfd: pytest.CaptureFixture[str]) -> None:
    error = _fit_bounded(f"dask://127.0.0.1:{server.port}")
    assert isinstance(error, DataUnavailable), repr(error)
    assert f"127.0.0.1:{server.port}" in str(error)
    time.sleep(0.5)  # a Client.__del__ would print its traceback here
    assert "Traceback" not in capfd.readouterr().err
    assert not [t for t in threading.enumerate() if t.name.startswith("dask-probe")]


def test_a_closed_port_is_unavailable_at_once() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, not listening: connection refused
        error = _fit_bounded(f"dask://127.0.0.1:{port}")
    assert isinstance(error, DataUnavailable) and "cannot reach" in str(error)


@pytest.mark.parametrize("address", [
    "dask://", "dask://:::", "dask://127.0.0.1", "dask://127.0.0.1:notaport",
    "dask://127.0.0.1:0", "dask://127.0.0.1:65536", "dask://host:99999", "dask://[::1",
    "dask://[zz]:8786", "dask://a b:8786", "dask://inproc://x", "dask://" + "h" * 300 + ":1",
    "dask://127.0.0.1:-1", "dask://127.0.0.1:８７８６", "threads"])
def test_a_malformed_executor_is_bad_input(address: str) -> None:
    with pytest.raises(BadInput):
        check_executor(address)
    with pytest.raises(BadInput):
        fit_many([GarchTask(np.zeros(10))], address, progress=False)


@pytest.mark.parametrize(("executor", "address"), [
    ("dask://127.0.0.1:8786", "tcp://127.0.0.1:8786"),
    ("dask://tcp://scheduler.example.org:8786", "tcp://scheduler.example.org:8786"),
    ("dask://tls://10.0.0.1:8786", "tls://10.0.0.1:8786"),
    ("dask://[::1]:8786", "tcp://[::1]:8786")])
def test_well_formed_addresses(executor: str, address: str) -> None:
    assert dask_address(executor) == address
    assert check_executor(executor) == executor


@pytest.mark.parametrize("server", [None], ids=["silent"], indirect=True)
def test_cli_silent_scheduler_exits_3_with_one_line(server: FakeServer) -> None:
    code, _, err = run_cli("lockup", "0020.HK", "--offline", "--no-report", "--executor",
                           f"dask://127.0.0.1:{server.port}",
                           env={"EVENTSTUDY_DASK_TIMEOUT": str(TIMEOUT)})
    assert code == 3, err
    assert err.strip().splitlines() == [
        f"error: no answer from the dask scheduler at tcp://127.0.0.1:{server.port} within 2 s"]


def test_cli_malformed_executor_exits_2_before_the_study(monkeypatch: pytest.MonkeyPatch) -> None:
    import eventstudy.studies.batch

    studied: list[object] = []
    monkeypatch.setattr(eventstudy.studies.batch, "batch_study",
                        lambda *args, **kwargs: studied.append(args))
    code, _, err = run_cli("batch", "--offline", "--no-report", "--garch",
                           "--executor", "dask://127.0.0.1:99999")
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "port" in err and "Traceback" not in err
    assert studied == []  # the 33-event batch was not run first


def test_a_scheduler_without_workers_is_unavailable_within_the_timeout() -> None:
    """A dask scheduler (127.0.0.1) that no worker joined: DataUnavailable, not a hang."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=0, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        address = cluster.scheduler_address.removeprefix("tcp://")
        error = _fit_bounded(f"dask://{address}")
    assert isinstance(error, DataUnavailable), repr(error)
    assert "has no workers" in str(error) and address in str(error)
