"""GeoNode on the docker target for real: the dev stack with GeoNode on, deployed on a Docker
engine the way `pulumi up` deploys it (tests/e2e/realizing_mocks.py), and checked through the
published port as a user would check it.

geostack's GeoNode image is built from docker/geonode. PostGIS, Redis and nginx are stand-ins
built from Debian's packages, and GeoServer is an HTTP stand-in (GeoServer cannot be obtained
here); each is labelled `org.geostack.stand-in` (tests/e2e/geonode_on_docker.py). The tests
share one deployment and run in file order; later ones restart and replace its containers.
"""
from __future__ import annotations

import json
import re
import time

import pytest

from offline.loopback import free_port, wait_until
from offline.program_run import PROJECT_ROOT
from tests.e2e.docker_engine import docker_engine, ensure_base_image
from tests.e2e.geonode_on_docker import GeoNodeOnDocker, publish_stand_ins
from tests.e2e.private_registry import private_registry, push_a_new_build
from tests.e2e.s3_server import s3_bucket

pytestmark = pytest.mark.timeout(3000)

FIGURES = PROJECT_ROOT / "build" / "figures" / "docker-geonode.json"
UPLOAD_SIZE_MB = 2
SERVICES = ("geonode-db", "geonode-redis", "geonode-django", "geonode-celery", "geonode-celery-harvester",
            "geonode-celery-beat", "geonode-geoserver", "geonode")
SURVEYOR = ("surveyor", "Surveyor-pass-1234")  # a user the admin creates, to find again later


@pytest.fixture(scope="module")
def geonode():
    with docker_engine() as client, private_registry() as registry:
        ensure_base_image(client)
        images, stand_ins = publish_stand_ins(client, registry)
        print("\nstand-ins: " + json.dumps(stand_ins, indent=1))
        deployment = GeoNodeOnDocker(client, free_port(), {"geostack:geonodeUploadSize": f"{UPLOAD_SIZE_MB}m", **images})
        started = time.monotonic()
        try:
            run = deployment.up()
            assert run.error is None, f"pulumi up failed: {run.error}"
            deployment.realizer.timings["up"] = time.monotonic() - started
            yield deployment
        finally:
            FIGURES.parent.mkdir(parents=True, exist_ok=True)
            FIGURES.write_text(json.dumps({k: round(v, 1) for k, v in deployment.realizer.timings.items()},
                                          indent=1, sort_keys=True) + "\n")
            deployment.realizer.destroy()


def signed_in(geonode: GeoNodeOnDocker, username: str = "admin", password: str | None = None):
    return geonode.browser().sign_in(username, password or geonode.admin_password)


def test_every_service_runs_and_the_init_task_succeeded_once(geonode):
    for name in SERVICES:
        state = geonode.container(name).attrs["State"]
        assert state["Status"] == "running", (name, state)
        assert state.get("Health", {}).get("Status", "healthy") == "healthy", (name, state["Health"])
    init = geonode.container("geonode-django-init").attrs["State"]
    assert (init["Status"], init["ExitCode"]) == ("exited", 0)
    logs = geonode.logs("geonode-django-init")
    assert re.search(r"Applying base\.\w+\.\.\. OK", logs) and "static files copied" in logs, logs[-3000:]
    assert "GeoServer's OAuth2 client and upload limits" in logs, logs[-3000:]
    # Nothing left to migrate: the models and the migrations in the wheel agree.
    check = geonode.container("geonode-django").exec_run(["django-admin", "migrate", "--check", "--noinput"])
    assert check.exit_code == 0, check.output.decode(errors="replace")[-3000:]
    django_log = geonode.logs("geonode-django")
    assert "spawned uWSGI worker" in django_log and "Illegal seek" not in django_log, django_log[:3000]
    assert "celery beat v" in geonode.logs("geonode-celery-beat")
    # geostack's image runs as its own user on a read-only root; the stand-ins are labelled.
    django = geonode.container("geonode-django").attrs
    assert (django["Config"]["User"], django["HostConfig"]["ReadonlyRootfs"]) == ("10002", True)
    for name in ("geonode-db", "geonode-redis", "geonode-geoserver", "geonode"):
        image = geonode.client.images.get(geonode.container(name).attrs["Config"]["Image"])
        assert "org.geostack.stand-in" in image.labels, name


def test_the_admin_signs_in_through_nginx_with_a_csrf_round_trip(geonode):
    browser = signed_in(geonode)
    # Still signed in on the next request (GeoNode signs out users it could not give a
    # GeoServer token), and allowed into Django's admin.
    assert browser.get("/en-us/admin/").status == 200
    me = json.loads(browser.get("/api/v2/users?filter{username}=admin").body)
    assert [user["username"] for user in me["users"]] == ["admin"]
    # The same POST without the CSRF token is refused.
    anonymous = geonode.browser()
    anonymous.get("/account/login/")
    refused = anonymous.request("POST", "/account/login/", b"login=admin&password=x",
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert refused.status == 403


def test_the_rest_api_lists_resources_and_refuses_anonymous_admin_calls(geonode):
    browser = geonode.browser()
    listing = browser.get("/api/v2/resources")
    assert listing.status == 200 and listing.headers["Content-Type"] == "application/json"
    assert {"resources", "total"} <= json.loads(listing.body).keys()
    for path in ("/api/users", "/api/roles", "/api/adminRole"):
        assert browser.get(path).status == 401, path
    # A host the site does not serve is refused, not answered.
    assert browser.get("/", headers={"Host": "evil.example"}).status == 400


def test_static_files_are_served_by_nginx_with_their_types(geonode):
    browser = geonode.browser()
    for path, content_type in (("/static/geonode/css/base.css", "text/css"),
                               ("/static/admin/js/core.js", "application/javascript"),
                               ("/static/rest_framework/fonts/glyphicons-halflings-regular.svg", "image/svg+xml"),
                               ("/static/rest_framework/fonts/glyphicons-halflings-regular.woff2", "font/woff2")):
        answer = browser.get(path)
        assert answer.status == 200 and answer.body, path
        assert answer.headers["Content-Type"].split(";")[0] == content_type, (path, answer.headers["Content-Type"])


def test_an_upload_larger_than_the_limit_is_refused_with_413(geonode):
    browser = signed_in(geonode)
    too_big = b"x" * ((UPLOAD_SIZE_MB + 1) * 2**20)
    answer = browser.request("POST", "/api/v2/uploads/upload", too_big, headers={
        "Content-Type": "application/octet-stream", "X-CSRFToken": browser.cookie("csrftoken"),
        "Origin": geonode.url})
    assert answer.status == 413, answer.status


def celery_round_trip(geonode, queue: str, timeout: int = 120) -> str:
    """Send Celery's built-in `accumulate` task from Django's container through Redis to the
    worker that consumes `queue`, and print the result it sends back."""
    script = ("from geonode.celery_app import app; "
              f"print(app.send_task('celery.accumulate', args=[7, 'seven'], queue='{queue}').get(timeout={timeout}))")
    result = geonode.container("geonode-django").exec_run(["python", "-c", "import django; django.setup(); " + script])
    assert result.exit_code == 0, result.output.decode(errors="replace")[-3000:]
    return result.output.decode().strip().splitlines()[-1]


def test_celery_tasks_run_through_redis_and_their_results_come_back(geonode):
    assert celery_round_trip(geonode, "default") == "[7, 'seven']"
    # Only the harvesting worker consumes this queue.
    assert celery_round_trip(geonode, "harvesting") == "[7, 'seven']"


def test_the_admin_creates_a_user_through_the_admin_site(geonode):
    browser = signed_in(geonode)
    form = browser.get("/en-us/admin/people/profile/add/")
    assert form.status == 200
    username, password = SURVEYOR
    created = browser.submit("/en-us/admin/people/profile/add/",
                             {"username": username, "password1": password, "password2": password}, form)
    assert created.status == 302, created.text[:3000]
    signed_in(geonode, username, password)


def test_a_queued_task_survives_a_redis_restart(geonode):
    worker = geonode.container("geonode-celery")
    worker.stop(timeout=30)
    try:
        django = geonode.container("geonode-django")
        queued = django.exec_run(["python", "-c", "import django; django.setup(); from geonode.celery_app import app; "
                                  "print(app.send_task('celery.accumulate', args=[42], queue='default').id)"])
        assert queued.exit_code == 0, queued.output.decode(errors="replace")[-2000:]
        task_id = queued.output.decode().split()[-1]
        time.sleep(2)  # Redis appends to its file every second
        geonode.container("geonode-redis").restart(timeout=30)
        wait_until(lambda: geonode.container("geonode-redis").attrs["State"].get("Health", {}).get("Status")
                   == "healthy", timeout=120, what="Redis healthy after its restart")
    finally:
        worker.start()
    fetched = django.exec_run(["python", "-c", "import django; django.setup(); from geonode.celery_app import app; "
                               f"print(app.AsyncResult('{task_id}').get(timeout=180))"])
    assert fetched.exit_code == 0, fetched.output.decode(errors="replace")[-2000:]
    assert fetched.output.decode().split()[-1] == "[42]"


def _postgres_accepts(geonode: GeoNodeOnDocker, user: str, password: str, database: str) -> bool:
    """Whether PostgreSQL lets `user` in with `password` over TCP, as Django connects."""
    check = geonode.container("geonode-db").exec_run(
        ["psql", "-h", "127.0.0.1", "-U", user, "-d", database, "-c", "SELECT 1"], environment={"PGPASSWORD": password})
    return check.exit_code == 0


OAUTH_CLIENT_ID = ("from django.conf import settings; from oauth2_provider.models import get_application_model; "
                   "print(get_application_model().objects.get(name=settings.OAUTH2_DEFAULT_BACKEND_CLIENT_NAME)"
                   ".client_id)")


def test_data_survives_restarts_and_an_up_that_changes_settings_and_credentials(geonode):
    for name in ("geonode-db", "geonode-django"):
        geonode.container(name).restart(timeout=30)
    wait_until(lambda: geonode.container("geonode-django").attrs["State"]["Health"]["Status"] == "healthy",
               timeout=300, what="Django healthy after a restart")
    signed_in(geonode, *SURVEYOR)
    # One `up` changes what a later deploy must apply to an existing site: the admin's e-mail
    # (environment of Django, Celery and the init task, which it replaces), the three database
    # passwords (PostGIS reads them only when it creates the database), GeoServer's OAuth2 client,
    # and the upload size (GeoNode copied it into its database once).
    passwords = {"geonodePostgresPassword": ("postgres", "postgres"), "geonodeDatabasePassword": ("geonode", "geonode"),
                 "geonodeGeodatabasePassword": ("geonode_data", "geonode_data")}
    new = {key: f"changed-{key}-{time.monotonic_ns()}" for key in (*passwords, "geonodeOauthClientId",
                                                                     "geonodeOauthClientSecret")}
    before = {name: geonode.realizer.containers[name] for name in ("geonode-django", "geonode-django-init")}
    run = geonode.up(secrets=new, geonodeAdminEmail="maps-admin@example.org",
                     geonodeUploadSize=f"{UPLOAD_SIZE_MB + 1}m")
    assert run.error is None, run.error
    for name, old in before.items():
        assert geonode.realizer.containers[name] != old, f"{name} was not replaced"
    init = geonode.logs("geonode-django-init")
    assert "No migrations to apply." in init and "Applying" not in init, init[-3000:]
    for key, (user, database) in passwords.items():
        assert _postgres_accepts(geonode, user, new[key], database), f"{key}: the new password does not log {user} in"
    assert not _postgres_accepts(geonode, "postgres", "not-the-password", "postgres")
    signed_in(geonode, *SURVEYOR)  # Django reaches the same data with its new password
    admin = signed_in(geonode)
    me = json.loads(admin.get("/api/v2/users?filter{username}=admin").body)
    assert me["users"][0]["email"] == "maps-admin@example.org"
    limits = json.loads(admin.get("/api/v2/upload-size-limits").body)["upload-size-limits"]
    sizes = {limit["slug"]: limit["max_size"] for limit in limits}
    expected = (UPLOAD_SIZE_MB + 1) * 2**20
    assert {sizes[slug] for slug in ("dataset_upload_size", "document_upload_size", "asset_upload_size")} == {expected}
    client = geonode.container("geonode-django").exec_run(["django-admin", "shell", "-c", OAUTH_CLIENT_ID])
    assert client.output.decode().split()[-1] == new["geonodeOauthClientId"], client.output.decode()[-2000:]


def _sql(geonode: GeoNodeOnDocker, database: str, sql: str) -> str:
    """SQL as postgres over the db container's local socket."""
    result = geonode.container("geonode-db").exec_run(
        ["psql", "-h", "/var/run/postgresql", "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-tAc", sql])
    assert result.exit_code == 0, result.output.decode(errors="replace")
    return result.output.decode().strip()


def test_postgresql_runs_with_the_limit_the_connection_count_was_checked_against(geonode):
    assert _sql(geonode, "postgres", "SHOW max_connections") == "200"  # geonodeDatabaseMaxConnections' default
    # With everything up and idle, the clients hold far fewer than the 47 counted at their most.
    held = int(_sql(geonode, "postgres", "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"))
    assert 0 < held <= 47


def test_an_upstream_push_changes_nothing_until_the_stack_asks_to_move(geonode):
    reference = geonode.config["geostack:geonodeGeoserverImage"]  # <registry>/geonode/geoserver:2.28.4-latest
    held = geonode.container("geonode-geoserver").attrs["Config"]["Image"]
    assert re.fullmatch(re.escape(reference) + r"@sha256:[0-9a-f]{64}", held), held
    container_id = geonode.realizer.containers["geonode-geoserver"]
    name, tag = reference.rsplit(":", 1)
    moved = push_a_new_build(geonode.client, name, tag)  # upstream pushes another image under the tag
    assert moved.split("@")[1] != held.split("@")[1]
    run = geonode.up()
    assert run.error is None, run.error
    assert geonode.realizer.containers["geonode-geoserver"] == container_id, "an unchanged stack replaced GeoServer"
    assert geonode.container("geonode-geoserver").attrs["Config"]["Image"] == held
    run = geonode.up(geonodeImageRefresh="moved-on")  # the user asks to move
    assert run.error is None, run.error
    assert geonode.container("geonode-geoserver").attrs["Config"]["Image"] == f"{reference}@{moved.split('@')[1]}"
    assert geonode.container("geonode-geoserver").attrs["State"]["Health"]["Status"] == "healthy"


def _run_backup(geonode: GeoNodeOnDocker, **env: str) -> str:
    """The script the program uploads into the backup container, run as its daily loop runs it."""
    result = geonode.container("geonode-backup").exec_run(["sh", "/usr/local/bin/geostack-backup.sh"], environment=env)
    output = result.output.decode(errors="replace")
    assert result.exit_code == 0, output
    return re.search(r"^backup (\d{8}T\d{6}Z): ", output, re.MULTILINE).group(1)


PARCEL = "POLYGON((0 0,1 0,1 1,0 0))"


def test_a_backup_by_the_declared_script_restores_with_the_documented_command(geonode):
    backup = geonode.container("geonode-backup")
    assert backup.attrs["State"]["Status"] == "running", "the daily loop sleeps until its time"
    _sql(geonode, "geonode", "SET ROLE geonode; CREATE TABLE geostack_marker AS SELECT 'kept'::text AS value")
    _sql(geonode, "geonode_data", "SET ROLE geonode_data; CREATE TABLE geostack_parcels AS "
                                  f"SELECT 1 AS id, ST_GeomFromText('{PARCEL}', 4326) AS geom")
    stamp = _run_backup(geonode)
    listing = backup.exec_run(["ls", f"/var/lib/postgresql/data/{stamp}"]).output.decode().split()
    assert listing == ["geonode.dump", "geonode_data.dump", "geoserver-data.tar.gz"]
    geoserver_files = backup.exec_run(["tar", "-tzf", f"/var/lib/postgresql/data/{stamp}/geoserver-data.tar.gz"])
    assert "./global.xml" in geoserver_files.output.decode().split()

    # Lost: a table in each database, and a user GeoNode made.
    _sql(geonode, "geonode", "DROP TABLE geostack_marker")
    _sql(geonode, "geonode_data", "DROP TABLE geostack_parcels")
    _sql(geonode, "geonode", "UPDATE people_profile SET password = 'lost' WHERE username = 'surveyor'")
    restored = backup.exec_run(["sh", "/usr/local/bin/geostack-restore.sh", stamp])  # docs/operations.md: "Backups and restore"
    assert restored.exit_code == 0, restored.output.decode(errors="replace")
    assert _sql(geonode, "geonode", "SELECT value FROM geostack_marker") == "kept"
    assert _sql(geonode, "geonode_data", "SELECT id, ST_AsText(geom) FROM geostack_parcels") == f"1|{PARCEL}"
    signed_in(geonode, *SURVEYOR)  # GeoNode's own tables are whole again

    time.sleep(1.1)  # backups are named by the second
    newest = _run_backup(geonode, BACKUP_KEEP="1")
    assert backup.exec_run(["ls", "/var/lib/postgresql/data"]).output.decode().split() == [newest]


def test_a_backup_reaches_the_configured_bucket_and_a_restore_takes_it_from_there(geonode):
    with s3_bucket() as bucket:
        run = geonode.up(geonodeBackupBucket=f"{bucket.name}/dev", geonodeBackupBucketEndpoint=bucket.endpoint,
                         geonodeBackupBucketAccessKeyId=bucket.access_key_id, geonodeBackupBucketKeep="1",
                         secrets={"geonodeBackupBucketSecretAccessKey": bucket.secret_access_key})
        assert run.error is None, run.error
        _sql(geonode, "geonode", "SET ROLE geonode; CREATE TABLE geostack_offsite AS SELECT 'off-site'::text AS value")
        first = _run_backup(geonode)
        time.sleep(1.1)  # backups are named by the second
        stamp = _run_backup(geonode)
        # Keep 1 in the bucket: only the newest backup, each of its files and its manifest.
        assert bucket.keys() == [f"dev/{stamp}/{name}" for name in (
            "MANIFEST.json", "geonode.dump", "geonode_data.dump", "geoserver-data.tar.gz")], first

        # The engine's copy is lost too: the volume is emptied, and the table dropped.
        backup = geonode.container("geonode-backup")
        assert backup.exec_run(["sh", "-c", "rm -rf /var/lib/postgresql/data/*"]).exit_code == 0
        _sql(geonode, "geonode", "DROP TABLE geostack_offsite")
        restored = backup.exec_run(["sh", "/usr/local/bin/geostack-restore.sh", stamp])  # the documented command
        output = restored.output.decode(errors="replace")
        assert restored.exit_code == 0, output
        assert f"downloaded {stamp} from s3://{bucket.name}/dev/{stamp}/" in output
        assert _sql(geonode, "geonode", "SELECT value FROM geostack_offsite") == "off-site"
        signed_in(geonode)


def test_a_failing_migration_fails_up_naming_the_task(geonode):
    db = geonode.container("geonode-db")
    # Forget that a migration ran, so the init task applies it again and fails on its existing table.
    forget = "DELETE FROM django_migrations WHERE app = 'favorite' AND name = '0001_initial'"
    assert db.exec_run(["psql", "-U", "postgres", "-d", "geonode", "-c", forget]).exit_code == 0
    django_before = geonode.realizer.containers["geonode-django"]
    run = geonode.up(geonodeAdminEmail="someone-else@example.org")
    assert run.error is not None
    assert "task geonode-django-init exited with code 1" in str(run.error), run.error
    assert "docker logs geostack-dev-geonode-django-init" in str(run.error)
    # Django, which waits for the task, was not replaced and still serves the site.
    assert geonode.realizer.containers["geonode-django"] == django_before
    assert geonode.browser().get("/").status == 200
    assert "already exists" in geonode.logs("geonode-django-init")
