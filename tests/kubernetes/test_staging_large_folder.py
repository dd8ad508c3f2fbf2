"""A project folder of 200 MB on the test cluster: more than a ConfigMap carries, so it reaches
the pods as layers of the image they run (pulumi_geostack/project_image), pushed by `pulumi up` to
the cluster's registry and pulled by digest.

The folder is a GIS team's kind: a GeoTIFF, a GeoPackage, SVG symbols and a font, and a project
that draws them (tests/e2e/make_big_project.py). The stack gets it with `pulumi config set`,
and goes back to its own folder afterwards.
"""
from __future__ import annotations

import datetime
import io
import json
import time

import pytest
from PIL import Image

from offline.program_run import PROJECT_ROOT
from tests.cluster.configs import NODES
from tests.e2e.project_checks import first_answer
from tests.e2e.project_folders import FAMILY, FONT
from tests.e2e.pyqgis import run_pyqgis
from tests.e2e.wms_checks import get_map
from tests.kubernetes.live_objects import record
from tests.kubernetes.steady_load import SteadyLoad

pytestmark = pytest.mark.timeout(3000)

SIZE_MB = 200
TITLE = "Terrain of Tests"
LAYERS = "terrain,places"
CENTRE = (1118760.9, 6451841.8)  # of the project's extent (tests/e2e/make_big_project.py)


def view(shift_m: float = 0) -> str:
    """A kilometre square near the centre: a few hundred places, the GeoTIFF at full resolution."""
    x, y = CENTRE[0] + shift_m, CENTRE[1]
    return f"{x - 500:.2f},{y - 500:.2f},{x + 500:.2f},{y + 500:.2f}"


@pytest.fixture(scope="module")
def big_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("big-project")
    run_pyqgis(PROJECT_ROOT / "tests" / "e2e" / "make_big_project.py", str(folder), str(SIZE_MB), str(FONT), FAMILY)
    return folder


def pushed_bytes(staging) -> int:
    """What the last update of the project image sent to the registry (its output in the state)."""
    state = json.loads(staging.workspace.ok("stack", "export"))
    image, = [r for r in state["deployment"]["resources"] if r["urn"].endswith("::qgis-server-project-image")]
    return image["outputs"]["pushedBytes"]


def seconds_to_ready(pod: dict) -> float:
    """From the pod's creation to its Ready condition (image pull, start, first GetCapabilities)."""
    def when(stamp: str) -> datetime.datetime:
        return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    ready = next(c for c in pod["status"]["conditions"] if c["type"] == "Ready")
    return (when(ready["lastTransitionTime"]) - when(pod["metadata"]["creationTimestamp"])).total_seconds()


@pytest.fixture(scope="module")
def with_big_folder(staging, big_folder):
    workspace, own_folder = staging.workspace, staging.config["qgisProjectDir"]
    started = time.monotonic()
    try:
        staging.set_and_up(qgisProjectDir=str(big_folder), qgisProjectFile="terrain.qgs")
        staging.wait_for_old_pods_to_go("qgis-nginx")
        figures = {"big_folder_first_up_s": round(time.monotonic() - started, 1),
                   "big_folder_first_pushed_mb": round(pushed_bytes(staging) / 2**20, 1),
                   "big_folder_pod_ready_s": max(seconds_to_ready(p) for p in staging.ready_pods("qgis-server"))}
        yield figures
    finally:
        workspace.ok("config", "rm", "geostack:qgisProjectFile")
        staging.config.pop("qgisProjectFile", None)
        staging.set_and_up(qgisProjectDir=own_folder)
        staging.settle()


def pixels(body: bytes) -> list[bytes]:
    """A PNG's pixels, each as its RGBA bytes."""
    data = Image.open(io.BytesIO(body)).convert("RGBA").tobytes()
    return [data[i:i + 4] for i in range(0, len(data), 4)]


def drawn_colours(body: bytes) -> int:
    return len({pixel[:3] for pixel in pixels(body)})


def marker_pixels(url: str, colour: str) -> int:
    """Pixels of the places' map in exactly the SVG marker's fill colour."""
    status, _, body = get_map(url, layers="places", bbox=view())
    assert status == 200, body[:300]
    return pixels(body).count(bytes.fromhex(colour + "ff"))


def test_the_big_folder_is_served_from_the_image_the_pods_run(staging, with_big_folder):
    url = staging.base + "/ogc/terrain"
    assert first_answer(url) == TITLE
    status, headers, body = get_map(url, layers=LAYERS, bbox=view())
    assert status == 200 and headers["Content-Type"] == "image/png", body[:300]
    assert drawn_colours(body) > 1000  # the GeoTIFF's noise, under the places' markers
    assert marker_pixels(url, "c0392b") > 50  # the SVG marker of symbols/, drawn on each place
    pod, *_ = staging.ready_pods("qgis-server")
    image = pod["spec"]["containers"][0]["image"]
    assert image.startswith("localhost:32000/geostack/qgis-server@sha256:") and image != staging.config["qgisImage"]
    assert not [v for v in pod["spec"]["volumes"] if v.get("configMap", {}).get("name") == "qgis-server-data-0"]
    record(**with_big_folder)


def test_one_changed_file_rolls_the_pods_with_no_failed_request(staging, big_folder, with_big_folder):
    pods_before = {p["metadata"]["name"] for p in staging.pods("qgis-server")}
    symbol = big_folder / "symbols" / "marker-0.svg"
    symbol.write_text(symbol.read_text().replace("c0392b", "8e44ad"))

    def request(count: int) -> tuple[int, bytes]:
        status, _, body = get_map(staging.base + "/ogc/terrain", layers=LAYERS, bbox=view(count * 0.01))
        return status, body
    with SteadyLoad(request, pause_s=0.05) as load:
        time.sleep(2)
        started = time.monotonic()
        staging.up()
        up_seconds = time.monotonic() - started
        staging.wait_for_old_pods_to_go("qgis-nginx")
    new_pods = [p for p in staging.ready_pods("qgis-server") if p["metadata"]["name"] not in pods_before]
    record(big_folder_one_file_up_s=round(up_seconds, 1), big_folder_one_file_pushed_kb=round(pushed_bytes(staging) / 1024, 1),
           big_folder_one_file_requests=load.total, big_folder_one_file_failed=len(load.failed),
           big_folder_new_pod_ready_s=max(seconds_to_ready(p) for p in new_pods))
    assert len(new_pods) == len(pods_before), "every QGIS pod should have been replaced"
    # The spread counts the new revision's pods only, so the rollout leaves one on each node.
    assert sorted(p["spec"]["nodeName"] for p in new_pods) == sorted(node.name for node in NODES), new_pods
    assert load.ok > 20, f"too little load to judge the rollout: {load.ok} requests"
    assert load.failed == [], f"{len(load.failed)} of {load.total} requests failed: {load.failed[:5]}"
    assert pushed_bytes(staging) < 64 * 1024, "a changed SVG should send its small layer, not the folder"
    url = staging.base + "/ogc/terrain"
    assert marker_pixels(url, "8e44ad") > 50 and marker_pixels(url, "c0392b") == 0, "the new symbol is not drawn"


def test_an_unchanged_folder_changes_nothing(staging, with_big_folder):
    staging.workspace.ok("preview", "--expect-no-changes", "--diff")
