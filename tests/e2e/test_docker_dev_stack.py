"""The dev stack for real: the image built from the repo's Dockerfile, the declared containers
created on a Docker engine exactly as declared, and maps served through nginx's published port.

The config changes from Pulumi.dev.yaml are `geostack:qgisProcesses: 2`, so the test can
prove that two workers serve in parallel, and a project folder of two projects (the sample and
a "city" in a subfolder, tests/e2e/project_folders.py); host ports are swapped for free ones.
"""
from __future__ import annotations

import concurrent.futures
import datetime
import json
import subprocess
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.e2e.claim_in_image import assert_the_image_finds_projects_on_a_claim
from tests.e2e.docker_engine import NGINX_STAND_IN, docker_engine, ensure_base_image
from tests.e2e.image_cache import cached_image
from tests.e2e.docker_realizer import CONTAINER, DockerRealizer
from tests.e2e.declared_builds import HOST_CA_CONFIG
from offline.loopback import free_port, http_get, scratch_dir, wait_until
from tests.e2e.project_checks import PROJECTS, assert_landing_page_lists_both, assert_project_answers
from tests.e2e.project_folders import FAMILY, add_font, add_stamp_plugin, make_two_project_folder
from tests.e2e.wms_checks import (RIVERSIDE_PARK, assert_map_draws_features, capabilities_answer,
                                  capabilities_layer_names, feature_info_at_riverside_park, get_map, shifted_bbox, wms)
from offline.program_run import PROJECT_ROOT, run_program

FIGURES = PROJECT_ROOT / "build" / "figures" / "docker.json"
PROCESSES = 2
# The first test also bootstraps the base image and builds the QGIS image when nothing is cached.
pytestmark = pytest.mark.timeout(1800)


@pytest.fixture(scope="module")
def engine():
    with docker_engine() as client:
        yield client


@pytest.fixture(scope="module")
def folder():
    with scratch_dir("geostack-docker-projects-") as folder:
        make_two_project_folder(folder)
        add_font(folder)
        add_stamp_plugin(folder)
        yield folder


def dev_config(folder: Path, processes: int = PROCESSES) -> dict[str, str]:
    return {"geostack:qgisProcesses": str(processes), "geostack:qgisProjectDir": str(folder), **HOST_CA_CONFIG}


@pytest.fixture(scope="module")
def deployed(engine, folder):
    run = run_program("dev", dev_config(folder))
    nginx = run.one(CONTAINER, "qgis-nginx")
    ensure_base_image(engine)
    # The configured nginx image, stood in for by Debian's nginx (no registry is reachable).
    cached_image(engine, NGINX_STAND_IN, "nginx-debian", nginx.inputs["image"])
    declared_port = int(nginx.inputs["ports"][0]["external"])
    realizer = DockerRealizer(engine, run, host_ports={declared_port: free_port()})
    figures: dict[str, float] = {}
    try:
        realizer.realize()
        base = f"http://127.0.0.1:{realizer.host_ports[declared_port]}"
        url = base + run_program_path(run)
        wait_until(lambda: capabilities_answer(url), timeout=60, what="WMS through nginx")
        yield {"realizer": realizer, "run": run, "url": url, "base": base, "figures": figures}
    finally:
        realizer.destroy()
        figures.update({key: round(value, 1) for key, value in realizer.timings.items()})
        FIGURES.parent.mkdir(parents=True, exist_ok=True)
        FIGURES.write_text(json.dumps(figures, indent=1, sort_keys=True) + "\n")


def run_program_path(run) -> str:
    return run.outputs["wmsCapabilitiesUrl"].split("?")[0].split(":8080", 1)[1]


def qgis_container(deployed):
    realizer = deployed["realizer"]
    return realizer.client.containers.get(realizer.containers["qgis-server"])


def worker_pids(container) -> list[int]:
    """Host PIDs of the QGIS FastCGI workers (not multiwatch, whose arguments name the binary too)."""
    top = container.top(ps_args="-o pid,args")
    return [int(pid) for pid, args in top["Processes"] if args.startswith("/usr/lib/cgi-bin/qgis_mapserv.fcgi")]


def process_state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def test_image_is_built_from_the_repos_dockerfile(deployed):
    realizer = deployed["realizer"]
    image = realizer.client.images.get(realizer.images["qgis-image-build"])
    config = image.attrs["Config"]
    assert config["User"] == "10001:10001"
    assert config["Entrypoint"] == ["/usr/bin/tini", "--"]
    assert config["Cmd"] == ["/usr/local/bin/qgis-server-cmd"]
    assert ":latest" not in realizer.images["qgis-image-build"]
    deployed["figures"]["image_size_mb"] = round(image.attrs["Size"] / 1e6)
    assert image.attrs["Size"] < 1e9, "the image leaves desktop-only packages out to stay under 1 GB"


def test_the_image_leaves_desktop_only_packages_out_and_apt_consistent(deployed):
    container = qgis_container(deployed)
    for package in ("python3-matplotlib", "python3-scipy", "python3-plotly", "mesa-libgallium",
                    "libqgis-customwidgets"):
        listed = container.exec_run(["dpkg-query", "-W", "-f=${Status}", package])
        assert listed.exit_code != 0 or b"not-installed" in listed.output, package
    # A derived image can still install with apt: no dependency is left broken.
    assert container.exec_run(["apt-get", "check"], user="root").exit_code == 0


def test_get_capabilities_lists_the_sample_layers(deployed):
    assert {"parks", "sites"} <= capabilities_layer_names(deployed["url"])


def test_get_map_draws_the_features(deployed):
    assert_map_draws_features(deployed["url"])


def test_get_feature_info_returns_attributes(deployed):
    assert feature_info_at_riverside_park(deployed["url"]) == [RIVERSIDE_PARK]


@pytest.mark.parametrize("service, version, root", [
    ("WFS", "1.1.0", "{http://www.opengis.net/wfs}WFS_Capabilities"),
    ("WCS", "1.0.0", "{http://www.opengis.net/wcs}WCS_Capabilities"),
    ("WMTS", "1.0.0", "{http://www.opengis.net/wmts/1.0}Capabilities"),
])
def test_the_other_ogc_services_answer(deployed, service, version, root):
    """WMS and OGC API Features are checked above; the image leaves out desktop-only packages,
    and each service must still load."""
    status, _, body = http_get(f"{deployed['url']}?SERVICE={service}&VERSION={version}&REQUEST=GetCapabilities")
    assert status == 200 and ET.fromstring(body).tag == root, body[:300]


def test_wfs_get_feature_returns_the_parks(deployed):
    status, _, body = http_get(f"{deployed['url']}?SERVICE=WFS&VERSION=1.1.0&REQUEST=GetFeature&TYPENAME=parks"
                               "&OUTPUTFORMAT=application/vnd.geo%2Bjson")
    assert status == 200
    names = {feature["properties"]["name"] for feature in json.loads(body)["features"]}
    assert RIVERSIDE_PARK["name"] in names, names


@pytest.mark.parametrize("name, title", PROJECTS)
def test_every_project_answers_at_its_own_address(deployed, name, title):
    assert_project_answers(deployed["base"], name, title)


def test_the_landing_page_lists_both_projects(deployed):
    assert_landing_page_lists_both(deployed["base"])


def test_the_project_folders_plugins_and_fonts_reach_qgis(deployed):
    status, headers, _ = wms(f"{deployed['base']}/ogc/city", REQUEST="GetCapabilities")
    assert status == 200 and headers["X-Geostack-Plugin"] == "stamped"
    # Qt's font database, as QGIS sees it in the container (the image's fontconfig file).
    families = qgis_container(deployed).exec_run(
        ["python3", "-c", "from qgis.PyQt.QtGui import QFontDatabase; from qgis.PyQt.QtWidgets import QApplication; "
                          "app = QApplication(['x', '-platform', 'offscreen']); print(QFontDatabase().families())"],
        environment={"HOME": "/tmp", "XDG_RUNTIME_DIR": "/tmp"})
    assert families.exit_code == 0, families.output.decode()[-2000:]
    assert FAMILY in families.output.decode()


def test_the_images_plugin_finds_every_project_on_a_claim(deployed, folder):
    realizer = deployed["realizer"]
    assert_the_image_finds_projects_on_a_claim(realizer.client, realizer.images["qgis-image-build"], folder)


def test_a_map_parameter_is_refused(deployed):
    status, _, _ = wms(f"{deployed['base']}/ogc/city", REQUEST="GetCapabilities", MAP="/data/sample.qgs")
    assert status == 404


def test_the_image_runs_the_qgis_build_of_the_host_tests(deployed):
    installed = qgis_container(deployed).exec_run(["dpkg-query", "-W", "-f=${Version}", "qgis-server"])
    host = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "qgis-server"], capture_output=True, text=True).stdout
    assert installed.output.decode() == "3.40.6+dfsg-1"
    assert host.split("+")[0] == installed.output.decode().split("+")[0]


def test_a_qgis_only_change_replaces_qgis_and_keeps_nginx_and_its_cache(deployed, folder):
    """Fewer workers: the QGIS container is replaced (with a new address), nginx stays, its cached
    tiles are still served, and it finds the new QGIS container by name."""
    realizer = deployed["realizer"]
    tile = f"{deployed['base']}/ogc/city"
    assert get_map(tile, size=80)[1]["X-Cache-Status"] in ("MISS", "HIT")
    nginx_id, qgis_id = realizer.containers["qgis-nginx"], realizer.containers["qgis-server"]
    realizer.run = run_program("dev", dev_config(folder, processes=1))
    realizer.realize()
    assert realizer.containers["qgis-server"] != qgis_id, "the change did not reach QGIS"
    assert realizer.containers["qgis-nginx"] == nginx_id, "nginx was replaced"
    assert get_map(tile, size=80)[1]["X-Cache-Status"] == "HIT"
    wait_until(lambda: capabilities_answer(deployed["url"]), timeout=30, what="WMS from the new QGIS container")
    status, headers, _ = get_map(tile, size=81)
    assert status == 200 and headers["X-Cache-Status"] == "MISS"
    realizer.run = run_program("dev", dev_config(folder))
    realizer.realize()
    wait_until(lambda: capabilities_answer(deployed["url"]), timeout=30, what="WMS with two workers again")


def test_qgis_runs_as_non_root(deployed):
    container = qgis_container(deployed)
    assert container.exec_run(["id", "-u"]).output.decode().strip() == "10001"
    users = [row[1] for row in container.top(ps_args="-o pid,uid,args")["Processes"]]
    assert users and all(uid == "10001" for uid in users), users


def test_two_configured_workers_serve_in_parallel(deployed):
    """Judged by what a busy machine cannot fake: at some instant both workers are running a
    request (state R in /proc, which a worker waiting on its socket is not), and each did a
    fair share of the work. A wall-clock ratio could not tell load from serial work."""
    container = qgis_container(deployed)
    env = dict(item.split("=", 1) for item in container.attrs["Config"]["Env"])
    assert env["QGIS_FCGI_PROCESSES"] == str(PROCESSES)
    workers = worker_pids(container)
    assert len(workers) == PROCESSES, container.top(ps_args="-o pid,args")

    shifts = iter(range(1, 1000))

    def big_map() -> None:
        # A new bbox every time: nginx's map cache must not answer for QGIS here.
        status, headers, _ = get_map(deployed["url"], size=2048, bbox=shifted_bbox(next(shifts) * 3.0))
        assert status == 200 and headers.get("X-Cache-Status") == "MISS"

    big_map()  # warm both caches
    before = {pid: cpu_ticks(pid) for pid in workers}
    most_running, done = 0, threading.Event()

    def watch() -> None:
        nonlocal most_running
        while not done.is_set():
            most_running = max(most_running, sum(process_state(pid) == "R" for pid in workers))
            time.sleep(0.002)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=PROCESSES) as pool:
            list(pool.map(lambda _: big_map(), range(PROCESSES * 4)))
    finally:
        done.set()
        watcher.join()
    used = {pid: cpu_ticks(pid) - before[pid] for pid in workers}
    assert most_running == PROCESSES, f"never more than {most_running} worker(s) running at once"
    assert min(used.values()) >= 0.25 * sum(used.values()), f"one worker did most of the work: {used}"


def test_killed_server_is_restarted_by_the_restart_policy(deployed):
    container = qgis_container(deployed)
    restarts = container.attrs["RestartCount"]
    # As the qgis user, -1 signals every process it owns except PID 1 (tini): the whole server.
    container.exec_run(["bash", "-c", "kill -KILL -1"], user="10001")
    api = deployed["realizer"].client.api
    wait_until(lambda: api.inspect_container(container.id)["RestartCount"] > restarts, timeout=30, what="restart")
    wait_until(lambda: capabilities_answer(deployed["url"]), timeout=30, what="WMS after restart")
    answered = datetime.datetime.now(datetime.timezone.utc)
    started = api.inspect_container(container.id)["State"]["StartedAt"]
    started_at = datetime.datetime.fromisoformat(started[:26].rstrip("Z") + "+00:00")
    deployed["figures"]["container_start_to_first_capabilities_s"] = round((answered - started_at).total_seconds(), 1)


def test_docker_stop_is_prompt_because_signals_reach_the_server(deployed):
    container = qgis_container(deployed)
    start = time.monotonic()
    container.stop(timeout=20)
    elapsed = time.monotonic() - start
    container.reload()
    assert elapsed < 5, f"docker stop took {elapsed:.1f}s: SIGTERM did not reach the server"
    assert container.attrs["State"]["ExitCode"] != 137, "the server had to be SIGKILLed"
    deployed["figures"]["docker_stop_s"] = round(elapsed, 1)


def test_everything_created_is_removed(deployed):
    realizer = deployed["realizer"]
    created = list(realizer.created)
    assert {kind for kind, _ in created} == {"network", "image", "container"}
    realizer.destroy()
    client = realizer.client
    names = [c.name for c in client.containers.list(all=True)]
    assert not [n for n in names if n.startswith("geostack-dev-")], names
    assert not [n for n in client.networks.list() if n.name == "geostack-dev"]
    assert not client.images.list(name=realizer.images["qgis-image-build"])
