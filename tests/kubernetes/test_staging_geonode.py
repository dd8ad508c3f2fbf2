"""GeoNode on the real two-node Kubernetes, deployed by `pulumi up` of the staging stack with
the real CLI and kubernetes provider, and checked as a user would: the stack starts at the
previous GeoNode release and its first test moves it to the current one under steady page
requests (docs/operations.md: Upgrading GeoNode); then every service Ready under
the namespace's Pod Security level, the admin signs in through GeoNode's nginx Service, a
changed credential rolls exactly its readers without taking the site down, a changed storage
class leaves the claims alone, and destroy keeps the data for the next `up`.

Django, Celery and the init task run geostack's GeoNode image, which the test pushes to the
cluster's registry and hands over by digest (geonodeImage), as a CI that builds images does;
the backup's image (geonodeBackupImage) likewise. Backups also go to an S3 bucket on moto's
server, which runs on this host (tests/e2e/s3_server.py).
PostGIS, Redis, nginx and GeoServer are the labelled stand-ins of the Docker test, pushed the
same way and named with their config keys (images.py). The claims use the cluster's
`microk8s-hostpath` class (tests/cluster/hostpath_storage.py). `pulumi up` waits for every
Deployment, Job and Service as usual; only the Ingress is not awaited, because the cluster has
no ingress controller to publish its address (skip_ingress_await_main.py), so the site is
reached through the nginx Service the Ingress points at.

All ten GeoNode credentials are set with `pulumi config set --secret`, so nothing needs the
pulumi-random plugin, which no reachable source serves (toolchain/README.md).
"""
from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from pulumi_geostack.config_keys import GEONODE_RELEASES
from pulumi_geostack.geonode.backup import SCRIPTS_DIR
from offline.loopback import wait_until
from offline.program_run import PROJECT_ROOT, run_program
from offline.render import kubernetes_objects
from tests.cluster.local_cluster import LocalCluster
from tests.e2e.browser import Browser
from tests.e2e.geonode_records import check_records, make_records
from tests.e2e.private_registry import push_a_new_build
from tests.e2e.s3_server import s3_bucket
from tests.engine.workspace import Workspace
from tests.kubernetes.live_objects import record, render_mismatches
from tests.kubernetes.network_probe import Probe, connects
from tests.kubernetes.rollouts import assert_rollouts_done
from tests.kubernetes.steady_load import SteadyLoad

pytestmark = pytest.mark.timeout(1800)
ENTRY_POINT = Path(__file__).with_name("skip_ingress_await_main.py")
CREDENTIALS = ("geonodeSecretKey", "geonodeAdminPassword", "geonodeGeoserverAdminPassword", "geonodePostgresPassword",
               "geonodeDatabasePassword", "geonodeGeodatabasePassword", "geonodeBrokerPassword",
               "geonodeOauthClientId", "geonodeOauthClientSecret", "geonodeApiKey")


@dataclass
class GeoNodeStaging:
    workspace: Workspace
    cluster: LocalCluster
    config: dict[str, str]
    credentials: dict[str, str]
    namespace: str

    def declared(self) -> list[dict]:
        """The objects the product declares for this config, as offline.render prints them."""
        return kubernetes_objects(run_program(
            "staging", {f"geostack:{k}": v for k, v in self.config.items()},
            secrets={f"geostack:{k}": v for k, v in self.credentials.items()}))

    def live(self, kind: str) -> list[dict]:
        return json.loads(self.cluster.kubectl("get", kind, "-n", self.namespace, "-o", "json").stdout)["items"]

    def browser(self) -> Browser:
        """A browser that names the site by its host and reaches it at GeoNode's nginx Service."""
        service = next(s for s in self.live("services") if s["metadata"]["name"] == "geonode")
        address = f"{service['spec']['clusterIP']}:{service['spec']['ports'][0]['port']}"
        return Browser(f"http://{self.config['geonodeSiteHost']}", address=address)

    def signed_in(self) -> Browser:
        return self.browser().sign_in("admin", self.credentials["geonodeAdminPassword"])

    def django_shell(self, source: str) -> str:
        return self.cluster.kubectl("exec", "-n", self.namespace, "deployment/geonode-django", "--",
                                    "django-admin", "shell", "-c", source, timeout=300).stdout


@pytest.fixture(scope="module")
def bucket():
    with s3_bucket() as made:
        yield made


@pytest.fixture(scope="module")
def geonode(cluster, images, bucket, tmp_path_factory):
    workspace = Workspace(tmp_path_factory.mktemp("staging-geonode"))
    (workspace.project / "__main__.py").rename(workspace.project / "geostack_main.py")
    shutil.copy(ENTRY_POINT, workspace.project / "__main__.py")
    workspace.select("staging")
    config = {
        "microk8sKubeconfig": str(cluster.kubeconfig),
        "microk8sContext": "geostack-test",
        "kubernetesWaitImage": images.wait_stand_in,
        # geostack's GeoNode image, pushed by the test: no pulumi-docker here to build it. The
        # stack starts at the previous release; the first test moves it to the current one.
        "geonodeImage": images.geonode_previous,
        "geonodeBackupImage": images.backup,
        **images.geonode_stand_ins,
        # by its mutable tag, as upstream publishes it: held at the digest resolved at the first up
        "geonodeGeoserverImage": images.geoserver_by_tag,
        "qgisEnabled": "false",
        "kubernetesNamespace": "geostack-staging-geonode",
        "geonodeSiteHost": "geonode.staging.internal",  # Pulumi.staging.yaml's, set again for the browser
        "geonodeBackupBucket": f"{bucket.name}/staging",
        "geonodeBackupBucketEndpoint": bucket.endpoint,
        "geonodeBackupBucketAccessKeyId": bucket.access_key_id,
    }
    credentials = {key: secrets.token_urlsafe(24) for key in CREDENTIALS}
    credentials["geonodeBackupBucketSecretAccessKey"] = bucket.secret_access_key
    for key, value in config.items():
        workspace.ok("config", "set", f"geostack:{key}", value)
    for key, value in credentials.items():
        workspace.ok("config", "set", "--secret", f"geostack:{key}", stdin=value)  # off the command line
    try:
        started = time.monotonic()
        workspace.ok("up", "--yes", "--skip-preview", timeout=1800)
        record(geonode_up_s=round(time.monotonic() - started))
        assert_rollouts_done(cluster, config["kubernetesNamespace"])
        yield GeoNodeStaging(workspace, cluster, config, credentials, config["kubernetesNamespace"])
    finally:
        workspace.run("destroy", "--yes", "--skip-preview")
        # destroy keeps the namespace that holds the claims; deleting it is how data really goes.
        cluster.kubectl("delete", "namespace", config["kubernetesNamespace"], "--ignore-not-found", "--wait=true",
                        "--timeout=180s", check=False)


def _ready(workload: dict) -> bool:
    status = workload.get("status", {})
    if workload["kind"] == "Job":
        return status.get("succeeded", 0) >= 1
    return status.get("readyReplicas", 0) == workload["spec"]["replicas"] == status.get("updatedReplicas", 0)


def _running_geonode(geonode: GeoNodeStaging) -> str:
    return geonode.django_shell("import importlib.metadata as m; print(m.version('geonode'))").split()[-1]


def test_an_upgrade_to_the_current_release_keeps_everything_and_the_site_answers_throughout(geonode, images):
    assert _running_geonode(geonode) == GEONODE_RELEASES["5.0"]
    records = make_records(geonode.signed_in(), geonode.django_shell)
    geonode.workspace.ok("config", "set", "geostack:geonodeImage", images.geonode)  # docs/operations.md: Upgrading GeoNode
    geonode.config["geonodeImage"] = images.geonode
    started = time.monotonic()
    with SteadyLoad(home_page(geonode.browser()), pause_s=0.2) as load:
        geonode.workspace.ok("up", "--yes", "--skip-preview", timeout=1800)
        assert_rollouts_done(geonode.cluster, geonode.namespace)
    record(geonode_upgrade_s=round(time.monotonic() - started), geonode_upgrade_requests=load.total,
           geonode_upgrade_failed=len(load.failed))
    assert load.failed == [] and load.total > 100, (load.total, load.failed[:5])
    assert _running_geonode(geonode) == GEONODE_RELEASES["5.1"]
    # The migrations ran once, in the init Job, which finished before any new Django pod started.
    (job,) = [j for j in geonode.live("jobs") if j["metadata"]["name"].startswith("geonode-django-init")]
    assert job["status"].get("succeeded") == 1, job["status"]
    django_pods = [p for p in geonode.live("pods") if p["metadata"]["name"].startswith("geonode-django-")
                   and not p["metadata"]["name"].startswith("geonode-django-init")
                   and "deletionTimestamp" not in p["metadata"]]  # old pods still shutting down
    assert django_pods and all(p["spec"]["containers"][0]["image"] == images.geonode for p in django_pods)
    assert all(job["status"]["completionTime"] <= p["metadata"]["creationTimestamp"] for p in django_pods), \
        (job["status"]["completionTime"], [p["metadata"]["creationTimestamp"] for p in django_pods])
    migrated = geonode.cluster.kubectl("exec", "-n", geonode.namespace, "deployment/geonode-django", "--",
                                       "django-admin", "migrate", "--check", "--noinput", check=False, timeout=300)
    assert migrated.returncode == 0, migrated.stdout[-3000:] + migrated.stderr[-3000:]
    check_records(geonode.signed_in(), records, geonode.browser)
    geonode.workspace.ok("preview", "--expect-no-changes")


def test_every_geonode_service_is_ready_after_up(geonode):
    # `pulumi up` itself waited for them; this checks what it waited for, as a user would.
    declared = {(m["kind"], m["metadata"]["name"]) for m in geonode.declared() if m["kind"] in ("Deployment", "Job")}
    live = {(w["kind"], w["metadata"]["name"]): w for kind in ("deployments", "jobs") for w in geonode.live(kind)}
    assert {"geonode-db", "geonode-redis", "geonode-django", "geonode-celery", "geonode-celery-harvester",
            "geonode-celery-beat", "geonode-geoserver", "geonode"} <= {name for kind, name in declared}
    assert set(live) == declared
    assert [key for key, workload in live.items() if not _ready(workload)] == []
    refused = [e["message"] for e in geonode.live("events") if e["reason"] == "FailedCreate"]
    assert refused == [], refused


def test_geostacks_own_image_meets_the_restricted_pod_security_standard(geonode):
    """The namespace enforces "baseline" because GeoServer's image runs as root; every pod of
    geostack's GeoNode image (Django, Celery, the init task) and of the other services is
    admitted by a "restricted" namespace too (a server-side dry run there)."""
    namespace = json.loads(geonode.cluster.kubectl("get", "namespace", geonode.namespace, "-o", "json").stdout)
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    probe = "geostack-restricted-probe"
    geonode.cluster.kubectl("create", "namespace", probe)
    refused = {}
    try:
        geonode.cluster.kubectl("label", "namespace", probe, "pod-security.kubernetes.io/enforce=restricted")
        # Pods name the namespace's default service account, which its controller creates shortly after.
        wait_until(lambda: geonode.cluster.kubectl("get", "serviceaccount", "default", "-n", probe,
                                                   check=False).returncode == 0, 60, "the probe's service account")
        for pod in geonode.live("pods"):
            app = pod["metadata"]["labels"]["app.kubernetes.io/name"]
            copy = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod["metadata"]["name"], "namespace": probe},
                    "spec": {k: v for k, v in pod["spec"].items() if k not in ("nodeName",)}}
            admitted = geonode.cluster.kubectl("create", "--dry-run=server", "-f", "-", input=json.dumps(copy),
                                               check=False)
            if admitted.returncode != 0:
                refused[app] = admitted.stderr.strip()
    finally:
        geonode.cluster.kubectl("delete", "namespace", probe, "--wait=false")
    assert set(refused) == {"geonode-geoserver", "geonode-geoserver-data-init"}, refused
    record(geonode_pod_security_enforce="baseline", geonode_not_restricted=sorted(refused))


def test_only_geonodes_own_services_reach_postgis_and_redis(geonode, images):
    """The policies of the database and the broker, enforced by the cluster's kube-router:
    probes labelled as the stack's pods connect or are refused as the policy names them."""
    def reaches(app: str, host: str, port: int) -> Probe:
        labels = {"app.kubernetes.io/name": app, "app.kubernetes.io/instance": "staging"}
        return connects(geonode.cluster, geonode.namespace, labels, images.wait_stand_in, host, port)
    for allowed in (reaches("geonode-django", "geonode-db", 5432), reaches("geonode-celery", "geonode-redis", 6379)):
        assert allowed.connected, allowed.log
    # GeoNode's nginx may not reach PostGIS, nor GeoServer Redis.
    for refused in (reaches("geonode", "geonode-db", 5432), reaches("geonode-geoserver", "geonode-redis", 6379)):
        assert not refused.connected, refused.log


def test_the_admin_signs_in_through_the_nginx_service(geonode):
    browser = geonode.signed_in()
    me = json.loads(browser.get("/api/v2/users?filter{username}=admin").body)["users"][0]
    assert me["is_superuser"] is True
    assert browser.get("/en-us/admin/").status == 200
    assert geonode.browser().get("/api/users").status == 401
    css = geonode.browser().get("/static/geonode/css/base.css")
    assert css.status == 200 and css.headers["Content-Type"].startswith("text/css")


def test_geonode_credentials_live_only_in_secrets_and_encrypted_state(geonode):
    outside = json.dumps([geonode.live(kind) for kind in ("deployments", "jobs", "pods", "configmaps", "services")])
    inside = " ".join(base64.b64decode(value).decode() for secret in geonode.live("secrets")
                      for value in (secret.get("data") or {}).values())
    state = geonode.workspace.ok("stack", "export")
    assert [key for key, value in geonode.credentials.items() if value in outside] == []
    assert [key for key, value in geonode.credentials.items() if value in state] == []
    assert [key for key, value in geonode.credentials.items() if value not in inside] == [], \
        "every configured credential reaches a Secret"


def home_page(browser: Browser):
    """GeoNode's home page through nginx."""
    def request(count: int) -> tuple[int, bytes]:
        response = browser.get("/", timeout=30)
        return response.status, response.body
    return request


def test_changing_a_credential_rolls_exactly_its_readers_while_the_site_answers(geonode):
    def secret_versions() -> dict[str, str]:
        return {f"{w['kind']}/{w['metadata']['labels']['app.kubernetes.io/name']}":
                w["spec"]["template"]["metadata"].get("annotations", {}).get("geostack/secret-version")
                for kind in ("deployments", "jobs") for w in geonode.live(kind)}

    before = secret_versions()
    deployment_uids = {d["metadata"]["name"]: d["metadata"]["uid"] for d in geonode.live("deployments")}
    new_key = secrets.token_urlsafe(40)
    geonode.workspace.ok("config", "set", "--secret", "geostack:geonodeSecretKey", stdin=new_key)
    geonode.credentials["geonodeSecretKey"] = new_key
    started = time.monotonic()
    with SteadyLoad(home_page(geonode.browser()), pause_s=0.2) as load:
        geonode.workspace.ok("up", "--yes", "--skip-preview", timeout=1800)
        assert_rollouts_done(geonode.cluster, geonode.namespace)
    record(geonode_credential_rollout_s=round(time.monotonic() - started),
           geonode_rollout_requests=load.total, geonode_rollout_failed=len(load.failed))
    after = secret_versions()
    rolled = {name for name in before if before[name] != after.get(name)}
    # Django's SECRET_KEY is read by Django, the three Celery processes and the init task, and nothing else.
    assert rolled == {"Deployment/geonode-django", "Deployment/geonode-celery", "Deployment/geonode-celery-harvester",
                      "Deployment/geonode-celery-beat", "Job/geonode-django-init"}, rolled
    # Rolled in place, not deleted and created again (which took the whole site down at once).
    assert {d["metadata"]["name"]: d["metadata"]["uid"] for d in geonode.live("deployments")} == deployment_uids
    assert load.ok > 20, f"too little load to judge the rollout: {load.ok} requests"
    assert load.failed == [], f"{len(load.failed)} of {load.total} requests failed: {load.failed[:5]}"
    geonode.signed_in()  # the admin and the database came through the rollout


def test_preview_right_after_up_shows_no_changes(geonode):
    geonode.workspace.ok("preview", "--expect-no-changes")


def test_an_upstream_push_changes_nothing_until_the_stack_asks_to_move(geonode, engine):
    reference = geonode.config["geonodeGeoserverImage"]  # localhost:32000/geonode/geoserver:2.28.4-latest

    def running() -> str:
        (deployment,) = [d for d in geonode.live("deployments")
                         if d["metadata"]["labels"]["app.kubernetes.io/name"] == "geonode-geoserver"]
        return deployment["spec"]["template"]["spec"]["containers"][0]["image"]

    held = running()
    assert re.fullmatch(re.escape(reference) + r"@sha256:[0-9a-f]{64}", held), held
    name, tag = reference.rsplit(":", 1)
    moved = push_a_new_build(engine, name, tag)  # upstream pushes another image under the same tag
    assert moved.split("@")[1] != held.split("@")[1]
    geonode.workspace.ok("preview", "--expect-no-changes")
    geonode.workspace.ok("up", "--yes", "--skip-preview", timeout=1800)
    assert running() == held
    geonode.workspace.ok("config", "set", "geostack:geonodeImageRefresh", "moved-on")  # the user asks to move
    geonode.config["geonodeImageRefresh"] = "moved-on"
    geonode.workspace.ok("up", "--yes", "--skip-preview", timeout=1800)
    assert_rollouts_done(geonode.cluster, geonode.namespace)
    assert running() == f"{reference}@{moved.split('@')[1]}"
    geonode.workspace.ok("preview", "--expect-no-changes")


def test_offline_render_matches_what_the_api_server_stored(geonode):
    mismatches = render_mismatches(geonode.cluster, geonode.config, geonode.credentials)
    assert mismatches == [], "\n".join(mismatches)


def documented_kubernetes_commands() -> list[str]:
    """The operations page's Kubernetes backup and restore commands, continuation lines joined."""
    page = (PROJECT_ROOT / "docs" / "operations.md").read_text()
    block = page.split("# staging and prod (Kubernetes)", 1)[1].split("\n", 1)[1].split("```", 1)[0]
    return [command.strip() for command in block.replace("\\\n", " ").strip().splitlines()]


def _run_documented(geonode: GeoNodeStaging, command: str, stamp: str = "") -> str:
    command = command.replace("geostack-staging", geonode.namespace)
    if stamp:
        command = command.replace("20261124T020000Z", stamp)
    env = {**os.environ, "KUBECONFIG": str(geonode.cluster.kubeconfig),
           "PATH": f"{geonode.cluster.bin_dir}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-o", "pipefail", "-c", command], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, f"{command}\n{done.stdout}{done.stderr}"
    return done.stdout


def _completed_log(geonode: GeoNodeStaging, job: str) -> str:
    geonode.cluster.kubectl("wait", "-n", geonode.namespace, "--for=condition=complete", f"job/{job}",
                            "--timeout=300s", timeout=320)
    return geonode.cluster.kubectl("logs", "-n", geonode.namespace, f"job/{job}").stdout


def _record_tries(geonode: GeoNodeStaging, job: str) -> None:
    """The number of tries the Job's container took, and how the one before the last ended, go to
    the figures: a restore that needed two shows there, with the earlier try's log if the kubelet
    still has it."""
    (pod,) = json.loads(geonode.cluster.kubectl("get", "pods", "-n", geonode.namespace, "-l", f"job-name={job}",
                                                "-o", "json").stdout)["items"]
    status, key = pod["status"]["containerStatuses"][0], f"geonode_{job.replace('-', '_')}"
    record(**{f"{key}_tries": status["restartCount"] + 1})
    if status["restartCount"]:
        earlier = geonode.cluster.kubectl("logs", "-n", geonode.namespace, pod["metadata"]["name"], "--previous",
                                          check=False)
        record(**{f"{key}_earlier_try": {"ended": status.get("lastState", {}).get("terminated"),
                                         "log": earlier.stdout + earlier.stderr}})


def _run_on_the_backup_volume(geonode: GeoNodeStaging, job: str, script: str) -> str:
    """A Job made from the backup's CronJob, as the documented commands make theirs, that runs `script`."""
    manifest = json.loads(geonode.cluster.kubectl("create", "job", job, "--from=cronjob/geonode-backup", "-n",
                                                  geonode.namespace, "--dry-run=client", "-o", "json").stdout)
    manifest["spec"]["template"]["spec"]["containers"][0]["args"] = ["-c", script]
    geonode.cluster.kubectl("apply", "-n", geonode.namespace, "-f", "-", input=json.dumps(manifest))
    return _completed_log(geonode, job)


def _backups_on_the_volume(geonode: GeoNodeStaging, job: str) -> list[str]:
    listed = _run_on_the_backup_volume(geonode, job, f"sh {SCRIPTS_DIR}/geostack-list-backups.sh")
    return re.search(r"^on the volume:(.*)$", listed, re.MULTILINE).group(1).split()


def test_the_documented_backup_and_restore_commands_work_on_the_cluster(geonode, bucket):
    backup_now, restore_now, logs = documented_kubernetes_commands()
    _psql(geonode, "SET ROLE geonode; CREATE TABLE geostack_backup_marker AS SELECT 'kept'::text AS value")
    _run_documented(geonode, backup_now)
    stamp = re.search(r"^backup (\d{8}T\d{6}Z): ", _completed_log(geonode, "backup-now"), re.MULTILINE).group(1)
    assert f"staging/{stamp}/MANIFEST.json" in bucket.keys(), "each backup also goes to the bucket"
    _psql(geonode, "DROP TABLE geostack_backup_marker")
    _run_on_the_backup_volume(geonode, "wipe-backups", "rm -rf /var/lib/postgresql/data/*")  # the cluster's copy
    assert _backups_on_the_volume(geonode, "list-wiped") == []
    _run_documented(geonode, restore_now, stamp)
    _completed_log(geonode, "restore-now")
    restored = _run_documented(geonode, logs)
    # The Job restarts a failed try (restartPolicy OnFailure; each database is put back in one
    # transaction, so a failed try changes nothing), and a retry finds the backup an earlier try
    # downloaded: the volume, emptied above, shows the download whichever try made it.
    _record_tries(geonode, "restore-now")
    assert _backups_on_the_volume(geonode, "list-restored") == [stamp]
    assert f"restored both databases from {stamp}" in restored
    assert _psql(geonode, "SELECT value FROM geostack_backup_marker") == "kept"
    geonode.signed_in()


def test_a_changed_storage_class_leaves_the_claims_and_their_data_alone(geonode):
    # The class of an existing claim cannot change: the provider would replace the claim with an
    # empty one. The program keeps existing claims as they are instead.
    geonode.workspace.ok("config", "set", "geostack:microk8sStorageClass", "another-class")
    try:
        geonode.workspace.ok("preview", "--expect-no-changes", "--diff")
    finally:
        geonode.workspace.ok("config", "rm", "geostack:microk8sStorageClass")


def _psql(geonode: GeoNodeStaging, sql: str) -> str:
    """SQL in GeoNode's database, as postgres over the db container's local socket."""
    return geonode.cluster.kubectl("exec", "-n", geonode.namespace, "deployment/geonode-db", "--", "psql", "-h",
                                   "/var/run/postgresql", "-U", "postgres", "-d", "geonode", "-v", "ON_ERROR_STOP=1",
                                   "-tAc", sql).stdout.strip()


def test_destroy_keeps_the_data_and_the_next_up_finds_it_again(geonode):
    marker = secrets.token_hex(8)
    _psql(geonode, f"CREATE TABLE geostack_marker (value text); INSERT INTO geostack_marker VALUES ('{marker}')")
    claims = {c["metadata"]["name"]: c["metadata"]["uid"] for c in geonode.live("persistentvolumeclaims")}
    assert len(claims) == 6, claims  # with the backups

    geonode.workspace.ok("destroy", "--yes", "--skip-preview", timeout=900)
    assert geonode.workspace.resource_types("staging") == []
    namespace = json.loads(geonode.cluster.kubectl("get", "namespace", geonode.namespace, "-o", "json").stdout)
    assert namespace["status"]["phase"] == "Active"
    assert {c["metadata"]["name"]: c["metadata"]["uid"] for c in geonode.live("persistentvolumeclaims")} == claims
    for kind in ("deployments", "jobs", "services", "secrets", "networkpolicies"):
        assert geonode.live(kind) == [], f"destroy left {kind}"

    started = time.monotonic()
    geonode.workspace.ok("up", "--yes", "--skip-preview", timeout=1800)
    record(geonode_up_over_kept_data_s=round(time.monotonic() - started))
    assert {c["metadata"]["name"]: c["metadata"]["uid"] for c in geonode.live("persistentvolumeclaims")} == claims
    assert _psql(geonode, "SELECT value FROM geostack_marker") == marker
    geonode.signed_in()
