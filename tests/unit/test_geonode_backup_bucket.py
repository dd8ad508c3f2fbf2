"""The off-site copy of GeoNode's backups as each target declares it, and the config that is refused.
(tests/e2e/test_backup_bucket.py runs geostack-bucket against a real S3 server; the Docker and
cluster GeoNode suites upload and restore through the deployed stack.)"""
from __future__ import annotations

import pytest

from pulumi_geostack.geonode.backup import IRSA_ANNOTATION
from offline.program_run import run_program
from tests.unit.test_geonode import GEONODE_ON, secret_value, workloads

BUCKET = {"geostack:geonodeBackupBucket": "geostack-backups/geonode/prod"}
KEYS = {"geostack:geonodeBackupBucketAccessKeyId": "AKIAEXAMPLEBACKUP01"}
SECRET = {"geostack:geonodeBackupBucketSecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
ROLE = {"geostack:geonodeBackupBucketRoleArn": "arn:aws:iam::123456789012:role/geonode-backup"}
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"


def error_of(stack: str, overrides: dict[str, str], secrets: dict[str, str] | None = None) -> str:
    run = run_program(stack, {**GEONODE_ON[stack], **overrides}, secrets=secrets, raise_errors=False)
    assert run.error is not None, f"{stack} accepted {overrides}"
    assert not run.resources, "refused before anything is declared"
    return str(run.error)


@pytest.mark.parametrize("stack", ["dev", "staging"])
def test_access_keys_reach_the_backup_as_secrets_with_the_bucket_settings(stack):
    run = run_program(stack, {**GEONODE_ON[stack], **BUCKET, **KEYS,
                              "geostack:geonodeBackupBucketEndpoint": "https://minio.example.org:9000",
                              "geostack:geonodeBackupBucketKeep": "90"}, secrets=SECRET)
    backup = workloads(run)["geonode-backup"]
    assert {key: backup["env"].get(key) for key in ("BACKUP_BUCKET", "BACKUP_BUCKET_ENDPOINT", "BACKUP_BUCKET_REGION",
                                                    "BACKUP_BUCKET_KEEP")} == {
        "BACKUP_BUCKET": "geostack-backups/geonode/prod", "BACKUP_BUCKET_ENDPOINT": "https://minio.example.org:9000",
        "BACKUP_BUCKET_REGION": "us-east-1", "BACKUP_BUCKET_KEEP": "90"}
    assert secret_value(run, backup, "AWS_SECRET_ACCESS_KEY") == SECRET["geostack:geonodeBackupBucketSecretAccessKey"]
    assert secret_value(run, backup, "AWS_ACCESS_KEY_ID") == KEYS["geostack:geonodeBackupBucketAccessKeyId"]
    if stack == "staging":  # never an env literal: a Secret reference, and no extra ServiceAccount
        assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= set(backup["refs"])
        assert not set(backup["env"]) & {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
        assert "serviceAccountName" not in backup["pod"] and not run.of_type(SERVICE_ACCOUNT)
    else:  # Docker: env entries, which the engine's state keeps encrypted
        assert "envs" in backup["resource"].secret_inputs


def test_on_eks_a_role_reaches_the_backups_pods_through_their_service_account_and_no_key_is_stored():
    run = run_program("prod", {**BUCKET, **ROLE})
    backup = workloads(run)["geonode-backup"]
    (account,) = run.of_type(SERVICE_ACCOUNT)
    assert account.inputs["metadata"]["annotations"] == {IRSA_ANNOTATION: ROLE["geostack:geonodeBackupBucketRoleArn"]}
    assert backup["pod"]["serviceAccountName"] == account.inputs["metadata"]["name"] == "geonode-backup"
    assert backup["pod"]["automountServiceAccountToken"] is False, "the webhook projects the IRSA token itself"
    assert not {key for key in (*backup["env"], *backup["refs"]) if key.startswith("AWS_")}
    # The bucket's region defaults to the cluster's.
    assert backup["env"]["BACKUP_BUCKET_REGION"] == "eu-west-1"  # Pulumi.prod.yaml's aws:region


def test_without_a_bucket_the_backup_has_no_bucket_settings():
    backup = workloads(run_program("staging"))["geonode-backup"]
    assert not {key for key in (*backup["env"], *backup["refs"]) if "BUCKET" in key or key.startswith("AWS_")}


@pytest.mark.parametrize("stack, overrides, secrets, expected", [
    ("dev", {**BUCKET, **KEYS, "geostack:geonodeBackupTime": ""}, SECRET,
     "geostack:geonodeBackupTime must be set when geostack:geonodeBackupBucket is"),
    ("dev", {**BUCKET, **KEYS}, None,
     "geostack:geonodeBackupBucketAccessKeyId and geostack:geonodeBackupBucketSecretAccessKey (with "
     "`pulumi config set --secret`) must be set together, got only the access key ID"),
    ("staging", BUCKET, SECRET, "must be set together, got only the secret"),
    ("dev", BUCKET, None, "must be set when geostack:geonodeBackupBucket is, on target 'docker' (only EKS pods can "
                          "take an IAM role), got neither"),
    ("staging", {**BUCKET, **ROLE}, None,
     "geostack:geonodeBackupBucketRoleArn needs target eks (an IAM role for the backup's ServiceAccount), got "
     "target 'microk8s'"),
    ("prod", {**BUCKET, **ROLE, **KEYS}, SECRET,
     "geostack:geonodeBackupBucketRoleArn must be empty when geostack:geonodeBackupBucketAccessKeyId is set"),
    ("staging", {"geostack:geonodeBackupBucketKeep": "5"}, None,
     "geostack:geonodeBackupBucketKeep must stay 30 unless geostack:geonodeBackupBucket names a bucket"),
    ("staging", {}, SECRET, "geostack:geonodeBackupBucketSecretAccessKey must be unset unless "
                            "geostack:geonodeBackupBucket names a bucket"),
    ("staging", {"geostack:geonodeBackupBucket": "Backups_2026"}, None, "geostack:geonodeBackupBucket must be an "
                                                                        "S3 bucket name"),
    ("staging", {**BUCKET, **KEYS, "geostack:geonodeBackupBucketEndpoint": "minio:9000"}, SECRET,
     "geostack:geonodeBackupBucketEndpoint must be an http(s) URL"),
])
def test_a_bucket_that_could_not_work_is_refused_naming_the_key(stack, overrides, secrets, expected):
    assert expected in error_of(stack, overrides, secrets)
