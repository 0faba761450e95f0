"""The dask executor: only the scheduler address the user gives (``dask://HOST:PORT``), checked
before any work, probed with a bounded time-out, tasks gathered in input order."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from eventstudy.errors import BadInput, DataUnavailable
from eventstudy.progress import Bar

DASK_TIMEOUT = 10.0  # seconds to connect to a dask scheduler; $EVENTSTUDY_DASK_TIMEOUT
_HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")


def _bad_address(executor: str, why: str) -> BadInput:
    return BadInput(f"bad --executor {executor[:80]!r}: {why} (use dask://HOST:PORT)")


def dask_address(executor: str) -> str:
    """'dask://HOST:PORT' (or 'dask://tcp://HOST:PORT', IPv6 as [::1]) -> 'tcp://HOST:PORT';
    a malformed address, a port outside 1-65535 or another scheme is ``BadInput``."""
    rest = executor.removeprefix("dask://")
    scheme, _, hostport = rest.rpartition("://")
    if scheme not in ("", "tcp", "tls"):
        raise _bad_address(executor, f"unsupported scheme {scheme[:20]!r} (tcp or tls)")
    host, _, port = hostport.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise _bad_address(executor, "not an IPv6 address in [...]") from None
    elif not _HOST.fullmatch(host):
        raise _bad_address(executor, "expected a host name or address before ':PORT'")
    if not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        raise _bad_address(executor, "the port must be a number from 1 to 65535")
    return f"{scheme or 'tcp'}://{host}:{int(port)}"


def connect_timeout(timeout: float | None) -> float:
    """``timeout``, else $EVENTSTUDY_DASK_TIMEOUT, else ``DASK_TIMEOUT`` seconds."""
    if timeout is not None:
        return float(timeout)
    text = os.environ.get("EVENTSTUDY_DASK_TIMEOUT", "")
    try:
        value = float(text) if text else DASK_TIMEOUT
    except ValueError:
        raise BadInput(f"EVENTSTUDY_DASK_TIMEOUT={text[:40]!r} is not a number of seconds"
                       ) from None
    if not 0 < value <= 3600:
        raise BadInput("EVENTSTUDY_DASK_TIMEOUT must be between 0 and 3600 seconds")
    return value


async def _identity(address: str, timeout: float) -> Any:
    """Ask the scheduler at ``address`` who it is (the 'identity' op of every dask server)."""
    from distributed.comm import connect

    comm = await connect(address, timeout=timeout)
    try:
        await comm.write({"op": "identity"})
        return await comm.read()
    finally:
        comm.abort()


def probe_scheduler(address: str, timeout: float) -> None:
    """Fail fast unless a dask scheduler answers at ``address`` within ``timeout`` seconds.

    ``distributed.Client`` waits forever on a peer that accepts and stays silent, and on a peer
    that answers garbage it fails with a MemoryError and a traceback from ``Client.__del__``;
    the probe runs in its own thread and event loop, bounded by ``asyncio.wait_for``."""
    def ask() -> Any:
        host, _, port = address.split("://")[1].rpartition(":")
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
        return asyncio.run(asyncio.wait_for(_identity(address, timeout), timeout))

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dask-probe") as pool:
        try:
            reply = pool.submit(ask).result()
        except TimeoutError:
            raise DataUnavailable(f"no answer from the dask scheduler at {address} within "
                                  f"{timeout:g} s") from None
        except OSError as exc:
            first = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
            raise DataUnavailable(f"cannot reach the dask scheduler at {address}: {first}"
                                  ) from None
        except Exception as exc:  # noqa: BLE001 - garbage: MemoryError, ValueError, msgpack...
            raise DataUnavailable(f"the server at {address} does not answer as a dask "
                                  f"scheduler ({type(exc).__name__})") from None
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        raise DataUnavailable(f"the server at {address} is not a dask scheduler")


def run_dask(call: Callable[[Any], Any], items: list[Any], executor: str, bar: Bar,
             timeout: float | None = None) -> list[Any]:
    """``call(item)`` for every item on the dask scheduler of ``executor``, in input order."""
    from distributed import Client
    from distributed import as_completed as dask_completed

    address = dask_address(executor)
    seconds = connect_timeout(timeout)
    probe_scheduler(address, seconds)
    try:
        client = Client(address, timeout=f"{seconds}s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise DataUnavailable(f"cannot reach the dask scheduler at {address}: {exc}") from exc
    with client:  # closed on every path
        try:  # a scheduler without workers would hold the tasks forever
            client.wait_for_workers(1, timeout=seconds)
        except (TimeoutError, OSError):
            raise DataUnavailable(f"the dask scheduler at {address} has no workers (none "
                                  f"joined within {seconds:g} s)") from None
        futures = client.map(call, items, pure=False)
        for _ in dask_completed(futures, loop=client.loop):
            bar.update()
        return list(client.gather(futures))
