"""Run what the program declares with Debian's real qgis-server and nginx on loopback.

The QGIS FastCGI server is started by the image's own cmd.sh with the environment the
program declares; nginx runs the exact config NginxProxy renders. Only host-specific
values change: loopback ports, the data path and the scratch directory.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Iterator, Optional

from offline.program_run import PROJECT_ROOT

DATA_MOUNT = "/data"  # where the containers mount the project folder
CMD_SH = PROJECT_ROOT / "docker" / "qgis-server" / "cmd.sh"
LANDING_PAGE = PROJECT_ROOT / "docker" / "qgis-server" / "landingpage" / "index.html"
QGIS_API_RESOURCES = Path("/usr/share/qgis/resources/server/api")
FONTCONFIG = PROJECT_ROOT / "docker" / "qgis-server" / "fontconfig" / "99-geostack-project-fonts.conf"
# The image's own QGIS Server plugins, as the repository holds them.
SERVER_PLUGINS = PROJECT_ROOT / "docker" / "qgis-server" / "server-plugins"
HEALTHCHECK_SH = PROJECT_ROOT / "docker" / "qgis-server" / "healthcheck.sh"
FASTCGI_PARAMS = Path("/etc/nginx/fastcgi_params")
MIME_TYPES = Path("/etc/nginx/mime.types")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll `check` until it is true; return the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic() - start
        time.sleep(0.2)
    raise TimeoutError(f"{what} not ready after {timeout}s")


def replace_once(text: str, old: str, new: str) -> str:
    """Substitute exactly one occurrence, so a change in the rendered config fails loudly."""
    assert text.count(old) == 1, f"expected exactly one {old!r} in the rendered config"
    return text.replace(old, new)


def http_get(url: str, headers: Optional[dict[str, str]] = None, timeout: float = 60):
    """(status, headers, body) of a GET, without raising on HTTP errors."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def stop_group(process: subprocess.Popen, timeout: float = 10) -> None:
    """Stop a server as tini does in the image: SIGTERM to the main process only. Then SIGTERM
    whatever is left in its session (Xvfb, which removes its /tmp/.X*-lock only when it is
    allowed to exit), and SIGKILL anything still there after 2 s."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError, PermissionError, TimeoutError):
        os.killpg(process.pid, signal.SIGTERM)
        wait_until(lambda: not _group_alive(process.pid), 2, "the rest of the session")
    with contextlib.suppress(ProcessLookupError, PermissionError, TimeoutError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=timeout)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


@contextlib.contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    # Not pytest's tmp_path: nginx workers run as nobody and need to traverse it.
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def qgis_server(declared_env: dict[str, str], data_dir: Path, port: int,
                overrides: Optional[dict[str, str]] = None) -> Iterator[dict]:
    """cmd.sh with the declared env; yields {'process', 'port', 'log', 'ready_seconds'}."""
    with scratch_dir("geostack-qgis-") as home:
        env = {key: value for key, value in os.environ.items() if not key.startswith("QGIS_")}
        env.update({key: on_host(value, data_dir) for key, value in declared_env.items()})
        if "QGIS_PLUGINPATH" in env:
            env["QGIS_PLUGINPATH"] = _plugin_path(declared_env["QGIS_PLUGINPATH"], data_dir)
        env.update({
            "QGIS_FCGI_PORT": str(port),
            "QGIS_FCGI_ADDRESS": "127.0.0.1",
            "HOME": str(home),
            # Each worker makes a QGIS3-* temp dir that a stopped worker never removes: keep them
            # in the scratch dir, which goes with the server. (During a request libfcgi swaps the
            # process environment for the request's params, so the health check passes it too.)
            "TMPDIR": str(home),
            # The image puts its landing page template into Debian's resources; here a copy of
            # those, with the template, stands in (the host's own stay untouched).
            "QGIS_SERVER_API_RESOURCES_DIRECTORY": str(_api_resources(home)),
            # Likewise the image's fontconfig file for the project folder's fonts/, on top of the host's.
            "FONTCONFIG_FILE": str(_fontconfig(home, data_dir)),
            **(overrides or {}),
        })
        log = home / "qgis.log"
        with open(log, "wb") as log_file:
            process = subprocess.Popen([str(CMD_SH)], env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        try:
            health_env = {**os.environ, "QGIS_FCGI_PORT": str(port), "TMPDIR": str(home),
                          "QGIS_HEALTHCHECK_PROJECT": env["QGIS_HEALTHCHECK_PROJECT"]}
            ready = wait_until(
                lambda: process.poll() is None and subprocess.run(
                    [str(HEALTHCHECK_SH)], env=health_env, capture_output=True).returncode == 0,
                timeout=90, what="QGIS Server")
            yield {"process": process, "port": port, "log": log, "ready_seconds": ready}
        finally:
            stop_group(process)


def _plugin_path(declared: str, data_dir: Path) -> str:
    """QGIS_PLUGINPATH (folders joined by ':') with the image's plugins and the project folder's
    swapped for theirs on this host."""
    from pulumi_geostack.qgis_server import IMAGE_PLUGINS

    return ":".join(str(SERVER_PLUGINS) if part == IMAGE_PLUGINS else on_host(part, data_dir)
                    for part in declared.split(":"))


def _fontconfig(scratch: Path, data_dir: Path) -> Path:
    conf = FONTCONFIG.read_text().replace("<fontconfig>", "<fontconfig>\n  <include>/etc/fonts/fonts.conf</include>")
    assert conf.count(f"<dir>{DATA_MOUNT}/") == 1, "the image's fontconfig file changed"
    path = scratch / "fonts.conf"
    path.write_text(conf.replace(f"<dir>{DATA_MOUNT}/", f"<dir>{data_dir}/"))
    return path


def _api_resources(scratch: Path) -> Path:
    resources = scratch / "server-api"
    shutil.copytree(QGIS_API_RESOURCES, resources)
    (resources / "ogc" / "static" / "landingpage").mkdir(parents=True, exist_ok=True)
    shutil.copy(LANDING_PAGE, resources / "ogc" / "static" / "landingpage" / "index.html")
    return resources


def session_processes(session_id: int) -> dict[int, list[bytes]]:
    """argv of every live process in a session, by PID."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) != session_id:
                continue
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, ProcessLookupError):
            continue
        if argv != [b""]:  # a zombie has no command line
            found[int(entry.name)] = argv
    return found


def qgis_workers(session_id: int) -> list[int]:
    """PIDs of QGIS FastCGI worker processes in a session (argv[0] is the FastCGI binary)."""
    return sorted(pid for pid, argv in session_processes(session_id).items()
                  if argv[0].endswith(b"/qgis_mapserv.fcgi"))


def declared_dev_stack(overrides: Optional[dict[str, str]] = None) -> dict:
    """What the dev stack (with `overrides`) declares for QGIS and its proxy: the env, data
    directory, nginx.conf and upstream."""
    from offline.program_run import run_program

    run = run_program("dev", overrides)
    qgis = run.one("docker:index/container:Container", "qgis-server")
    env = dict(item.split("=", 1) for item in qgis.inputs["envs"])
    data_dir = next(v["hostPath"] for v in qgis.inputs["volumes"] if v["containerPath"] == "/data")
    upstream = f'{qgis.inputs["networksAdvanced"][0]["aliases"][0]}:{env["QGIS_FCGI_PORT"]}'
    return {"env": env, "data_dir": data_dir, "nginx_conf": run.nginx_config("qgis-nginx"), "upstream": upstream}


def declared_staging_stack(overrides: Optional[dict[str, str]] = None,
                           secrets: Optional[dict[str, str]] = None) -> dict:
    """What the staging stack (with `overrides` and secret config `secrets`) declares for QGIS and
    its proxy: the QGIS container's env, nginx.conf, the upstream nginx passes to, and the QGIS
    container's secret files (path: content)."""
    import re

    from pulumi_geostack.targets.kubernetes_pods import SECRET_FILES_VOLUME
    from offline.program_run import run_program

    run = run_program("staging", overrides, secrets=secrets)
    pod = run.one("kubernetes:apps/v1:Deployment", "qgis-server-deployment").inputs["spec"]["template"]["spec"]
    qgis = next(c for c in pod["containers"] if c["name"] == "qgis-server")
    conf = run.nginx_config("qgis-nginx")
    secret_files = {}
    if any(mount["name"] == SECRET_FILES_VOLUME for mount in qgis["volumeMounts"]):
        secret = run.one("kubernetes:core/v1:Secret", "qgis-server-env").inputs["stringData"]
        secret_files = {mount["mountPath"]: secret[mount["subPath"]] for mount in qgis["volumeMounts"]
                        if mount["name"] == SECRET_FILES_VOLUME}
    return {"env": {item["name"]: item["value"] for item in qgis["env"]}, "nginx_conf": conf,
            "upstream": re.search(r"fastcgi_pass (\S+);", conf).group(1), "secret_files": secret_files}


def on_host(value: str, data_dir: Path) -> str:
    """A declared value with the container's project folder swapped for `data_dir`
    (the landing page's folders are joined by ||)."""
    return "||".join(str(data_dir) + part.removeprefix(DATA_MOUNT) if part.startswith(DATA_MOUNT + "/")
                     or part == DATA_MOUNT else part for part in value.split("||"))


def _md5(text: str) -> str:
    import hashlib

    return hashlib.md5(text.encode()).hexdigest()


def loopback_nginx_conf(rendered: str, listen_port: int, upstream: str, qgis_port: int, scratch: Path,
                        data_dir: Path, status_port: Optional[int] = None) -> str:
    """The rendered config with only host-specific values swapped: the listen ports, the upstream
    address, /tmp paths, and the project folder's path (and so the landing page's ids, which
    are hashes of project paths)."""
    import re

    from pulumi_geostack.nginx_conf import STATUS_PORT

    listen = re.search(r"listen (\d+);", rendered).group(0)
    conf = replace_once(rendered, listen, f"listen 127.0.0.1:{listen_port};")
    conf = replace_once(conf, f"listen {STATUS_PORT};", f"listen 127.0.0.1:{status_port or free_port()};")
    passes = (f"fastcgi_pass {upstream};", f"set $qgis_fastcgi {upstream};")
    assert sum(conf.count(p) for p in passes) >= 1, f"no fastcgi_pass to {upstream} in the rendered config"
    for old in passes:
        conf = conf.replace(old, old.replace(upstream, f"127.0.0.1:{qgis_port}"))
    conf = conf.replace(" /tmp/", f" {scratch}/")  # first: the data dir may itself be under /tmp
    for project in set(re.findall(rf'"({DATA_MOUNT}/[^"]+)"', conf)):
        conf = conf.replace(_md5(project), _md5(on_host(project, data_dir)))
    return re.sub(rf"(?<=[ \"]){DATA_MOUNT}/", f"{data_dir}/", conf)


@contextlib.contextmanager
def nginx(conf_text: str, port: int, scratch: Path) -> Iterator[str]:
    """Debian's nginx with `conf_text`; yields its base URL."""
    conf = scratch / "nginx.conf"
    conf.write_text(conf_text)
    # Relative includes resolve next to the config, as they do in /etc/nginx in the images.
    shutil.copy(FASTCGI_PARAMS, scratch / "fastcgi_params")
    shutil.copy(MIME_TYPES, scratch / "mime.types")
    check = subprocess.run(["nginx", "-t", "-c", str(conf), "-p", str(scratch), "-e", "stderr"],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    log = open(scratch / "nginx.log", "wb")
    process = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(scratch), "-e", "stderr", "-g", "daemon off;"],
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: process.poll() is None and answers(url + "/healthz"), timeout=15, what="nginx")
        yield url
    finally:
        stop_group(process)
        log.close()


def answers(url: str) -> bool:
    """A server listening at `url` answers it with 200 (not yet listening: False)."""
    try:
        return http_get(url, timeout=2)[0] == 200
    except OSError:
        return False
