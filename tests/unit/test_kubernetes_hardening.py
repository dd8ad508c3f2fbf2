"""Production-grade Kubernetes declarations: security contexts, scaling, graceful shutdown,
NetworkPolicies and Pod Security labels, and the config errors that guard them."""
from __future__ import annotations

import pytest

from offline.program_run import ProgramRun, run_program

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
NAMESPACE = "kubernetes:core/v1:Namespace"
OURS = ("qgis-server", "qgis-nginx")  # images geostack builds or configures fully


def deployment(run: ProgramRun, name: str) -> dict:
    return run.one(DEPLOYMENT, f"{name}-deployment").inputs


def pod(run: ProgramRun, name: str) -> dict:
    return deployment(run, name)["spec"]["template"]["spec"]


@pytest.fixture(scope="module")
def qgis_only():
    return run_program("staging", {"geostack:geonodeEnabled": "false"})


@pytest.fixture(scope="module")
def scaled():
    return run_program("staging", {"geostack:geonodeEnabled": "false", "geostack:qgisReplicas": "3",
                                   "geostack:qgisMinAvailable": "2", "geostack:nginxReplicas": "2",
                                   "geostack:qgisAutoscaleMax": "8", "geostack:qgisAutoscaleMin": "3"})


@pytest.mark.parametrize("stack", ["staging", "prod"])
@pytest.mark.parametrize("name", OURS)
def test_restricted_security_context(stack, name):
    run = run_program(stack)
    spec = pod(run, name)
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    for container in spec["containers"] + spec.get("initContainers", []):
        security = container["securityContext"]
        assert security["runAsUser"] >= 10000
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"] == {"drop": ["ALL"]}
        assert security["readOnlyRootFilesystem"] is True


def test_writable_paths_are_empty_dirs(qgis_only):
    qgis = pod(qgis_only, "qgis-server")
    scratch = {v["name"] for v in qgis["volumes"] if "emptyDir" in v}
    mounted = {m["mountPath"] for m in qgis["containers"][0]["volumeMounts"] if m["name"] in scratch}
    assert mounted == {"/tmp", "/home/qgis"}
    nginx = pod(qgis_only, "qgis-nginx")
    assert {m["mountPath"] for m in nginx["containers"][0]["volumeMounts"] if m["name"].startswith("scratch")} == {"/tmp"}
    assert nginx["containers"][0]["ports"] == [{"name": "http", "containerPort": 8080},
                                               {"name": "metrics", "containerPort": 9145}]


def test_namespace_enforces_restricted_only_when_every_workload_complies(qgis_only):
    labels = qgis_only.one(NAMESPACE).inputs["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    with_geonode = run_program("staging").one(NAMESPACE).inputs["metadata"]["labels"]
    assert with_geonode["pod-security.kubernetes.io/enforce"] == "baseline"
    assert with_geonode["pod-security.kubernetes.io/warn"] == "restricted"
    assert run_program("staging").one(NAMESPACE).inputs["metadata"]["name"] != "default"


def test_single_replicas_get_no_disruption_budget_or_spread(qgis_only):
    # Pulumi.staging.yaml runs two QGIS pods and one nginx pod.
    assert {b.name for b in qgis_only.of_type(PDB)} == {"qgis-server-pdb"}
    assert not qgis_only.of_type(HPA)
    assert "topologySpreadConstraints" not in pod(qgis_only, "qgis-nginx")
    assert "topologySpreadConstraints" in pod(qgis_only, "qgis-server")


def test_several_replicas_get_budget_spread_and_a_serving_rollout(scaled):
    budgets = {b.name: b.inputs["spec"] for b in scaled.of_type(PDB)}
    assert budgets["qgis-server-pdb"]["minAvailable"] == 2
    assert budgets["qgis-nginx-pdb"]["minAvailable"] == 1
    for name in OURS:
        spec = deployment(scaled, name)["spec"]
        assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
        spread = spec["template"]["spec"]["topologySpreadConstraints"]
        assert spread[0]["topologyKey"] == "kubernetes.io/hostname"
        assert spread[0]["whenUnsatisfiable"] == "ScheduleAnyway", "a one-node cluster must still schedule"
        assert spread[0]["matchLabelKeys"] == ["pod-template-hash"], "a rollout's pods spread among themselves"


def test_autoscaler_owns_the_replica_count(scaled):
    hpa = scaled.one(HPA).inputs["spec"]
    assert hpa["minReplicas"] == 3 and hpa["maxReplicas"] == 8
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "qgis-server"}
    assert hpa["metrics"][0]["resource"]["target"] == {"type": "Utilization", "averageUtilization": 75}
    assert "replicas" not in deployment(scaled, "qgis-server")["spec"]
    assert deployment(scaled, "qgis-nginx")["spec"]["replicas"] == 2


def test_nginx_stops_taking_traffic_before_it_quits(qgis_only):
    spec = pod(qgis_only, "qgis-nginx")
    assert spec["containers"][0]["lifecycle"] == {"preStop": {"exec": {"command": ["sleep", "5"]}}}
    assert spec["terminationGracePeriodSeconds"] > 5


def policies(run: ProgramRun) -> dict[str, dict]:
    return {p.inputs["metadata"]["name"]: p.inputs["spec"] for p in run.of_type(POLICY)}


def allowed_sources(spec: dict) -> list:
    return [peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
            for rule in spec.get("ingress", []) for peer in rule.get("from", []) if "podSelector" in peer]


def test_default_deny_and_only_nginx_reaches_fastcgi(qgis_only):
    found = policies(qgis_only)
    assert found["default-deny-ingress"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    qgis = found["qgis-server"]
    assert qgis["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "qgis-server"
    assert allowed_sources(qgis) == ["qgis-nginx"]
    assert qgis["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 5555}]
    proxy = found["qgis-nginx"]
    assert proxy["ingress"] == [
        {"ports": [{"protocol": "TCP", "port": 8080}]},  # the proxy takes traffic from anywhere...
        {"from": [{"namespaceSelector": {}}], "ports": [{"protocol": "TCP", "port": 9145}]},  # ...its status from pods
    ]
    annotations = deployment(qgis_only, "qgis-nginx")["spec"]["template"]["metadata"]["annotations"]
    assert {k: v for k, v in annotations.items() if k.startswith("prometheus.io/")} == {
        "prometheus.io/scrape": "true", "prometheus.io/port": "9145", "prometheus.io/path": "/metrics"}
    assert not qgis_only.of_type("kubernetes:monitoring.coreos.com/v1:ServiceMonitor")


def test_a_service_monitor_reads_a_cluster_internal_metrics_service_when_asked():
    run = run_program("staging", {"geostack:kubernetesServiceMonitor": "true"})
    monitors = {m.inputs["metadata"]["name"]: m.inputs for m in run.of_type("kubernetes:monitoring.coreos.com/v1:ServiceMonitor")}
    assert set(monitors) == {"qgis-nginx", "geonode"}
    services = {s.inputs["metadata"]["name"]: s.inputs for s in run.of_type("kubernetes:core/v1:Service")}
    for name, monitor in monitors.items():
        metrics = services[f"{name}-metrics"]
        assert metrics["spec"]["type"] == "ClusterIP"
        assert metrics["spec"]["ports"] == [{"name": "metrics", "port": 9145, "targetPort": "metrics"}]
        assert metrics["spec"]["selector"] == services[name]["spec"]["selector"], "the workload's pods"
        assert monitor["spec"]["endpoints"] == [{"port": "metrics", "path": "/metrics"}]
        assert all(metrics["metadata"]["labels"][k] == v for k, v in monitor["spec"]["selector"]["matchLabels"].items())
        assert 9145 not in [p["port"] for p in services[name]["spec"]["ports"]], "the published Service keeps to http"


def test_only_geonodes_services_reach_postgis_and_redis():
    found = policies(run_program("staging"))
    celery = {"geonode-celery", "geonode-celery-harvester", "geonode-celery-beat"}
    assert set(allowed_sources(found["geonode-db"])) == {"geonode-django", "geonode-django-init",
                                                         "geonode-geoserver", "geonode-backup", *celery}
    assert set(allowed_sources(found["geonode-redis"])) == {"geonode-django", "geonode-django-init", *celery}
    assert set(allowed_sources(found["geonode-django"])) == {"geonode", "geonode-geoserver"}
    exposed = [name for name, spec in found.items() if spec.get("ingress") and not allowed_sources(spec)]
    assert sorted(exposed) == ["geonode", "qgis-nginx"], "ingress reaches only the proxies"


def test_pull_policy_and_digest(qgis_only):
    container = pod(qgis_only, "qgis-server")["containers"][0]
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert "@sha256:" in container["image"]


@pytest.mark.parametrize("overrides, expected", [
    ({"geostack:qgisReplicas": "2", "geostack:qgisMinAvailable": "2"},
     "geostack:qgisMinAvailable must be below geostack:qgisReplicas (2) so a node drain can always proceed, got 2"),
    ({"geostack:qgisAutoscaleMin": "4", "geostack:qgisAutoscaleMax": "3"},
     "geostack:qgisAutoscaleMax must be at least geostack:qgisAutoscaleMin (4), got 3"),
    ({"geostack:nginxAutoscaleMin": "2", "geostack:nginxAutoscaleMax": "5", "geostack:nginxMinAvailable": "2"},
     "geostack:nginxMinAvailable must be below geostack:nginxAutoscaleMin (2) so a node drain can always proceed, got 2"),
    ({"geostack:nginxMemoryRequest": "512Mi", "geostack:nginxMemoryLimit": "256Mi"},
     "geostack:nginxMemoryLimit must be at least geostack:nginxMemoryRequest (512Mi), got '256Mi'"),
    ({"geostack:kubernetesNamespace": "geo.stack"},
     "geostack:kubernetesNamespace must be a DNS label (lowercase letters, digits, '-') (or empty), got 'geo.stack'"),
    ({"geostack:kubernetesVersion": "1.x"},
     "geostack:kubernetesVersion must be a Kubernetes minor version such as 1.33, got '1.x'"),
    ({"geostack:kubernetesNamespaceExists": "true"},
     "geostack:kubernetesNamespace must name the namespace when geostack:kubernetesNamespaceExists is true "
     "(its default, geostack-<stack name>, is one the stack creates itself)"),
    ({"geostack:kubernetesNamespaceExists": "yes", "geostack:kubernetesNamespace": "maps"},
     "geostack:kubernetesNamespaceExists must be true or false, got 'yes'"),
])
def test_bad_scaling_and_namespace_config_names_the_key(overrides, expected):
    run = run_program("staging", overrides, raise_errors=False)
    assert str(run.error) == expected
    assert run.resources == []


def test_digest_references_are_accepted_for_images():
    digest = "nginx@sha256:" + "0" * 64
    run = run_program("staging", {"geostack:nginxImage": digest, "geostack:geonodeEnabled": "false"})
    assert pod(run, "qgis-nginx")["containers"][0]["image"] == digest


def test_an_existing_namespace_is_read_never_declared_and_only_the_stacks_pods_are_denied():
    run = run_program("staging", {"geostack:geonodeEnabled": "false", "geostack:kubernetesNamespace": "maps-team",
                                  "geostack:kubernetesNamespaceExists": "true"})
    assert not run.of_type(NAMESPACE), "a namespace of someone else's is never in the stack's state"
    assert run.reads == [(NAMESPACE, "microk8s-target-namespace", "maps-team")]
    namespaced = [r for r in run.resources if isinstance(r.inputs.get("metadata"), dict)
                  and "namespace" in r.inputs["metadata"]]
    assert namespaced and {r.inputs["metadata"]["namespace"] for r in namespaced} == {"maps-team"}
    deny = run.one(POLICY, "microk8s-target-default-deny").inputs
    assert deny["metadata"]["name"] == "geostack-default-deny-ingress"
    stack_pods = {"app.kubernetes.io/instance": "staging", "app.kubernetes.io/part-of": "geostack"}
    assert deny["spec"] == {"podSelector": {"matchLabels": stack_pods}, "policyTypes": ["Ingress"]}
    for name in OURS:  # the selector holds every pod of the stack
        assert stack_pods.items() <= deployment(run, name)["spec"]["template"]["metadata"]["labels"].items()
