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
    direct_first, direct_total, size = _timings(server)
    assert size == len(BODY) and direct_total < 0.1, "loopback itself is fast"
    with shaped_link(20, 100) as link:
        first, total, size = _timings(link.forward(server), link.prefix)
    assert size == len(BODY)
    # TCP's handshake with the relay sees no delay; the request and its answer see 100 ms in all.
    assert 0.1 <= first - direct_first < 0.2
    # 2 Mbit at 20 Mbit/s: 100 ms on the wire, after the first byte (a 2 ms burst may pass early).
    assert total - first >= 0.09
