"""Debian's Chromium, headless, driven over the DevTools protocol on a pipe (fds 3 and 4 of the
browser, messages ended by a NUL byte): opens a page, waits for its load event, and returns what
a script measured in it, so a test sees the page as laid out, not just its HTML."""
from __future__ import annotations

import fcntl
import json
import os
import select
import signal
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"


class DevTools:
    def __init__(self, process: subprocess.Popen, to_browser: int, from_browser: int):
        self._process, self._out, self._in = process, to_browser, from_browser
        self._buffer, self._next_id, self.events = b"", 0, []

    def call(self, method: str, session: str | None = None, timeout: float = 60, **params) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._receive(timeout)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def wait_for_event(self, method: str, session: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event.get("method") == method and event.get("sessionId") == session:
                    self.events.remove(event)
                    return event
            self.events.append(self._receive(deadline - time.monotonic()))

    def _receive(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._in], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError(f"no answer from Chromium (exit status {self._process.poll()})")
            chunk = os.read(self._in, 1 << 16)
            if not chunk:
                raise RuntimeError(f"Chromium closed its DevTools pipe (exit status {self._process.wait(5)})")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def measure(self, url: str, script: str) -> object:
        """Opens `url` in a new tab and returns the value of `script` (an expression) after load."""
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable", session=session)
        self.call("Page.navigate", session=session, url=url)
        self.wait_for_event("Page.loadEventFired", session)
        result = self.call("Runtime.evaluate", session=session, expression=script, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{script}: {result['exceptionDetails']}")
        return result["result"]["value"]


def _high_pipe() -> tuple[int, int]:
    """A pipe whose ends are fd 10 or above, so the shell's `3<&r 4>&w` never overwrites one of them."""
    ends = os.pipe()
    high = tuple(fcntl.fcntl(end, fcntl.F_DUPFD_CLOEXEC, 10) for end in ends)
    for end in ends:
        os.close(end)
    return high


@contextmanager
def chromium():
    """A headless Chromium with a profile of its own, stopped (and its profile removed) afterwards."""
    to_browser_read, to_browser_write = _high_pipe()
    from_browser_read, from_browser_write = _high_pipe()
    # The browser reads commands on fd 3 and writes answers on fd 4; a shell puts the pipes there
    # (bash: dash takes one-digit fds only; a preexec_fn could, but is unsafe in pytest-xdist's threaded
    # workers).
    command = (f'exec "$0" "$@" 3<&{to_browser_read} 4>&{from_browser_write} '
               f'{to_browser_read}<&- {from_browser_write}>&-')
    with tempfile.TemporaryDirectory(prefix="geostack-chromium-") as profile, \
            open(Path(profile) / "stderr.log", "wb") as log:
        process = subprocess.Popen(
            ["bash", "-c", command, CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--remote-debugging-pipe", f"--user-data-dir={profile}",
             "--window-size=1280,900", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
            pass_fds=(to_browser_read, from_browser_write), start_new_session=True)
        os.close(to_browser_read)
        os.close(from_browser_write)
        try:
            yield DevTools(process, to_browser_write, from_browser_read)
        finally:
            _stop(process, profile)
            os.close(to_browser_write)
            os.close(from_browser_read)


def _stop(process: subprocess.Popen, profile: str) -> None:
    """Kills the browser and every process it started, and waits until none runs: one outliving the
    browser still writes into the profile while it is being removed. Most share the browser's
    session; crashpad's handler makes one of its own, but names the profile on its command line."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(30)
    deadline = time.monotonic() + 30
    while running := _running(process.pid, profile):
        if time.monotonic() > deadline:
            raise TimeoutError(f"Chromium's processes {running} outlive SIGKILL")
        for pid in running:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)


def _running(group: int, profile: str) -> list[int]:
    """Processes of `group`, or naming `profile`, that still run (a zombie, waiting for a parent
    that does not reap it, writes nothing)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after its ")".
            state, _, pgrp = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:3]
            command_line = (entry / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if state != "Z" and (int(pgrp) == group or profile.encode() in command_line):
            found.append(int(entry.name))
    return found
