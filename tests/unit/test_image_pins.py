"""Upstream image tags resolved to digests as Docker reads references, through the distribution
API's anonymous token flow, and held until the reference or the refresh value changes."""
from __future__ import annotations

import contextlib
import hashlib
import http.server
import threading
from typing import Iterator

import pytest

from pulumi_geostack.image_pins.provider import _PinnedImageProvider
from pulumi_geostack.image_pins.resolve import ResolveError, TagReference, resolve_digest

MANIFEST = b'{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []}'
DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize("reference, registry, repository, tag, api", [
    ("redis:7.4.11-alpine", "docker.io", "library/redis", "7.4.11-alpine",
     "https://registry-1.docker.io/v2/library/redis/manifests/7.4.11-alpine"),
    ("geonode/geoserver:2.28.4-latest", "docker.io", "geonode/geoserver", "2.28.4-latest",
     "https://registry-1.docker.io/v2/geonode/geoserver/manifests/2.28.4-latest"),
    ("localhost:32000/geonode/geoserver:2.28.4-latest", "localhost:32000", "geonode/geoserver", "2.28.4-latest",
     "http://localhost:32000/v2/geonode/geoserver/manifests/2.28.4-latest"),
    ("127.0.0.1:5000/x:1", "127.0.0.1:5000", "x", "1", "http://127.0.0.1:5000/v2/x/manifests/1"),
    ("registry.example.org:5000/gis/geoserver", "registry.example.org:5000", "gis/geoserver", "latest",
     "https://registry.example.org:5000/v2/gis/geoserver/manifests/latest"),
    ("index.docker.io/redis:7", "docker.io", "library/redis", "7",
     "https://registry-1.docker.io/v2/library/redis/manifests/7"),
])
def test_references_are_read_as_docker_reads_them(reference, registry, repository, tag, api):
    ref = TagReference.parse(reference)
    assert (ref.registry, ref.repository, ref.tag, ref.api()) == (registry, repository, tag, api)


def test_the_targets_registry_without_tls_is_asked_over_plain_http():
    ref = TagReference.parse("10.0.0.5:32000/geonode/geoserver:2.28.4-latest")
    assert ref.api().startswith("https://10.0.0.5:32000/")
    assert ref.api("10.0.0.5:32000") == "http://10.0.0.5:32000/v2/geonode/geoserver/manifests/2.28.4-latest"


@contextlib.contextmanager
def fake_registry(send_digest: bool, challenge: str = "Bearer") -> Iterator[tuple[str, list[str]]]:
    """A registry on loopback that wants a bearer token from its own realm, as Docker Hub does;
    yields its host:port and the methods of the manifest requests it answered."""
    methods: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_HEAD(self):
            self.do_GET()

        def do_GET(self):
            host = self.headers["Host"]
            if self.path.startswith("/token?"):
                assert "scope=repository%3Ageonode%2Fgeoserver%3Apull" in self.path, self.path
                self._send(200, b'{"token": "pull-token"}')
            elif self.headers.get("Authorization") != "Bearer pull-token" or "private" in self.path:
                self.send_response(401)
                self.send_header("WWW-Authenticate", f'{challenge} realm="http://{host}/token",service="fake",'
                                                     f'scope="repository:geonode/geoserver:pull"')
                self.end_headers()
                self.send_response(401)
                self.send_header("WWW-Authenticate", f'Bearer realm="http://{host}/token",service="fake",'
                                                     f'scope="repository:geonode/geoserver:pull"')
                self.end_headers()
            elif self.path == "/v2/geonode/geoserver/manifests/2.28.4-latest" and "image.index" in self.headers["Accept"]:
                methods.append(self.command)
                self._send(200, MANIFEST, {"Docker-Content-Digest": DIGEST} if send_digest else {})
            else:
                self._send(404, b"{}")

        def _send(self, code, body, headers=None):
            self.send_response(code)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{server.server_port}", methods
    finally:
        server.shutdown()
        server.server_close()


def test_a_registry_that_wants_a_token_gets_an_anonymous_one_and_is_asked_by_head():
    with fake_registry(send_digest=True) as (host, methods):
        assert resolve_digest(f"{host}/geonode/geoserver:2.28.4-latest") == DIGEST
    assert methods == ["HEAD"], "a GET counts against Docker Hub's anonymous pull limit"


def test_without_the_registrys_digest_header_the_manifests_bytes_give_it():
    with fake_registry(send_digest=False) as (host, methods):
        assert resolve_digest(f"{host}/geonode/geoserver:2.28.4-latest") == \
            "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
    assert methods == ["HEAD", "GET"]


@pytest.mark.parametrize("repository, challenge", [("private/geoserver", "Bearer"), ("geonode/geoserver", "Basic")])
def test_a_registry_that_wants_credentials_is_refused_saying_to_give_a_digest(repository, challenge):
    with fake_registry(send_digest=True, challenge=challenge) as (host, _):
        with pytest.raises(ResolveError, match=rf"could not resolve {host}/{repository}:2.28.4-latest to a digest "
                                               r"at http://.*: the registry wants credentials .*give this image "
                                               r"by digest \(name:tag@sha256:<digest>\)"):
            resolve_digest(f"{host}/{repository}:2.28.4-latest")


def test_an_unknown_tag_fails_naming_the_reference():
    with fake_registry(send_digest=True) as (host, _):
        with pytest.raises(ResolveError, match=rf"could not resolve {host}/geonode/geoserver:2.99-latest "
                                               r"to a digest at http://.*: 404"):
            resolve_digest(f"{host}/geonode/geoserver:2.99-latest")


def test_the_digest_is_held_until_the_reference_or_the_refresh_value_changes():
    provider = _PinnedImageProvider()
    olds = {"reference": "geonode/geoserver:2.28.4-latest", "refresh": "", "digest": DIGEST,
            "pinned": f"geonode/geoserver:2.28.4-latest@{DIGEST}"}
    assert provider.diff("id", olds, {"reference": olds["reference"], "refresh": ""}).changes is False
    assert provider.diff("id", olds, {"reference": olds["reference"], "refresh": "2026-12-06"}).changes is True
    assert provider.diff("id", olds, {"reference": "geonode/geoserver:2.28.5-latest", "refresh": ""}).changes is True
