"""Each rule of the policy pack, called directly with ResourceValidationArgs: passing and failing cases."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pulumi_policy import PolicyCustomTimeouts, PolicyResourceOptions, ResourceValidationArgs, Secret

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import rules  # noqa: E402


def validate(rule, type_, props, name="res", protect=False, config=None) -> list[str]:
    opts = PolicyResourceOptions(protect=protect, ignore_changes=[], delete_before_replace=None, aliases=[],
                                 custom_timeouts=PolicyCustomTimeouts(0, 0, 0), additional_secret_outputs=[])
    args = ResourceValidationArgs(type_, props, f"urn:pulumi:s::p::{type_}::{name}", name, opts, None, config)
    violations: list[str] = []
    rule(args, lambda message, urn=None: violations.append(message))
    return violations


def container(**fields):
    base = {
        "name": "app",
        "image": "nginx:1.28.0-bookworm",
        "securityContext": {"allowPrivilegeEscalation": False},
        "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
    }
    base.update(fields)
    return base


def deployment(*containers_, init=()):
    return {"metadata": {"name": "app"}, "spec": {"template": {"spec": {
        "containers": list(containers_), "initContainers": list(init)}}}}


DEPLOYMENT = "kubernetes:apps/v1:Deployment"
JOB = "kubernetes:batch/v1:Job"
DOCKER = "docker:index/container:Container"


class TestPinnedImages:
    @pytest.mark.parametrize("image", ["nginx:1.28.0-bookworm", "geonode/geonode:4.4.3",
                                       "localhost:32000/geostack/qgis-server@sha256:" + "a" * 64])
    def test_pinned_images_pass(self, image):
        assert validate(rules.pinned_images, DEPLOYMENT, deployment(container(image=image))) == []

    @pytest.mark.parametrize("image", ["nginx", "nginx:latest", "localhost:32000/qgis-server"])
    def test_latest_or_untagged_images_fail(self, image):
        assert validate(rules.pinned_images, DEPLOYMENT, deployment(container(image=image))) == [
            f"container app uses image {image!r}: pin a tag other than latest, or a digest"]

    def test_init_containers_and_docker_containers_are_checked(self):
        assert validate(rules.pinned_images, JOB, deployment(container(), init=[container(name="w", image="busybox")]))
        assert validate(rules.pinned_images, DOCKER, {"image": "redis:latest"}, name="cache")
        assert validate(rules.pinned_images, DOCKER, {"image": "redis:7.4.1"}) == []


class TestNoPrivilege:
    def test_hardened_container_passes(self):
        assert validate(rules.no_privilege, DEPLOYMENT, deployment(container())) == []

    def test_privileged_fails(self):
        bad = container(securityContext={"privileged": True, "allowPrivilegeEscalation": False})
        assert validate(rules.no_privilege, DEPLOYMENT, deployment(bad)) == ["container app is privileged"]

    def test_escalation_must_be_switched_off_explicitly(self):
        assert validate(rules.no_privilege, DEPLOYMENT, deployment(container(securityContext={}))) == [
            "container app must set securityContext.allowPrivilegeEscalation: false"]

    def test_docker(self):
        good = {"image": "x:1", "securityOpts": ["no-new-privileges:true"]}
        assert validate(rules.no_privilege, DOCKER, good) == []
        assert validate(rules.no_privilege, DOCKER, {**good, "privileged": True}, name="c") == ["container c is privileged"]
        assert validate(rules.no_privilege, DOCKER, {"image": "x:1"}, name="c") == [
            "container c must set securityOpts no-new-privileges:true"]


class TestLimitsPresent:
    def test_limits_pass(self):
        assert validate(rules.limits_present, DEPLOYMENT, deployment(container())) == []

    def test_missing_limits_fail(self):
        assert validate(rules.limits_present, DEPLOYMENT, deployment(container(resources={}))) == [
            "container app has no cpu or memory limit"]
        partial = container(resources={"limits": {"cpu": "1"}})
        assert validate(rules.limits_present, DEPLOYMENT, deployment(partial)) == ["container app has no memory limit"]


class TestNoPlaintextSecrets:
    def test_secret_references_and_harmless_values_pass(self):
        env = [{"name": "DATABASE_HOST", "value": "db"},
               {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "app-env", "key": "DATABASE_URL"}}}]
        assert validate(rules.no_plaintext_secrets, DEPLOYMENT, deployment(container(env=env))) == []
        assert validate(rules.no_plaintext_secrets, "kubernetes:core/v1:ConfigMap",
                        {"data": {"nginx.conf": "server {}"}}) == []

    def test_plain_secret_env_fails(self):
        env = [{"name": "ADMIN_PASSWORD", "value": "hunter2"}, {"name": "BROKER_URL", "value": "amqp://u:p@rabbitmq/"}]
        assert validate(rules.no_plaintext_secrets, DEPLOYMENT, deployment(container(env=env))) == [
            "container app env ADMIN_PASSWORD is a plain value: use valueFrom.secretKeyRef",
            "container app env BROKER_URL is a plain value: use valueFrom.secretKeyRef",
        ]

    def test_configmap_with_a_credential_fails(self):
        assert validate(rules.no_plaintext_secrets, "kubernetes:core/v1:ConfigMap",
                        {"data": {"SECRET_KEY": "abc"}}) == ["ConfigMap key SECRET_KEY looks like a credential: put it in a Secret"]

    def test_docker_env_must_be_a_pulumi_secret(self):
        secret = {"envs": ["SITEURL=http://localhost/", Secret("ADMIN_PASSWORD=hunter2")]}
        assert validate(rules.no_plaintext_secrets, DOCKER, secret) == []
        assert validate(rules.no_plaintext_secrets, DOCKER, {"envs": Secret(["ADMIN_PASSWORD=hunter2"])}) == []
        plain = {"envs": ["ADMIN_PASSWORD=hunter2"]}
        assert validate(rules.no_plaintext_secrets, DOCKER, plain, name="c") == [
            "container c env ADMIN_PASSWORD is a plain value: pass it as a Pulumi secret"]


class TestStatefulVolumesProtected:
    PVC = "kubernetes:core/v1:PersistentVolumeClaim"

    def claim(self, production: bool):
        labels = {"geostack.io/production": "true"} if production else {}
        return {"metadata": {"name": "data", "labels": labels}, "spec": {}}

    def test_production_claims_must_be_protected(self):
        assert validate(rules.stateful_volumes_protected, self.PVC, self.claim(True), name="data", protect=True) == []
        assert validate(rules.stateful_volumes_protected, self.PVC, self.claim(True), name="data") == [
            "data holds production data: set protect so `pulumi destroy` cannot delete it"]

    def test_other_stacks_may_delete_their_volumes(self):
        assert validate(rules.stateful_volumes_protected, self.PVC, self.claim(False)) == []

    def test_policy_config_marks_a_stack_production(self):
        assert validate(rules.stateful_volumes_protected, self.PVC, self.claim(False), name="data",
                        config={"production": True})

    def test_docker_volumes(self):
        volume = {"labels": [{"label": "geostack.io/production", "value": "true"}]}
        assert validate(rules.stateful_volumes_protected, "docker:index/volume:Volume", volume, name="v")
        assert validate(rules.stateful_volumes_protected, "docker:index/volume:Volume", volume, protect=True) == []
