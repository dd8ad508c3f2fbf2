"""GeoNode's daily backup as each target declares it (tests/e2e/test_geonode_backup.py runs it)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pulumi_geostack.geonode.backup import BACKUP_DIR, GEOSERVER_DATA_MOUNT
from pulumi_geostack.targets.docker import daily_loop
from offline.program_run import run_program
from tests.unit.test_geonode import CRONJOB, GEONODE_ON, secret_value, workloads


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_kubernetes_runs_the_backup_as_a_daily_cronjob(stack):
    run = run_program(stack, {"geostack:geonodeBackupTime": "03:15", "geostack:geonodeBackupKeep": "14"})
    (cron_job,) = run.of_type(CRONJOB)
    spec = cron_job.inputs["spec"]
    assert (spec["schedule"], spec["timeZone"], spec["concurrencyPolicy"]) == ("15 3 * * *", "Etc/UTC", "Forbid")
    backup = workloads(run)["geonode-backup"]
    built = run.one("docker:index/image:Image", "geonode-backup-image").inputs
    assert built["build"]["context"] == "docker/backup"
    assert backup["image"].startswith(built["imageName"].rsplit(":", 1)[0] + "@sha256:"), "geostack's backup image"
    assert (backup["container"]["command"], backup["container"]["args"]) == (["sh"], ["/usr/local/bin/geostack-backup.sh"])
    assert backup["env"]["BACKUP_KEEP"] == "14" and backup["env"]["DATABASE_HOST"] == "geonode-db"
    mounts = {m["mountPath"]: m for m in backup["container"]["volumeMounts"]}
    assert mounts[GEOSERVER_DATA_MOUNT].get("readOnly") is True and not mounts[BACKUP_DIR].get("readOnly")
    claims = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in backup["pod"]["volumes"]
              if "persistentVolumeClaim" in v}
    assert claims[mounts[BACKUP_DIR]["name"]] == "geonode-backups"
    for key in ("GEONODE_DATABASE_PASSWORD", "GEONODE_GEODATABASE_PASSWORD"):
        assert key in backup["refs"] and secret_value(run, backup, key), f"{key} comes from the Secret"
    assert backup["pod"]["securityContext"]["runAsNonRoot"] is True
    assert spec["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] == "OnFailure"


def test_docker_runs_the_same_script_in_a_container_that_sleeps_until_the_time():
    run = run_program("dev", {**GEONODE_ON["dev"], "geostack:geonodeBackupTime": "03:15"})
    backup = workloads(run)["geonode-backup"]["inputs"]
    assert backup["entrypoints"] == ["sh", "-c"]
    assert backup["command"] == [daily_loop("03:15", ("sh", "/usr/local/bin/geostack-backup.sh"))]
    assert backup["restart"] == "unless-stopped"
    assert {u["file"] for u in backup["uploads"]} == {"/usr/local/bin/geostack-backup.sh", "/usr/local/bin/geostack-restore.sh",
                                                      "/usr/local/bin/geostack-list-backups.sh"}
    volumes = {v["containerPath"]: v for v in backup["volumes"]}
    assert volumes[BACKUP_DIR]["volumeName"] == "geostack-dev-geonode-backups"


@pytest.mark.parametrize("stack", ["dev", "staging"])
def test_an_empty_backup_time_turns_backups_off(stack):
    run = run_program(stack, {**GEONODE_ON[stack], "geostack:geonodeBackupTime": ""})
    assert "geonode-backup" not in workloads(run)
    assert not [r for r in run.resources if r.name == "geonode-backups"]


@pytest.mark.parametrize("now, expected", [
    ("2026-11-24T01:00:00Z", 4500),   # 01:00 -> 02:15 today
    ("2026-11-24T02:15:00Z", 86400),  # exactly then: the next day, not twice
    ("2026-11-24T23:00:00Z", 11700),  # 23:00 -> 02:15 tomorrow
])
def test_the_docker_loop_sleeps_until_the_next_backup_time(tmp_path: Path, now, expected):
    fake = tmp_path / "bin"
    fake.mkdir()
    epoch = subprocess.run(["date", "-u", "-d", now, "+%s"], capture_output=True, text=True, check=True).stdout.strip()
    (fake / "date").write_text(f"#!/bin/sh\necho {epoch}\n")
    (fake / "sleep").write_text("#!/bin/sh\necho \"slept $1\"\nexit 1\n")  # stops the loop's first round
    for tool in ("date", "sleep"):
        (fake / tool).chmod(0o755)
    loop = daily_loop("02:15", ("true",)).replace("while :; do", "while :; do set -e;")
    done = subprocess.run(["sh", "-c", loop], env={"PATH": f"{fake}:/usr/bin:/bin"}, capture_output=True, text=True)
    assert done.stdout.strip() == f"slept {expected}"


@pytest.mark.parametrize("name", ["BACKUP_SCRIPT", "RESTORE_SCRIPT", "LIST_SCRIPT"])
def test_the_backup_scripts_pass_shellcheck_as_posix_sh(name):
    from pulumi_geostack.geonode import backup as scripts
    from tests.unit.test_shell_scripts import shellcheck

    # SC2012 (use find, not ls) is about odd file names: backups are named by digits and letters.
    checked = subprocess.run([shellcheck(), "--shell=sh", "--exclude=SC2012", "-"], input=getattr(scripts, name), capture_output=True,
                             text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_backup_image_has_the_user_the_backup_runs_as():
    """Docker gives a new volume the owner of the image's directory: that user must be the one the
    backup runs as, or it cannot write its first backup."""
    from pulumi_geostack.geonode.postgis import POSTGRES_UID
    from offline.program_run import PROJECT_ROOT

    dockerfile = (PROJECT_ROOT / "docker" / "backup" / "Dockerfile").read_text()
    assert f"useradd --uid {POSTGRES_UID} --gid {POSTGRES_UID} " in dockerfile
    assert f"chown {POSTGRES_UID}:{POSTGRES_UID} {BACKUP_DIR}" in dockerfile
    assert f"USER {POSTGRES_UID}:{POSTGRES_UID}" in dockerfile
