"""A shaped link between wrk and the setups: what a client across a real network sees, where
loopback has no bandwidth limit and no round-trip time.

This kernel has no netem (`tc qdisc add ... netem` answers "Specified qdisc kind is unknown"),
so the link is built from what it does have:

- **bandwidth:** wrk runs in a network namespace of its own, joined to the host by a veth pair;
  each end's egress goes through tbf, the kernel's token bucket, at the given rate;
- **round-trip time:** on the host end, a relay passes every chunk of data on half the RTT after
  it arrived, in each direction, so a request and its answer take one RTT more than on loopback.

What this does not model: TCP's own round trips (the relay ends each TCP connection, so slow
start and ACKs see the veth's RTT, which is near zero). With keep-alive and one request after
another, a connection's window stays open, so that leaves out little for answers of tens of KB.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import threading
from dataclasses import dataclass, field
from typing import Iterator
from urllib.parse import urlsplit

HOST_IP, CLIENT_IP = "10.213.0.1", "10.213.0.2"
CHUNK = 65536


def _run(*args: str, namespace: str = "") -> None:
    prefix = ["ip", "netns", "exec", namespace] if namespace else []
    subprocess.run([*prefix, *args], check=True, capture_output=True)


def _shape(device: str, rate_mbit: int, namespace: str = "") -> None:
    # A burst of 2 ms of data: big enough for tbf at this rate, small enough that an answer of a
    # few KB does not pass at line speed.
    burst = rate_mbit * 1_000_000 // 8 // 500
    _run("tc", "qdisc", "add", "dev", device, "root", "tbf", "rate", f"{rate_mbit}mbit", "burst", str(burst),
        "latency", "100ms", namespace=namespace)


async def _carry(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """Pass what `reader` receives to `writer`, each chunk `delay` seconds after it arrived."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()

    async def receive() -> None:
        while True:
            data = await reader.read(CHUNK)
            await queue.put((loop.time() + delay, data))
            if not data:
                return

    receiving = asyncio.create_task(receive())  # referenced until `finally` cancels it
    try:
        while True:
            due, data = await queue.get()
            await asyncio.sleep(max(0.0, due - loop.time()))
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        receiving.cancel()
        writer.close()


@dataclass
class Link:
    namespace: str
    rate_mbit: int
    rtt_ms: int
    _loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    # asyncio drops its own reference to a connection's task when the client goes away; without
    # one here, a task still passing the last bytes on could be garbage-collected mid-way.
    _tasks: set = field(default_factory=set)

    def forward(self, url: str) -> str:
        """The address, on the host end of the link, that relays to `url` (a loopback server)."""
        target = urlsplit(url)
        delay = self.rtt_ms / 2000

        async def connection(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            server_reader, server_writer = await asyncio.open_connection(target.hostname, target.port)
            await asyncio.gather(_carry(client_reader, server_writer, delay),
                                 _carry(server_reader, client_writer, delay))

        async def listen() -> int:
            server = await asyncio.start_server(connection, HOST_IP, 0)
            return server.sockets[0].getsockname()[1]

        port = asyncio.run_coroutine_threadsafe(listen(), self._loop).result(10)
        return f"http://{HOST_IP}:{port}"

    @property
    def prefix(self) -> tuple[str, ...]:
        """What runs a command at the client's end of the link."""
        return ("ip", "netns", "exec", self.namespace)


@contextlib.contextmanager
def shaped_link(rate_mbit: int, rtt_ms: int) -> Iterator[Link]:
    """A client namespace behind a link of `rate_mbit` each way and `rtt_ms` of round-trip time."""
    tag = os.getpid() % 100000
    namespace, host_end, client_end = f"geostack-bench-{tag}", f"gsb{tag}h", f"gsb{tag}c"
    _run("ip", "netns", "add", namespace)
    link = Link(namespace, rate_mbit, rtt_ms)
    thread = threading.Thread(target=link._loop.run_forever, daemon=True)
    try:
        _run("ip", "link", "add", host_end, "type", "veth", "peer", "name", client_end)
        _run("ip", "link", "set", client_end, "netns", namespace)
        _run("ip", "addr", "add", f"{HOST_IP}/30", "dev", host_end)
        _run("ip", "link", "set", host_end, "up")
        _run("ip", "addr", "add", f"{CLIENT_IP}/30", "dev", client_end, namespace=namespace)
        _run("ip", "link", "set", client_end, "up", namespace=namespace)
        _run("ip", "link", "set", "lo", "up", namespace=namespace)
        _shape(host_end, rate_mbit)
        _shape(client_end, rate_mbit, namespace=namespace)
        thread.start()
        yield link
    finally:
        if thread.is_alive():
            link._loop.call_soon_threadsafe(link._loop.stop)
            thread.join(10)
        subprocess.run(["ip", "link", "del", host_end], capture_output=True)  # takes its peer with it
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
