"""End to end on loopback: QGIS Server started as the image starts it, behind the nginx config
NginxProxy renders, answering real WMS requests with the sample project."""
from __future__ import annotations

import gzip
import os
import signal
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from offline.loopback import (declared_dev_stack, free_port, http_get, loopback_nginx_conf, nginx, qgis_server, qgis_workers,
                              scratch_dir, session_processes)
from tests.e2e.project_checks import logged_lines
from tests.e2e.wms_checks import (BBOX_PARAM, RIVERSIDE_PARK, WMS_NS, assert_map_draws_features,
                                  capabilities_layer_names, feature_info_at_riverside_park, get_map, shifted_bbox, wms)
from offline.program_run import PROJECT_ROOT


@pytest.fixture(scope="module")
def declared():
    return declared_dev_stack()


@pytest.fixture(scope="module")
def stack(declared):
    qgis_port, nginx_port, status_port = free_port(), free_port(), free_port()
    with qgis_server(declared["env"], Path(declared["data_dir"]), qgis_port) as qgis, \
            scratch_dir("geostack-nginx-") as scratch:
        conf = loopback_nginx_conf(declared["nginx_conf"], nginx_port, declared["upstream"], qgis_port, scratch,
                                   Path(declared["data_dir"]), status_port)
        with nginx(conf, nginx_port, scratch) as base_url:
            yield {"url": base_url + "/qgis-server", "qgis": qgis, "status": f"http://127.0.0.1:{status_port}",
                   "log": scratch / "nginx.log"}


def test_dev_stack_serves_the_repos_sample_project(declared):
    assert Path(declared["data_dir"]) == PROJECT_ROOT / "data"
    assert declared["env"]["QGIS_HEALTHCHECK_PROJECT"] == "/data/sample.qgs"
    assert "QGIS_PROJECT_FILE /data/sample.qgs;" in declared["nginx_conf"]


def test_the_host_runs_the_qgis_build_the_image_installs():
    """Loopback tests and the benchmark prove something about the image only on the same QGIS release."""
    import re
    import subprocess

    from pulumi_geostack.config_keys import QGIS_DEFAULT_RELEASE, QGIS_RELEASES

    host = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "qgis-server"], capture_output=True, text=True,
                          check=True).stdout
    image = QGIS_RELEASES[QGIS_DEFAULT_RELEASE]["QGIS_VERSION"]
    dockerfile = (PROJECT_ROOT / "docker" / "qgis-server" / "Dockerfile").read_text()
    assert f"ARG QGIS_VERSION={image}\n" in dockerfile
    upstream = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+")
    assert upstream.match(host).group(0) == upstream.match(image).group(0) == "3.40.6"


def test_get_capabilities_lists_the_sample_layers(stack):
    assert {"parks", "sites"} <= capabilities_layer_names(stack["url"])


def test_get_map_draws_the_features(stack):
    assert_map_draws_features(stack["url"])


def test_get_feature_info_returns_attributes(stack):
    assert feature_info_at_riverside_park(stack["url"]) == [RIVERSIDE_PARK]


def test_forwarded_headers_set_the_urls_in_capabilities(stack):
    status, _, body = wms(stack["url"], REQUEST="GetCapabilities",
                          headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "maps.example.org"})
    assert status == 200
    root = ET.fromstring(body)
    hrefs = [el.get(f"{{{WMS_NS['xlink']}}}href") for el in root.iterfind(".//wms:OnlineResource", WMS_NS)]
    assert hrefs
    assert all(href.startswith("https://maps.example.org/") for href in hrefs), hrefs[:3]


def test_xml_is_gzipped_and_images_are_not(stack):
    _, headers, body = wms(stack["url"], headers={"Accept-Encoding": "gzip"}, REQUEST="GetCapabilities")
    assert headers["Content-Encoding"] == "gzip"
    assert b"WMS_Capabilities" in gzip.decompress(body)
    # WFS features, QGIS's largest XML: GML, typed with a subtype parameter nginx matches in full.
    for version, subtype in (("1.0.0", "gml/2.1.2"), ("1.1.0", "gml/3.1.1")):
        _, headers, body = wms(stack["url"], headers={"Accept-Encoding": "gzip"}, SERVICE="WFS", VERSION=version,
                               REQUEST="GetFeature", TYPENAME="parks")
        assert headers["Content-Type"] == f"text/xml; subtype={subtype}; charset=utf-8"
        assert headers["Content-Encoding"] == "gzip", version
        assert b"parks" in gzip.decompress(body)
    _, headers, _ = get_map(stack["url"], size=64, headers={"Accept-Encoding": "gzip"})
    assert headers["Content-Type"] == "image/png"
    assert headers.get("Content-Encoding") is None


def test_nginx_reveals_no_versions(stack):
    _, headers, _ = wms(stack["url"], REQUEST="GetCapabilities")
    assert headers.get_all("Server") == ["nginx"], "neither nginx's nor QGIS's version may leak"


def test_auto_process_count_starts_one_worker_per_cpu(stack, declared):
    assert declared["env"]["QGIS_FCGI_PROCESSES"] == "0"
    workers = qgis_workers(stack["qgis"]["process"].pid)
    assert len(workers) == len(os.sched_getaffinity(0))


def cache_status(stack, headers=None, **params) -> tuple[int, str]:
    status, response_headers, _ = wms(stack["url"], headers, **params)
    return status, response_headers.get("X-Cache-Status", "")


def unique_bbox(seed: int) -> str:
    return shifted_bbox(seed * 7.0)


def test_map_images_are_served_from_cache_on_repeat_even_with_qgis_paused(stack):
    params = dict(REQUEST="GetMap", LAYERS="parks", STYLES="", CRS="EPSG:3857", BBOX=unique_bbox(1),
                  WIDTH=128, HEIGHT=128, FORMAT="image/png")
    assert cache_status(stack, **params) == (200, "MISS")
    workers = qgis_workers(stack["qgis"]["process"].pid)
    for pid in workers:
        os.kill(pid, signal.SIGSTOP)
    try:
        status, headers, body = wms(stack["url"], **params)
        assert status == 200 and headers["X-Cache-Status"] == "HIT" and body.startswith(b"\x89PNG")
    finally:
        for pid in workers:
            os.kill(pid, signal.SIGCONT)


def test_cacheable_kinds_match_case_insensitively(stack):
    params = dict(service="wms", version="1.3.0", request="getlegendgraphic", layer="parks", format="image/png")
    query = "&".join(f"{k}={v}" for k, v in params.items())
    first = http_get(f"{stack['url']}?{query}")
    second = http_get(f"{stack['url']}?{query}")
    assert first[0] == second[0] == 200
    assert (first[1]["X-Cache-Status"], second[1]["X-Cache-Status"]) == ("MISS", "HIT")


@pytest.mark.parametrize("params, headers", [
    (dict(REQUEST="GetFeatureInfo", LAYERS="parks", QUERY_LAYERS="parks", STYLES="", CRS="EPSG:3857",
          BBOX=BBOX_PARAM, WIDTH=256, HEIGHT=256, I=100, J=150, INFO_FORMAT="application/json"), None),
    (dict(SERVICE="WFS", REQUEST="GetFeature", TYPENAME="parks", VERSION="1.1.0"), None),
    (dict(REQUEST="GetCapabilities"), None),
    (dict(REQUEST="GetMap", LAYERS="parks", STYLES="", CRS="EPSG:3857", BBOX=unique_bbox(2), WIDTH=64, HEIGHT=64,
          FORMAT="image/png"), {"Authorization": "Basic dXNlcjpwYXNz"}),
    (dict(REQUEST="GetMap", LAYERS="parks", STYLES="", CRS="EPSG:3857", BBOX=unique_bbox(3), WIDTH=64, HEIGHT=64,
          FORMAT="image/png"), {"Cookie": "sessionid=abc"}),
], ids=["GetFeatureInfo", "WFS", "GetCapabilities", "credentials", "cookie"])
def test_never_cached_kinds_always_reach_qgis(stack, params, headers):
    for _ in range(2):
        status, cache = cache_status(stack, headers, **params)
        assert status == 200 and cache == "BYPASS"


def test_sigterm_to_the_supervisor_stops_every_worker(declared):
    """What tini does on `docker stop`: SIGTERM reaches multiwatch, which ends its workers and exits."""
    import time

    with qgis_server(declared["env"], Path(declared["data_dir"]), free_port()) as qgis:
        process = qgis["process"]
        workers = qgis_workers(process.pid)
        assert len(workers) == len(os.sched_getaffinity(0))
        assert process.pid not in workers, "cmd.sh execs into the supervisor"
        start = time.monotonic()
        process.terminate()
        process.wait(timeout=10)
        assert time.monotonic() - start < 5
        assert process.returncode in (0, -signal.SIGTERM, 128 + signal.SIGTERM)
        time.sleep(0.5)
        assert [pid for pid in workers if os.path.exists(f"/proc/{pid}")] == [], "workers outlived the supervisor"


def test_stopping_the_server_leaves_no_process_no_display_lock_and_no_temp_dir(declared):
    """cmd.sh's Xvfb is told to exit too, so it removes its /tmp/.X<n>-lock; a killed one leaves
    the lock behind and every later start has to skip one more display. Each QGIS worker makes a
    QGIS3-* dir in $TMPDIR that a stopped worker never removes (hundreds had piled up in /tmp),
    at start and again while it serves a request, then from the TMPDIR among the request's
    FastCGI params: the test server and its health check keep them in its scratch dir, which
    goes with it."""
    left_before = set(Path("/tmp").glob("QGIS3-*"))
    with qgis_server(declared["env"], Path(declared["data_dir"]), free_port()) as qgis:
        session = qgis["process"].pid
        displays = [argv[1].decode() for argv in session_processes(session).values() if argv[0] == b"Xvfb"]
        assert len(displays) == 1 and displays[0].startswith(":"), displays
        lock = Path(f"/tmp/.X{displays[0][1:]}-lock")
        assert lock.exists()
        scratch = qgis["log"].parent
        assert list(scratch.glob("QGIS3-*")), "QGIS made no temp dir where TMPDIR points"
        # The one a request makes lives until the next request: the health check's is here now.
        assert set(Path("/tmp").glob("QGIS3-*")) <= left_before, "the health check's request put one in /tmp"
    assert session_processes(session) == {}
    assert not lock.exists(), f"{lock} left behind"
    assert not scratch.exists()
    assert set(Path("/tmp").glob("QGIS3-*")) <= left_before, "QGIS temp dirs left in /tmp"


def _metrics(text: str) -> dict[str, float]:
    """Prometheus text format: sample name -> value; HELP and TYPE lines must precede each sample."""
    samples, typed = {}, set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
        elif line and not line.startswith("#"):
            name, value = line.split()
            assert name in typed, f"{name} has no TYPE line"
            samples[name] = float(value)
    return samples


def test_the_status_port_gives_monitoring_its_figures_and_the_log_its_cache_answers(stack):
    status, headers, body = http_get(stack["status"] + "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    metrics = _metrics(body.decode())
    assert set(metrics) == {f"nginx_connections_{n}" for n in ("active", "reading", "writing", "waiting")}
    assert metrics["nginx_connections_active"] >= 1 and metrics["nginx_connections_writing"] >= 1  # this request
    before = int(http_get(stack["status"] + "/stub_status")[2].decode().splitlines()[2].split()[2])
    params = dict(REQUEST="GetMap", LAYERS="parks", STYLES="", CRS="EPSG:3857", BBOX=unique_bbox(4), WIDTH=64,
                  HEIGHT=64, FORMAT="image/png")
    assert cache_status(stack, **params) == (200, "MISS") and cache_status(stack, **params) == (200, "HIT")
    after = int(http_get(stack["status"] + "/stub_status")[2].decode().splitlines()[2].split()[2])
    assert after - before == 3, "two maps and this stub_status request"
    lines = logged_lines(stack["log"], unique_bbox(4).split(",")[0], count=2)
    assert [line.split(" cache=")[1].split()[:2] for line in lines] == [["MISS", "upstream_status=200"],
                                                                        ["HIT", "upstream_status=-"]]
    assert http_get(stack["status"] + "/qgis-server", timeout=5)[0] == 404, "the status port serves no maps"
