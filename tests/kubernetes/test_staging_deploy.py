"""`pulumi up` of staging on a real API server and kubelet: what a microk8s user checks first."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from offline.loopback import http_get
from tests.cluster.configs import NODES
from tests.kubernetes.network_probe import fetch
from tests.e2e.project_checks import PROJECTS, assert_landing_page_lists_both, assert_project_answers
from tests.e2e.project_folders import CITY_TITLE
from tests.e2e.wms_checks import (RIVERSIDE_PARK, WMS_NS, assert_map_draws_features, capabilities_layer_names,
                                  feature_info_at_riverside_park, wms)

pytestmark = pytest.mark.timeout(3000)  # the first test also builds, pushes and deploys


def test_every_pod_is_ready_under_the_enforced_pod_security_level(staging):
    namespace = json.loads(staging.cluster.kubectl("get", "namespace", staging.namespace, "-o", "json").stdout)
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for app, replicas in (("qgis-server", 2), ("qgis-nginx", 1)):
        assert len(staging.ready_pods(app)) == replicas, f"{app}: {staging.pods(app)}"
    events = staging.cluster.kubectl("get", "events", "-n", staging.namespace, "-o", "json").stdout
    refused = [e["message"] for e in json.loads(events)["items"] if e["reason"] == "FailedCreate"]
    assert refused == [], refused


def test_the_spread_constraint_puts_the_two_qgis_pods_on_both_nodes(staging):
    nodes = sorted(pod["spec"]["nodeName"] for pod in staging.ready_pods("qgis-server"))
    assert nodes == sorted(node.name for node in NODES), nodes


def test_qgis_pods_run_the_pushed_image_by_digest(staging):
    digest = staging.images.qgis.split("@")[1]
    for pod in staging.pods("qgis-server"):
        container = pod["spec"]["containers"][0]
        assert container["image"] == staging.images.qgis
        status = pod["status"]["containerStatuses"][0]
        assert status["imageID"].endswith(digest), status


def test_wms_answers_through_node_port_30080(staging):
    assert staging.url.startswith("http://localhost:30080/")
    assert {"parks", "sites"} <= capabilities_layer_names(staging.url)
    assert_map_draws_features(staging.url)
    assert feature_info_at_riverside_park(staging.url) == [RIVERSIDE_PARK]


@pytest.mark.parametrize("name, title", PROJECTS)
def test_every_project_answers_at_its_own_address_through_the_node_port(staging, name, title):
    answers = assert_project_answers(staging.base, name, title)
    assert answers["headers"]["X-Geostack-Plugin"] == "stamped", "the folder's server plugin"
    hrefs = {el.get(f"{{{WMS_NS['xlink']}}}href").split("?")[0]
             for el in answers["capabilities"].iterfind(".//wms:OnlineResource", WMS_NS)}
    assert hrefs == {f"http://localhost:30080/ogc/{name}"}
    links = [link["href"] for link in answers["items"]["links"]]
    assert links and all(link.startswith(f"http://localhost:30080/ogc/{name}/wfs3/") for link in links), links


def test_the_landing_page_lists_both_projects_and_leads_to_them(staging):
    ids = assert_landing_page_lists_both(staging.base)
    # urllib follows the page's link through nginx's redirect to the project's own address.
    status, _, body = http_get(f"{staging.base}/project/{ids[CITY_TITLE]}?SERVICE=WMS&REQUEST=GetCapabilities")
    assert status == 200
    assert ET.fromstring(body).findtext("wms:Service/wms:Title", namespaces=WMS_NS) == CITY_TITLE


def test_a_map_parameter_is_refused(staging):
    status, _, _ = wms(f"{staging.base}/ogc/city", REQUEST="GetCapabilities", MAP="/data/sample.qgs")
    assert status == 404


def test_nginx_pods_answer_prometheus_where_their_annotations_point(staging):
    """Scraped from a pod, as Prometheus would: the metrics port's policy admits any pod in the
    cluster and nothing outside it (this host reaches only the pods of its own node)."""
    (pod,) = staging.ready_pods("qgis-nginx")
    annotations = pod["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    scraped = fetch(staging.cluster, staging.namespace, {"app.kubernetes.io/name": "prometheus"},
                    staging.images.wait_stand_in, pod["status"]["podIP"], int(annotations["prometheus.io/port"]),
                    annotations["prometheus.io/path"])
    assert scraped.connected, scraped.log
    lines = scraped.log.replace("\r", "").split("\n")  # the probe's own line, then the answer
    blank = lines.index("", 1)
    status, headers, body = lines[1], lines[2:blank], "\n".join(lines[blank:])
    assert " 200 " in status and "Content-Type: text/plain; version=0.0.4" in headers, lines[:blank]
    assert "\nnginx_connections_active " in body, body[:500]


def test_preview_right_after_up_shows_no_changes(staging):
    staging.workspace.ok("preview", "--expect-no-changes", "--diff")


def _versions(staging) -> dict[str, str]:
    """resourceVersion of the namespace and of everything in it: any write changes one."""
    listed = staging.cluster.kubectl("get", "all,configmaps,secrets,networkpolicies,poddisruptionbudgets",
                                     "-n", staging.namespace, "-o", "json").stdout
    namespace = json.loads(staging.cluster.kubectl("get", "namespace", staging.namespace, "-o", "json").stdout)
    return {f"{item['kind']}/{item['metadata']['name']}": item["metadata"]["resourceVersion"]
            for item in [namespace, *json.loads(listed)["items"]]}


def test_another_stack_given_this_namespace_stops_without_touching_it(staging):
    workspace, before = staging.workspace, _versions(staging)
    workspace.ok("stack", "init", "rival", "--no-select")
    try:
        for key, value in {**staging.config, "target": "microk8s", "kubernetesNamespace": staging.namespace}.items():
            workspace.ok("config", "set", "--stack", "rival", f"geostack:{key}", value)
        result = workspace.run("up", "--stack", "rival", "--yes", "--skip-preview")
        assert result.returncode != 0, result.output
        assert "conflict" in result.output and "geostack.io/stack" in result.output, result.output
        assert _versions(staging) == before
        labels = json.loads(staging.cluster.kubectl("get", "namespace", staging.namespace, "-o", "json").stdout)
        assert labels["metadata"]["labels"]["geostack.io/stack"] == "geostack.staging"
    finally:
        workspace.run("destroy", "--stack", "rival", "--yes", "--skip-preview")
        workspace.run("stack", "rm", "rival", "--yes")
        workspace.select("staging")  # `stack rm` leaves no stack selected
