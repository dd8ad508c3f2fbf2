"""GeoNode on all three targets, run under mocks with GeoNode enabled: what each declares."""
from __future__ import annotations

import re

import pytest

from pulumi_geostack.geonode.services import INIT_SCRIPT, OWN_INIT_SCRIPT
from offline.program_run import ProgramRun, run_program

CONTAINER = "docker:index/container:Container"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
JOB = "kubernetes:batch/v1:Job"
CRONJOB = "kubernetes:batch/v1:CronJob"
SERVICE = "kubernetes:core/v1:Service"
PVC = "kubernetes:core/v1:PersistentVolumeClaim"
SECRET = "kubernetes:core/v1:Secret"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
RANDOM = "random:index/randomPassword:RandomPassword"

OWN_IMAGE = {  # where geostack's GeoNode image is run from, per stack
    "dev": r"geostack/geonode:[0-9a-f]{12}",
    "staging": r"localhost:32000/geostack/geonode@sha256:[0-9a-f]{64}",
    "prod": r"123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com/geostack/geonode@sha256:[0-9a-f]{64}",
}
DJANGO_LIKE = ("geonode-django", "geonode-celery", "geonode-celery-harvester", "geonode-celery-beat",
               "geonode-django-init")
SERVICES = {  # workload name -> image repository
    "geonode": "geonode/nginx",
    "geonode-geoserver": "geonode/geoserver",
    "geonode-db": "geonode/postgis",
    "geonode-redis": "redis",
}
CONFIGURED_SECRETS = {
    "geostack:geonodeAdminPassword": "Adm1n-from-config",
    "geostack:geonodeDatabasePassword": "Db-from-config",
    "geostack:geonodeSecretKey": "Django-key-from-config",
}
GEONODE_ON = {
    "dev": {"geostack:geonodeEnabled": "true"},
    "staging": {},
    "prod": {},
}


@pytest.fixture(scope="module")
def runs() -> dict[str, ProgramRun]:
    return {stack: run_program(stack, overrides) for stack, overrides in GEONODE_ON.items()}


@pytest.fixture(scope="module")
def runs_with_configured_secrets() -> dict[str, ProgramRun]:
    return {stack: run_program(stack, overrides, secrets=CONFIGURED_SECRETS) for stack, overrides in GEONODE_ON.items()}


def workloads(run: ProgramRun) -> dict[str, dict]:
    """name -> {image, env, secret_env_keys, ...} for Docker containers and Kubernetes pods alike."""
    found = {}
    for container in run.of_type(CONTAINER):
        inputs = container.inputs
        env = dict(entry.split("=", 1) for entry in inputs.get("envs", []))
        found[container.name] = {"image": inputs["image"], "env": env, "inputs": inputs, "resource": container}
    for kind in (DEPLOYMENT, JOB, CRONJOB):
        for resource in run.of_type(kind):
            spec = resource.inputs["spec"]
            pod = (spec["jobTemplate"]["spec"] if kind == CRONJOB else spec)["template"]["spec"]
            main = pod["containers"][0]
            env = {e["name"]: e.get("value") for e in main.get("env", []) if "value" in e}
            env_refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in main.get("env", []) if "valueFrom" in e}
            found[main["name"]] = {"image": main["image"], "env": env, "refs": env_refs, "pod": pod,
                                   "container": main, "resource": resource}
    return found


def secret_value(run: ProgramRun, workload: dict, key: str) -> str:
    """A secret env value, wherever the target keeps it (Docker env entry / Kubernetes Secret)."""
    if "refs" not in workload:
        return workload["env"][key]
    ref = workload["refs"][key]
    secret = next(r for r in run.of_type(SECRET) if r.inputs["metadata"]["name"] == ref["name"])
    return secret.inputs["stringData"][ref["key"]]


@pytest.mark.parametrize("stack", GEONODE_ON)
def test_every_service_exists_with_a_pinned_image(runs, stack):
    found = workloads(runs[stack])
    for name, repository in SERVICES.items():
        assert name in found, f"{stack}: no {name}"
        image = found[name]["image"]
        # Upstream publishes mutable tags only: each runs the digest its tag named at the first up.
        assert re.fullmatch(re.escape(repository) + r":\d[\w.-]*@sha256:[0-9a-f]{64}", image), f"{stack}: {image}"
    for name in DJANGO_LIKE:  # geostack's own build by default, by digest wherever it is pushed
        assert re.fullmatch(OWN_IMAGE[stack], found[name]["image"]), found[name]["image"]
    assert found["geonode-redis"]["image"].startswith("redis:7.")
    assert not any("rabbitmq" in name for name in found), "GeoNode 5's broker is Redis"


@pytest.mark.parametrize("stack", GEONODE_ON)
def test_settings_point_at_the_right_services_and_ports(runs, stack):
    run = runs[stack]
    found = workloads(run)
    django = found["geonode-django"]
    assert django["env"]["GEOSERVER_LOCATION"] == "http://geonode-geoserver:8080/geoserver/"
    assert django["env"]["DATABASE_HOST"] == "geonode-db"
    assert re.fullmatch(r"postgis://geonode:[^@]+@geonode-db:5432/geonode", secret_value(run, django, "DATABASE_URL"))
    assert re.fullmatch(r"postgis://geonode_data:[^@]+@geonode-db:5432/geonode_data",
                        secret_value(run, django, "GEODATABASE_URL"))
    assert re.fullmatch(r"redis://:[^@]+@geonode-redis:6379/0", secret_value(run, django, "BROKER_URL"))
    # Results in the same Redis, not GeoNode's default of redis://localhost.
    assert secret_value(run, django, "CELERY_RESULT_BACKEND") == (
        secret_value(run, django, "BROKER_URL").removesuffix("/0") + "/1")
    assert found["geonode-geoserver"]["env"]["GEONODE_LB_HOST_IP"] == "geonode-django"
    site = {"dev": "http://localhost:8000/", "staging": "http://geonode.staging.internal/",
            "prod": "https://maps.example.org/"}[stack]
    assert django["env"]["SITEURL"] == site
    assert django["env"]["GEOSERVER_PUBLIC_LOCATION"] == site + "geoserver/"
    assert run.outputs["geonodeUrl"] == site
    host = site.split("/")[2].split(":")[0]
    assert host in eval(django["env"]["ALLOWED_HOSTS"]) and "geonode-django" in eval(django["env"]["ALLOWED_HOSTS"])
    # The database password Django uses is the one PostGIS is initialised with.
    db = found["geonode-db"]
    assert secret_value(run, django, "GEONODE_DATABASE_PASSWORD") == secret_value(run, db, "GEONODE_DATABASE_PASSWORD")
    assert secret_value(run, found["geonode-redis"], "REDIS_PASSWORD") in secret_value(run, django, "BROKER_URL")


@pytest.mark.parametrize("stack", GEONODE_ON)
def test_nginx_routes_to_the_declared_django_and_geoserver(runs, stack):
    run = runs[stack]
    conf = run.nginx_config("geonode")
    if stack == "dev":
        # Docker gives a restarted container a new address: nginx looks peers up per request
        # through the engine's DNS, instead of proxying to the old address until it restarts.
        assert "resolver 127.0.0.11 valid=10s ipv6=off;" in conf
        assert re.search(r"location /geoserver \{[^}]*set \$geoserver geonode-geoserver:8080;\s*"
                         r"proxy_pass http://\$geoserver;", conf)
        assert re.search(r"location / \{[^}]*set \$django geonode-django:8000;\s*proxy_pass http://\$django;", conf)
    else:  # a Service's name and address stay put
        assert "resolver" not in conf
        assert re.search(r"location /geoserver \{[^}]*proxy_pass http://geonode-geoserver:8080;", conf)
        assert re.search(r"location / \{[^}]*proxy_pass http://geonode-django:8000;", conf)
    assert "alias /mnt/volumes/statics/static/;" in conf and "alias /mnt/volumes/statics/uploaded/;" in conf
    assert "client_max_body_size 100m;" in conf


def _strings(value, path=""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")
    elif isinstance(value, str):
        yield path, value


@pytest.mark.parametrize("stack", GEONODE_ON)
@pytest.mark.parametrize("which", ["generated", "configured"])
def test_no_secret_appears_in_plaintext_outside_a_secret(runs, runs_with_configured_secrets, stack, which):
    run = (runs if which == "generated" else runs_with_configured_secrets)[stack]
    secrets = {r.name: f"generated-{r.name}-" for r in run.of_type(RANDOM)}
    if which == "configured":
        secrets.update({key: value for key, value in CONFIGURED_SECRETS.items()})
        assert not {"geonode-admin-password", "geonode-database-password", "geonode-secret-key"} & {
            r.name for r in run.of_type(RANDOM)}, "configured secrets must not be generated"
    assert len(secrets) >= 6
    checked = 0
    for resource in run.resources:
        if resource.type in (RANDOM, SECRET):
            continue  # where secrets are supposed to live
        for path, text in _strings(resource.inputs):
            for name, marker in secrets.items():
                if marker in text:
                    top = path.split(".")[1].split("[")[0]
                    assert top in resource.secret_inputs, f"{resource.type} {resource.name}{path} holds {name} in plaintext"
                    checked += 1
    if stack == "dev":
        assert checked > 0, "Docker passes secrets as (secret) env entries; the check found none"
    else:
        assert checked == 0, "on Kubernetes secrets only travel in Secrets"
    for key, value in run.outputs.items():
        if any(marker in str(value) for marker in secrets.values()):
            assert key in run.secret_outputs, f"stack output {key} leaks a secret"
    assert "geonodeAdminPassword" in run.secret_outputs


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_kubernetes_secrets_reach_containers_by_reference(runs, stack):
    found = workloads(runs[stack])
    django = found["geonode-django"]
    for key in ("SECRET_KEY", "ADMIN_PASSWORD", "DATABASE_URL", "BROKER_URL", "GEOSERVER_ADMIN_PASSWORD"):
        assert key in django["refs"] and key not in django["env"]
    assert {"POSTGRES_PASSWORD", "GEONODE_DATABASE_PASSWORD"} <= set(found["geonode-db"]["refs"])


@pytest.mark.parametrize("stack", GEONODE_ON)
def test_nothing_is_privileged_and_there_is_no_docker_in_docker(runs, stack):
    run = runs[stack]
    for name, workload in workloads(run).items():
        assert "dind" not in workload["image"] and "docker:" not in workload["image"]
        if "inputs" in workload:
            inputs = workload["inputs"]
            assert not inputs.get("privileged")
            assert all("docker.sock" not in (v.get("hostPath") or "") for v in inputs.get("volumes", []))
            assert inputs["capabilities"] == {"drops": ["ALL"]}
        else:
            pod = workload["pod"]
            for container in pod["containers"] + pod.get("initContainers", []):
                security = container["securityContext"]
                assert not security.get("privileged") and security["allowPrivilegeEscalation"] is False
                assert security["capabilities"] == {"drop": ["ALL"]}
            assert not any("hostPath" in volume for volume in pod.get("volumes", [])), name


def test_volumes_and_claims_outlive_destroy_everywhere_and_are_protected_in_production(runs):
    staging = runs["staging"].of_type(PVC)
    prod = runs["prod"].of_type(PVC)
    names = {"geonode-dbdata", "geonode-redis", "geonode-geoserver-data", "geonode-statics", "geonode-data",
             "geonode-backups"}
    assert {c.name for c in staging} == names == {c.name for c in prod}
    assert not any(c.protect for c in staging)
    assert all(c.protect for c in prod)
    assert all(c.retain_on_delete and c.ignore_changes == ["spec.storageClassName"] for c in staging + prod)
    for stack in ("staging", "prod"):  # deleting the namespace would delete the claims in it
        namespace = runs[stack].one("kubernetes:core/v1:Namespace")
        assert namespace.retain_on_delete and namespace.protect == (stack == "prod")
    modes = {c.name: c.inputs["spec"]["accessModes"] for c in prod}
    assert modes["geonode-dbdata"] == ["ReadWriteOnce"]
    assert modes["geonode-statics"] == modes["geonode-geoserver-data"] == modes["geonode-data"] == ["ReadWriteMany"]
    classes = {c.name: c.inputs["spec"].get("storageClassName") for c in prod}
    assert classes["geonode-statics"] == "efs-sc" and classes["geonode-dbdata"] is None
    assert {c.inputs["spec"]["storageClassName"] for c in staging} == {"microk8s-hostpath"}
    docker = run_program("dev", {"geostack:geonodeEnabled": "true", "geostack:production": "true"})
    volumes = docker.of_type("docker:index/volume:Volume")
    assert {v.name for v in volumes} == names and all(v.protect and v.retain_on_delete for v in volumes)
    dev = run_program("dev", {"geostack:geonodeEnabled": "true"}).of_type("docker:index/volume:Volume")
    assert dev and all(v.retain_on_delete and not v.protect for v in dev)


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_ingress_carries_the_host_tls_and_body_size(runs, stack):
    ingress = runs[stack].one(INGRESS).inputs
    host = {"staging": "geonode.staging.internal", "prod": "maps.example.org"}[stack]
    assert ingress["spec"]["rules"][0]["host"] == host
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "geonode", "port": {"number": 8080}}
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-body-size"] == "100m"
    if stack == "prod":
        assert ingress["spec"]["tls"] == [{"hosts": [host], "secretName": "geonode-tls"}]
        assert annotations["cert-manager.io/cluster-issuer"] == "letsencrypt-prod"
        assert ingress["spec"]["ingressClassName"] == "nginx"
    else:
        assert "tls" not in ingress["spec"]
        assert ingress["spec"]["ingressClassName"] == "public"


def test_one_upload_size_sets_nginx_ingress_and_django():
    run = run_program("staging", {"geostack:geonodeUploadSize": "2g", "geostack:geonodeTlsSecret": "maps-tls"})
    ingress = run.one(INGRESS).inputs
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"] == "2g"
    assert ingress["spec"]["tls"] == [{"hosts": ["geonode.staging.internal"], "secretName": "maps-tls"}]
    assert "client_max_body_size 2g;" in run.nginx_config("geonode")
    assert workloads(run)["geonode-django"]["env"]["DEFAULT_MAX_UPLOAD_SIZE"] == str(2 * 1024**3)
    assert workloads(run)["geonode-django"]["env"]["SITEURL"] == "https://geonode.staging.internal/"


def test_docker_publishes_geonode_nginx(runs):
    nginx = workloads(runs["dev"])["geonode"]["inputs"]
    assert nginx["ports"] == [{"internal": 8080, "external": 8000, "ip": "127.0.0.1"}]
    assert nginx["entrypoints"] == ["nginx"]


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_migrations_run_once_per_rollout_in_a_job(runs, stack):
    run = runs[stack]
    found = workloads(run)
    init = found["geonode-django-init"]
    assert init["resource"].type == JOB
    assert init["container"]["args"] == [OWN_INIT_SCRIPT]
    assert "django-admin migrate --noinput\n" in OWN_INIT_SCRIPT and "collectstatic" in OWN_INIT_SCRIPT
    django = found["geonode-django"]
    assert "command" not in django["container"] and "args" not in django["container"], \
        "replicas run the image's uwsgi; they do not migrate"
    assert init["resource"].urn in django["resource"].dependencies
    assert init["resource"].urn in found["geonode-celery"]["resource"].dependencies
    seed = found["geonode-geoserver-data-init"]
    assert seed["resource"].type == JOB
    assert seed["resource"].urn in found["geonode-geoserver"]["resource"].dependencies


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_geostacks_image_runs_non_root_with_a_read_only_root(runs, stack):
    found = workloads(runs[stack])
    for name in DJANGO_LIKE:
        security = found[name]["container"]["securityContext"]
        assert security["readOnlyRootFilesystem"] is True, name
        assert security["runAsUser"] == 10002, name
    assert found["geonode-django"]["pod"]["securityContext"]["fsGroup"] == 10002


def test_geostack_builds_its_geonode_image_unless_another_is_configured():
    built = run_program("dev", GEONODE_ON["dev"]).of_type("docker:index/image:Image")
    assert {i.inputs["build"]["context"] for i in built} == {"docker/qgis-server", "docker/geonode", "docker/backup"}
    upstream = run_program("staging", {"geostack:geonodeDjangoImage": "geonode/geonode:5.1.1",
                                       "geostack:geonodeDatabaseMaxConnections": "600"})
    assert not [i for i in upstream.of_type("docker:index/image:Image") if "geonode" in i.inputs["build"]["context"]]
    found = workloads(upstream)
    assert re.fullmatch(r"geonode/geonode:5\.1\.1@sha256:[0-9a-f]{64}", found["geonode-django"]["image"])
    assert found["geonode-django"]["container"]["securityContext"]["readOnlyRootFilesystem"] is False, \
        "upstream's image writes into itself"
    assert found["geonode-django-init"]["container"]["args"] == [INIT_SCRIPT], "upstream's image has invoke tasks"
    assert found["geonode-django"]["container"]["command"] == ["uwsgi"]


def test_a_prebuilt_geostack_image_runs_as_geostacks_and_nothing_is_built():
    prebuilt = "registry.example.org/gis/geonode@sha256:" + "cd" * 32
    backup = "registry.example.org/gis/backup@sha256:" + "ef" * 32
    run = run_program("staging", {"geostack:geonodeImage": prebuilt, "geostack:geonodeBackupImage": backup})
    assert [i.name for i in run.of_type("docker:index/image:Image")] == ["qgis-image-build"]
    assert workloads(run)["geonode-backup"]["image"] == backup
    django = workloads(run)["geonode-django"]
    assert django["image"] == prebuilt and django["container"]["securityContext"]["runAsUser"] == 10002
    both = run_program("staging", {"geostack:geonodeImage": prebuilt, "geostack:geonodeDjangoImage": "geonode/geonode:5.1.1"},
                       raise_errors=False)
    assert "geostack:geonodeImage (geostack's image) and geostack:geonodeDjangoImage" in str(both.error)


def test_docker_runs_the_init_tasks_once_before_the_services(runs):
    run = runs["dev"]
    found = workloads(run)
    for task in ("geonode-django-init", "geonode-geoserver-data-init"):
        inputs = found[task]["inputs"]
        assert inputs["attach"] is True and inputs["mustRun"] is False and inputs["restart"] == "no"
    assert found["geonode-django-init"]["resource"].urn in found["geonode-django"]["resource"].dependencies
    for name in ("geonode-db", "geonode-redis", "geonode-django", "geonode-geoserver", "geonode"):
        assert found[name]["inputs"]["wait"] is True, f"{name}: dependents must wait for its healthcheck"
    assert found["geonode-db"]["resource"].urn in found["geonode-django-init"]["resource"].dependencies


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_pods_wait_for_the_database_and_the_broker(runs, stack):
    found = workloads(runs[stack])
    for name in ("geonode-django", "geonode-celery", "geonode-celery-harvester", "geonode-celery-beat",
                 "geonode-django-init"):
        scripts = [c["command"][2] for c in found[name]["pod"]["initContainers"]]
        assert any("nc -z -w 2 geonode-db 5432" in s for s in scripts), name
        assert any("nc -z -w 2 geonode-redis 6379" in s for s in scripts), name
        for init in found[name]["pod"]["initContainers"]:
            assert init["image"] == "busybox:1.36.1"


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_probes(runs, stack):
    found = workloads(runs[stack])

    def probes(name):
        container = found[name]["container"]
        return container.get("livenessProbe"), container["readinessProbe"]

    live, ready = probes("geonode-django")
    assert ready["httpGet"] == {"path": "/", "port": 8000, "httpHeaders": [{"name": "Host", "value": "geonode-django"}]}
    assert live["tcpSocket"] == {"port": 8000}
    live, ready = probes("geonode-geoserver")
    assert ready["httpGet"]["path"] == "/geoserver/ows" and live["tcpSocket"] == {"port": 8080}
    live, ready = probes("geonode-db")
    # Ready only once the configured passwords hold (pulumi_geostack/geonode/postgis.py).
    assert live["exec"]["command"][0] == "pg_isready" and "pg_isready" in ready["exec"]["command"][2]
    assert "test -e /tmp/geostack-passwords-set" in ready["exec"]["command"][2]
    assert live["failureThreshold"] > ready["failureThreshold"], "restart only after a long outage"
    live, ready = probes("geonode-redis")
    assert live["tcpSocket"] == {"port": 6379} and "redis-cli ping" in ready["exec"]["command"][2]
    for name in set(SERVICES) - {"geonode-celery-beat"}:  # beat answers no ping
        live, ready = probes(name)
        assert live != ready, f"{name}: liveness and readiness should differ"


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_celery_runs_workers_a_harvesting_worker_and_one_beat(runs, stack):
    found = workloads(runs[stack])

    def command(name: str) -> list[str]:
        return found[name]["container"]["args"]

    assert command("geonode-celery")[:3] == ["-A", "geonode.celery_app:app", "worker"]
    assert "-B" not in command("geonode-celery"), "beat runs once, in its own pod, not inside every worker"
    assert command("geonode-celery")[command("geonode-celery").index("-X") + 1] == "harvesting"
    assert command("geonode-celery-harvester")[command("geonode-celery-harvester").index("-Q") + 1] == "harvesting"
    assert command("geonode-celery-beat")[2] == "beat"
    assert "--schedule=/tmp/celerybeat-schedule" in command("geonode-celery-beat"), "a writable path"
    strategies = {name: found[name]["resource"].inputs["spec"]["strategy"]["type"]
                  for name in ("geonode-celery", "geonode-celery-harvester", "geonode-celery-beat")}
    assert strategies == {"geonode-celery": "RollingUpdate", "geonode-celery-harvester": "RollingUpdate",
                          "geonode-celery-beat": "Recreate"}, "two schedulers would send every periodic task twice"


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_redis_keeps_its_queue_on_a_volume_with_a_read_only_root(runs, stack):
    redis = workloads(runs[stack])["geonode-redis"]
    container = redis["container"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["runAsUser"] == 999
    script = container["args"][0]
    assert "--appendonly yes" in script and "--dir /data" in script
    assert '"$REDIS_PASSWORD"' in script, "the password comes from the Secret at run time, not the spec"
    assert any(m["mountPath"] == "/data" for m in container["volumeMounts"])


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_a_broker_outage_does_not_restart_celery(runs, stack):
    # Its ping fails while the broker is down; as a liveness probe it killed healthy workers.
    celery = workloads(runs[stack])["geonode-celery"]["container"]
    assert "livenessProbe" not in celery
    assert "ping" in celery["readinessProbe"]["exec"]["command"][-1]


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_stateful_services_run_one_pod_at_a_time(runs, stack):
    found = workloads(runs[stack])
    for name in ("geonode-db", "geonode-redis", "geonode-geoserver", "geonode-celery-beat"):
        spec = found[name]["resource"].inputs["spec"]
        assert spec["replicas"] == 1 and spec["strategy"] == {"type": "Recreate"}, name
    assert found["geonode-django"]["resource"].inputs["spec"]["replicas"] == (2 if stack == "prod" else 1)


def test_geonode_runs_without_qgis():
    run = run_program("staging", {"geostack:qgisEnabled": "false"})
    names = {r.name for r in run.resources}
    assert "qgis-server-deployment" not in names and "geonode-django-deployment" in names
    assert "wmsCapabilitiesUrl" not in run.outputs and run.outputs["geonodeUrl"]


def test_kubernetes_secret_data_is_marked_secret(runs):
    for secret in runs["staging"].of_type(SECRET):
        assert "stringData" in secret.secret_inputs, secret.name


@pytest.mark.parametrize("overrides, expected", [
    ({"geostack:geonodeUploadSize": "lots"},
     "geostack:geonodeUploadSize must be an nginx size such as 100m or 2g, got 'lots'"),
    ({"geostack:geonodeSiteHost": "maps example"},
     "geostack:geonodeSiteHost must be a host name such as maps.example.org, got 'maps example'"),
    ({"geostack:geonodeDjangoImage": "geonode/geonode:latest"},
     "geostack:geonodeDjangoImage must be a pinned image reference such as name:1.2.3 (never latest) (or empty), "
     "got 'geonode/geonode:latest'"),
    ({"geostack:geonodeTlsSecret": "maps-tls", "geostack:geonodeCertIssuer": "letsencrypt"},
     "geostack:geonodeCertIssuer must be empty when geostack:geonodeTlsSecret is set (one source of TLS), "
     "got 'letsencrypt'"),
    ({"geostack:geonodeDatabaseSize": "big"}, "geostack:geonodeDatabaseSize must be a storage size such as 10Gi"),
    ({"geostack:qgisEnabled": "false", "geostack:geonodeEnabled": "false"},
     "geostack:qgisEnabled must be true when geostack:geonodeEnabled is false"),
])
def test_bad_geonode_settings_name_the_key(overrides, expected):
    run = run_program("staging", overrides, raise_errors=False)
    assert run.error is not None and expected in str(run.error)
    assert run.resources == []


def test_eks_geonode_needs_a_shared_storage_class():
    run = run_program("prod", {"geostack:eksSharedStorageClass": ""}, raise_errors=False)
    assert str(run.error) == ("geostack:eksSharedStorageClass must name a ReadWriteMany (EFS) storage class "
                              "when GeoNode runs on eks, got ''")


def test_docker_ports_must_not_collide():
    run = run_program("dev", {"geostack:geonodeEnabled": "true", "geostack:geonodeHostPort": "8080"},
                      raise_errors=False)
    assert str(run.error) == "geostack:geonodeHostPort must differ from geostack:dockerHostPort (8080), got 8080"


def test_generated_credentials_are_stable_resources(runs):
    names = {r.name for r in runs["staging"].of_type(RANDOM)}
    assert names == {f"geonode-{n}" for n in (
        "secret-key", "admin-password", "geoserver-admin-password", "postgres-password", "database-password",
        "geodatabase-password", "broker-password", "oauth-client-id", "oauth-client-secret", "api-key")}
    for password in runs["staging"].of_type(RANDOM):
        assert password.inputs["special"] is False, "values are embedded in URLs"
        assert int(password.inputs["length"]) >= 24


EVERY_CREDENTIAL = {  # with all ten set, nothing is generated and no pulumi-random plugin is needed
    f"geostack:{key}": f"{key}-value:with/url@chars"
    for key in ("geonodeSecretKey", "geonodeAdminPassword", "geonodeGeoserverAdminPassword", "geonodePostgresPassword",
                "geonodeDatabasePassword", "geonodeGeodatabasePassword", "geonodeBrokerPassword",
                "geonodeOauthClientId", "geonodeOauthClientSecret", "geonodeApiKey")
}


@pytest.mark.parametrize("stack", ["dev", "staging"])
def test_every_configured_credential_is_used_and_none_is_generated(stack):
    run = run_program(stack, GEONODE_ON[stack], secrets=EVERY_CREDENTIAL)
    assert not run.of_type(RANDOM)
    django = workloads(run)["geonode-django"]
    assert secret_value(run, django, "OAUTH2_CLIENT_ID") == EVERY_CREDENTIAL["geostack:geonodeOauthClientId"]
    assert secret_value(run, django, "OAUTH2_CLIENT_SECRET") == EVERY_CREDENTIAL["geostack:geonodeOauthClientSecret"]
    assert secret_value(run, django, "OAUTH2_API_KEY") == EVERY_CREDENTIAL["geostack:geonodeApiKey"]
    assert secret_value(run, workloads(run)["geonode-redis"], "REDIS_PASSWORD") == \
        EVERY_CREDENTIAL["geostack:geonodeBrokerPassword"]


@pytest.mark.parametrize("stack", GEONODE_ON)
def test_cookies_are_secure_exactly_when_the_site_is_https(runs, stack):
    django = workloads(runs[stack])["geonode-django"]
    tls = runs[stack].outputs["geonodeUrl"].startswith("https://")
    assert (stack == "prod") == tls
    assert django["env"]["SESSION_COOKIE_SECURE"] == django["env"]["CSRF_COOKIE_SECURE"] == str(tls)


def test_sign_up_is_closed_unless_opened():
    closed = workloads(run_program("dev", GEONODE_ON["dev"]))["geonode-django"]["env"]
    opened = workloads(run_program("dev", {**GEONODE_ON["dev"], "geostack:geonodeOpenSignup": "true"}))
    assert closed["ACCOUNT_OPEN_SIGNUP"] == "False"
    assert opened["geonode-django"]["env"]["ACCOUNT_OPEN_SIGNUP"] == "True"


@pytest.mark.parametrize("stack", GEONODE_ON)
def test_the_admin_api_needs_a_key(runs, stack):
    # Without OAUTH2_API_KEY GeoNode answers /api/users and /api/roles to anyone.
    run = runs[stack]
    django = workloads(run)["geonode-django"]
    key = secret_value(run, django, "OAUTH2_API_KEY")
    assert key.startswith("generated-geonode-api-key"), key


def _scratch(run: ProgramRun, workload: dict, mount_path: str) -> dict | str:
    """A scratch mount's size setting: the Docker tmpfs options or the Kubernetes emptyDir."""
    if "pod" not in workload:
        return workload["inputs"]["tmpfs"][mount_path]
    pod = workload["pod"]
    name = next(m["name"] for m in workload["container"]["volumeMounts"] if m["mountPath"] == mount_path)
    return next(v["emptyDir"] for v in pod["volumes"] if v["name"] == name)


@pytest.mark.parametrize("stack", GEONODE_ON)
def test_postgis_gets_a_quarter_of_its_memory_limit_as_dev_shm(runs, stack):
    db = workloads(runs[stack])["geonode-db"]  # limit 2Gi by default
    if stack == "dev":
        assert db["inputs"]["shmSize"] == 512
    else:
        assert _scratch(runs[stack], db, "/dev/shm") == {"medium": "Memory", "sizeLimit": "512Mi"}


@pytest.mark.parametrize("stack", GEONODE_ON)
def test_djangos_tmp_holds_two_uploads_of_the_largest_size(runs, stack):
    found = workloads(runs[stack])
    expected = 2 * 100 + 256  # geonodeUploadSize 100m
    for name in ("geonode-django", "geonode-celery", "geonode-django-init"):
        scratch = _scratch(runs[stack], found[name], "/tmp")
        assert (f"size={expected}m" in scratch) if stack == "dev" else scratch == {"sizeLimit": f"{expected}Mi"}
    bigger = workloads(run_program("dev", {**GEONODE_ON["dev"], "geostack:geonodeUploadSize": "2g"}))
    assert "size=4352m" in bigger["geonode-django"]["inputs"]["tmpfs"]["/tmp"]
    others = _scratch(runs[stack], found["geonode"], "/tmp")  # GeoNode's nginx keeps the default
    assert ("size=256m" in others) if stack == "dev" else others == {"sizeLimit": "256Mi"}


NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


def test_cert_managers_http01_solver_is_reachable_under_the_default_deny_policy():
    def solver_policies(run: ProgramRun) -> list[dict]:
        return [p.inputs["spec"] for p in run.of_type(NETWORK_POLICY)
                if p.inputs["spec"]["podSelector"].get("matchLabels") == {"acme.cert-manager.io/http01-solver": "true"}]

    issued = run_program("staging", {"geostack:geonodeCertIssuer": "letsencrypt"})
    assert solver_policies(issued) == [{
        "podSelector": {"matchLabels": {"acme.cert-manager.io/http01-solver": "true"}},
        "policyTypes": ["Ingress"],
        "ingress": [{"ports": [{"port": 8089, "protocol": "TCP"}]}],
    }]
    assert any(p.inputs["metadata"]["name"] == "default-deny-ingress" for p in issued.of_type(NETWORK_POLICY))
    assert solver_policies(run_program("staging")) == [], "no issuer, no opening"


def test_a_failed_task_on_docker_fails_the_deployment_naming_it():
    run = run_program("dev", GEONODE_ON["dev"], raise_errors=False, task_exit_codes={"geonode-django-init": 3})
    assert "task geonode-django-init exited with code 3" in str(run.error)
    assert "docker logs geostack-dev-geonode-django-init" in str(run.error)
    created = {r.name for r in run.of_type(CONTAINER)}
    assert "geonode-django-init" in created
    assert not {"geonode-django", "geonode-celery"} & created, "nothing that waits for the task is created"


def test_services_after_a_task_wait_for_its_success(runs):
    django = workloads(runs["dev"])["geonode-django"]["inputs"]
    assert {"label": "geostack.after-task.0", "value": "geonode-django-init"} in django["labels"]


def test_passwords_in_connection_urls_are_percent_encoded():
    # An unencoded "@" or "/" in a configured password would make Django connect to the wrong host.
    run = run_program("staging", secrets=EVERY_CREDENTIAL)
    django = workloads(run)["geonode-django"]
    assert secret_value(run, django, "DATABASE_URL") == (
        "postgis://geonode:geonodeDatabasePassword-value%3Awith%2Furl%40chars@geonode-db:5432/geonode")
    assert secret_value(run, django, "BROKER_URL") == (
        "redis://:geonodeBrokerPassword-value%3Awith%2Furl%40chars@geonode-redis:6379/0")


def test_resources_come_from_config_and_size_the_java_heap():
    run = run_program("staging", {"geostack:geonodeGeoserverResources": "1/4Gi/3/8Gi",
                                  "geostack:geonodeDjangoResources": "500m/1Gi/1/1536Mi"})
    found = workloads(run)
    assert found["geonode-geoserver"]["container"]["resources"] == {
        "requests": {"cpu": "1", "memory": "4Gi"}, "limits": {"cpu": "3", "memory": "8Gi"}}
    assert "-Xmx5734m" in found["geonode-geoserver"]["env"]["GEOSERVER_JAVA_OPTS"]  # 70% of 8Gi
    for name in ("geonode-django", "geonode-django-init"):
        assert found[name]["container"]["resources"]["limits"] == {"cpu": "1", "memory": "1536Mi"}
    defaults = workloads(run_program("staging"))
    assert defaults["geonode-db"]["container"]["resources"]["requests"] == {"cpu": "250m", "memory": "512Mi"}


@pytest.mark.parametrize("value", ["2/2Gi", "1/4Gi/500m/8Gi", "1/4Gi/2/1Gi", "a/b/c/d"])
def test_bad_resource_specs_name_the_key(value):
    run = run_program("staging", {"geostack:geonodeCeleryResources": value}, raise_errors=False)
    assert str(run.error) == (f"geostack:geonodeCeleryResources must be requests and limits as cpu/memory/cpu/memory, "
                              f"such as 250m/512Mi/2/2Gi, with limits at least the requests, got {value!r}")


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_a_rollout_needs_spare_cpu_for_django_and_the_init_task_only(runs, stack):
    found = workloads(runs[stack])

    def strategy(name):
        return found[name]["resource"].inputs["spec"]["strategy"]

    # Celery's tasks wait in Redis while a worker restarts: no surge pod; Django keeps serving.
    for name in ("geonode-celery", "geonode-celery-harvester"):
        assert strategy(name)["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}, name
    assert strategy("geonode-django")["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    beat = found["geonode-celery-beat"]["container"]["resources"]
    worker = found["geonode-celery"]["container"]["resources"]
    assert beat["requests"] == {"cpu": "50m", "memory": "256Mi"} and beat["limits"] == worker["limits"]
    # The old Django pod keeps serving while the Service drops it (a 502 on a real cluster without).
    django = found["geonode-django"]
    assert django["container"]["lifecycle"] == {"preStop": {"exec": {"command": ["sleep", "5"]}}}
    assert django["pod"]["terminationGracePeriodSeconds"] == 35


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_secrets_and_config_maps_are_updated_in_place(runs, stack):
    # Replaced, the fixed-name Secrets would take every Deployment that reads them down with them.
    providers = [r for r in runs[stack].resources if r.type == "pulumi:providers:kubernetes"]
    assert providers and all(p.inputs.get("enableSecretMutable") in (True, "true") and
                             p.inputs.get("enableConfigMapMutable") in (True, "true") for p in providers), \
        [p.inputs for p in providers]
