"""GeoNode's rendered nginx config, run by Debian's nginx on loopback in front of stub
Django and GeoServer backends: routing, static and uploaded files, the upload limit and
forwarded headers behave as a GeoNode user needs."""
from __future__ import annotations

import contextlib
import http.server
import json
import threading
import urllib.request

import pytest

from offline.loopback import free_port, http_get, nginx, replace_once, scratch_dir
from offline.program_run import run_program

UPLOAD_LIMIT = "1m"


class Recorder(http.server.BaseHTTPRequestHandler):
    """Answers with what it received, naming the backend it stands in for."""

    backend = "?"

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        reply = json.dumps({"backend": self.backend, "path": self.path, "received": len(body),
                            "host": self.headers.get("Host"),
                            "proto": self.headers.get("X-Forwarded-Proto")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def stub(name: str):
    handler = type(f"{name}Recorder", (Recorder,), {"backend": name})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def rendered_conf() -> str:
    run = run_program("dev", {"geostack:geonodeEnabled": "true", "geostack:geonodeUploadSize": UPLOAD_LIMIT})
    return run.nginx_config("geonode")


@pytest.fixture(scope="module")
def site():
    conf = rendered_conf()
    with stub("django") as django_port, stub("geoserver") as geoserver_port, \
            scratch_dir("geonode-nginx-") as scratch:
        statics = scratch / "statics"
        (statics / "static").mkdir(parents=True)
        (statics / "uploaded" / "documents").mkdir(parents=True)
        (statics / "static" / "app.css").write_text("body { color: green }\n" * 100)
        (statics / "uploaded" / "documents" / "report.txt").write_text("uploaded report")
        port = free_port()
        conf = replace_once(conf, "listen 8080;", f"listen 127.0.0.1:{port};")
        # dev is Docker: peers' addresses come from variables, looked up per request.
        conf = replace_once(conf, "set $django geonode-django:8000;", f"set $django 127.0.0.1:{django_port};")
        conf = replace_once(conf, "set $geoserver geonode-geoserver:8080;", f"set $geoserver 127.0.0.1:{geoserver_port};")
        # Scratch paths first: the statics directory itself lives under /tmp.
        conf = conf.replace(" /tmp/", f" {scratch}/").replace(" /mnt/volumes/statics/", f" {statics}/")
        with nginx(conf, port, scratch) as url:
            yield url


def get_json(url: str, headers=None) -> dict:
    status, _, body = http_get(url, headers)
    assert status == 200, body[:300]
    return json.loads(body)


def post(url: str, size: int) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=b"x" * size, method="POST",
                                     headers={"Content-Type": "application/octet-stream"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_geoserver_paths_go_to_geoserver(site):
    answer = get_json(site + "/geoserver/ows?service=WMS&request=GetCapabilities")
    assert answer["backend"] == "geoserver"
    assert answer["path"] == "/geoserver/ows?service=WMS&request=GetCapabilities"


def test_everything_else_goes_to_django(site):
    for path in ("/", "/api/v2/datasets", "/account/login/"):
        assert get_json(site + path)["backend"] == "django", path


def test_static_and_uploaded_files_are_served_by_nginx(site):
    status, headers, body = http_get(site + "/static/app.css")
    assert status == 200 and body.startswith(b"body { color: green }")
    assert headers["Content-Type"] == "text/css"
    status, _, body = http_get(site + "/uploaded/documents/report.txt")
    assert status == 200 and body == b"uploaded report"
    assert http_get(site + "/static/missing.css")[0] == 404


def test_static_files_are_gzipped(site):
    import gzip

    _, headers, body = http_get(site + "/static/app.css", {"Accept-Encoding": "gzip"})
    assert headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body).startswith(b"body { color: green }")


def test_uploads_up_to_the_limit_reach_django_and_larger_ones_are_refused(site):
    status, body = post(site + "/uploads/upload", 900 * 1024)
    assert status == 200 and json.loads(body)["received"] == 900 * 1024
    status, _ = post(site + "/uploads/upload", 2 * 1024 * 1024)
    assert status == 413
    status, _ = post(site + "/geoserver/rest/imports", 2 * 1024 * 1024)
    assert status == 413, "one upload size applies to GeoServer too"


def test_forwarded_scheme_survives_a_tls_terminating_ingress(site):
    assert get_json(site + "/", {"X-Forwarded-Proto": "https"})["proto"] == "https"
    assert get_json(site + "/")["proto"] == "http"
    assert get_json(site + "/", {"Host": "maps.example.org"})["host"] == "maps.example.org"


def test_the_host_header_keeps_the_port_for_djangos_csrf_origin_check(site):
    # On Docker the site is http://localhost:8000/: the browser sends Origin http://localhost:8000,
    # and Django refuses every POST unless the Host it receives carries the same port.
    assert get_json(site + "/", {"Host": "localhost:8000"})["host"] == "localhost:8000"
