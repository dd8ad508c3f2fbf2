"""The benchmark's shaped link (bench/link.py) gives a client what it claims: the round-trip time
on every request, and no more than the rate for the bytes. Checked with curl from the link's
client namespace against a loopback HTTP server, each figure against loopback itself."""
from __future__ import annotations

import http.server
import subprocess
import threading

import pytest

from bench.link import shaped_link

BODY = b"x" * 250_000  # 2 Mbit


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the stdlib's name)
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def _timings(url: str, prefix: tuple[str, ...] = ()) -> tuple[float, float, int]:
    """curl's seconds to the first byte and in all, and the bytes it got."""
    out = subprocess.run([*prefix, "curl", "-sS", "-o", "/dev/null", "-w", "%{time_starttransfer} %{time_total} "
                          "%{size_download}", url], capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1]), int(out[2])


def test_the_link_adds_its_round_trip_and_holds_to_its_rate(server):
    # The best of three tries each way: a busy machine (the other test worker) can only add time,
    # and the fastest try is the one it disturbed least.
    direct = min(_timings(server) for _ in range(3))
    assert direct[2] == len(BODY) and direct[1] < 0.1, "loopback itself is fast"
    with shaped_link(20, 100) as link:
        shaped = [_timings(link.forward(server), link.prefix) for _ in range(3)]
    assert all(size == len(BODY) for _, _, size in shaped)
    # TCP's handshake with the relay sees no delay; the request and its answer see 100 ms in all,
    # which no load can shorten, and the link adds little more than that.
    assert all(first >= 0.1 for first, _, _ in shaped), shaped
    assert min(first for first, _, _ in shaped) - direct[0] < 0.2, (shaped, direct)
    # 2 Mbit at 20 Mbit/s: 100 ms on the wire, after the first byte (a 2 ms burst may pass early).
    assert all(total - first >= 0.09 for first, total, _ in shaped), shaped
