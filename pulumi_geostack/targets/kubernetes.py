"""The Kubernetes realizer: each workload becomes a Deployment and a Service (or a Job for a
task), with ConfigMaps for files and project data, a Secret for secret env, and PVCs.

microk8s and EKS share all of this; they differ only in the provider, the registry, the
storage classes and how outside traffic reaches an exposed Service, which their
subclasses supply.
"""
from __future__ import annotations

import hashlib
from abc import abstractmethod
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from pulumi_geostack.targets.base import PRODUCTION_LABEL, NamespaceSpec, Target, file_digest
from pulumi_geostack.targets.kubernetes_pods import (
    SECRET_FILES_VOLUME,
    container_spec,
    directory_items,
    hpa_spec,
    labels,
    network_policy_spec,
    rollout_strategy,
    rollout_wait_annotation,
    scales_out,
    scrape_annotations,
    secret_file_key,
    pod_fs_group,
    secret_files_volume,
    selector,
    spread,
    stack_pods,
    wait_containers,
)
from pulumi_geostack.workload import (
    ClaimMount,
    DeployedWorkload,
    DirectoryMount,
    Exposure,
    Volume,
    VolumeMount,
    VolumeSpec,
    Workload,
    hour_and_minute,
)

# The port cert-manager's HTTP-01 solver pods listen on (its acmesolver's default).
ACME_SOLVER_PORT = 8089


# The provider treats a changed Secret or ConfigMap as a replacement by default. Ours have
# fixed names, so that is delete-then-create, and Pulumi then replaces every Deployment that
# reads them too: all of GeoNode down at once for a changed password. Updated in place, the
# content checksums on the pod templates roll the readers one pod at a time instead.
IN_PLACE_CONTENT = {"enable_secret_mutable": True, "enable_config_map_mutable": True}


def owner_label(project: str, stack: str) -> dict[str, str]:
    """Names the stack that owns the namespace. The kubernetes provider (4.25.0, pinned) creates by
    server-side apply, which would quietly take over an existing namespace of the same name; this
    label is then owned by the other stack's field manager with another value, so the apply
    conflicts and `pulumi up` stops before touching anything of the other stack."""
    owner = f"{project}.{stack}"
    if len(owner) > 63:  # a label value's limit; the hash keeps long names distinct
        owner = f"{owner[:50]}.{hashlib.sha256(owner.encode()).hexdigest()[:12]}"
    return {"geostack.io/stack": owner}


def pod_security_labels(restricted: bool) -> dict[str, str]:
    """Enforce the "restricted" Pod Security Standard when every workload complies; otherwise
    enforce "baseline" and report what falls short of "restricted"."""
    level = "restricted" if restricted else "baseline"
    return {
        "pod-security.kubernetes.io/enforce": level,
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
    }


def wait_limit(workload: Workload) -> dict[str, Any]:
    """Resource options that let pulumi-kubernetes wait longer than its default for readiness."""
    if not workload.ready_timeout_minutes:
        return {}
    limit = f"{workload.ready_timeout_minutes}m"
    return {"custom_timeouts": pulumi.CustomTimeouts(create=limit, update=limit)}


def job_spec(pod_labels: dict[str, str], annotations: dict[str, Any], pod_spec: dict[str, Any],
             backoff_limit: int) -> dict[str, Any]:
    """A Job's spec (a Job's own, or a CronJob's template): its pod retried in place on failure."""
    return {
        "backoff_limit": backoff_limit,
        "template": {
            "metadata": {"labels": pod_labels, "annotations": annotations},
            "spec": {**pod_spec, "restart_policy": "OnFailure"},
        },
    }


class KubernetesTarget(Target):
    """Shared Kubernetes realizer; subclasses provide the provider, storage and exposure."""

    def __init__(self, type_name: str, name: str, namespace: NamespaceSpec, wait_image: str,
                 ca_certificates: str = "", opts: pulumi.ResourceOptions | None = None):
        super().__init__(type_name, name, None, opts)
        self.ca_certificates = ca_certificates
        self.stack = stack = namespace.stack
        self.wait_image = wait_image
        self.provider = self.create_provider(name)
        if namespace.existing:
            self.namespace = self._existing_namespace(name, namespace)
            # Only the stack's pods: the namespace's other tenants keep whatever policies they have.
            deny_name, deny_selector = "geostack-default-deny-ingress", {"match_labels": stack_pods(stack)}
        else:
            self.namespace = self._own_namespace(name, namespace)
            deny_name, deny_selector = "default-deny-ingress", {}
        # Nothing reaches a pod unless a workload's own policy lets it in.
        k8s.networking.v1.NetworkPolicy(
            f"{name}-default-deny",
            metadata={"name": deny_name, "namespace": self.namespace, "labels": labels(deny_name, stack)},
            spec={"pod_selector": deny_selector, "policy_types": ["Ingress"]},
            opts=self.child_opts(self),
        )
        self.register_outputs({"namespace": self.namespace})

    def _own_namespace(self, name: str, namespace: NamespaceSpec) -> pulumi.Output[str]:
        ns = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": namespace.name, "labels": {
                "app.kubernetes.io/part-of": "geostack",
                **owner_label(pulumi.get_project(), namespace.stack),
                **pod_security_labels(namespace.restricted),
            }},
            # Deleting a namespace deletes the claims in it, so one that holds data outlives
            # `pulumi destroy` with them; the next `up` applies over it again.
            opts=self.child_opts(self, retain_on_delete=namespace.keeps_data, protect=namespace.protect),
        )
        return ns.metadata.name

    def _existing_namespace(self, name: str, namespace: NamespaceSpec) -> pulumi.Output[str]:
        """Read, not managed: a missing namespace stops preview and `up` before anything is created,
        and the state never owns it, so `destroy` leaves it."""
        ns = k8s.core.v1.Namespace.get(f"{name}-namespace", namespace.name, opts=self.child_opts(self))
        return ns.metadata.name

    @abstractmethod
    def create_provider(self, name: str) -> pulumi.ProviderResource:
        """The Kubernetes provider for the cluster."""

    # The registry the images come from speaks plain HTTP (microk8s's addon), or HTTPS (ECR).
    registry_plain_http = False

    def registry_credentials(self, parent: pulumi.Resource) -> tuple[pulumi.Input[str], pulumi.Input[str]]:
        """User and password for pushing to the registry the images come from; none by default."""
        return "", ""

    def publish_project_image(self, name: str, base: pulumi.Input[str], folder: str, content: str, mount: str,
                              parent: pulumi.Resource) -> pulumi.Output[str]:
        """`base` (the QGIS image, by digest) with the project folder at `mount`, pushed to the same
        registry and repository, where every layer of the base already is; its digest."""
        from pulumi_geostack.paths import project_dir
        from pulumi_geostack.project_image.provider import ProjectImage
        from pulumi_geostack.project_image.registry import ImageRef

        reference = pulumi.Output.from_input(base).apply(ImageRef.parse)
        username, password = self.registry_credentials(parent)
        image = ProjectImage(name, registry=reference.apply(lambda ref: ref.registry),
                             repository=reference.apply(lambda ref: ref.repository), base=base,
                             root=str(project_dir()), folder=folder, content=content, mount=mount,
                             platform=self.settings.image_platform, plain_http=self.registry_plain_http,
                             username=username, password=password,
                             opts=pulumi.ResourceOptions(parent=parent))
        return image.ref

    default_ingress_class: str

    @abstractmethod
    def storage_class(self, shared: bool) -> str | None:
        """Storage class for a claim; `shared` claims need ReadWriteMany. None: the cluster default."""

    @abstractmethod
    def service_exposure(self, expose: Exposure) -> dict[str, Any]:
        """Service spec fields that let outside traffic in (type, ports, annotations)."""

    @abstractmethod
    def public_url(self, service: k8s.core.v1.Service, expose: Exposure) -> pulumi.Output[str]:
        """Base URL users reach an exposed Service at."""

    def child_opts(self, parent: pulumi.Resource, **extra: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=parent, provider=self.provider, **extra)

    def create_volume(self, spec: VolumeSpec, parent: pulumi.Resource) -> Volume:
        claim_spec: dict[str, Any] = {
            "access_modes": ["ReadWriteMany" if spec.shared else "ReadWriteOnce"],
            "resources": {"requests": {"storage": spec.size}},
        }
        storage_class = self.storage_class(spec.shared)
        if storage_class:
            claim_spec["storage_class_name"] = storage_class
        claim = k8s.core.v1.PersistentVolumeClaim(
            spec.name,
            metadata={
                "name": spec.name,
                "namespace": self.namespace,
                # Lets the policy pack hold production data to `protect` (policy/rules.py).
                "labels": {**labels(spec.name, self.stack), **({PRODUCTION_LABEL: "true"} if spec.protect else {})},
                # With WaitForFirstConsumer storage classes a claim binds only once a pod uses
                # it, so waiting for it to bind here would block the very pods that bind it.
                "annotations": {"pulumi.com/skipAwait": "true"},
            },
            spec=claim_spec,
            # A claim holds data: destroy and replacements leave it (and its volume) in the cluster,
            # and the next `up` applies over it again. Its storage class cannot change in place (a
            # change would replace the claim with an empty one), so a changed class applies to new
            # claims only; docs/operations.md says how to move data to another class.
            opts=self.child_opts(parent, protect=spec.protect, retain_on_delete=True,
                                 ignore_changes=["spec.storageClassName"]),
        )
        return Volume(spec=spec, ref=claim.metadata.name)

    def deploy(self, workload: Workload, parent: pulumi.Resource) -> DeployedWorkload:
        secret = self._secret(workload, parent)
        secret_name = secret.metadata.name if secret else None
        volumes, mounts, annotations = self._volumes(workload, parent, secret_name)
        if secret:
            # The Secret's resourceVersion changes with its content, so the pods roll when a
            # credential changes (env from a Secret is read only at container start). Unlike a
            # hash of the values, it reveals nothing and keeps the template out of [secret].
            annotations = {**annotations, "geostack/secret-version": secret.metadata.resource_version}
        annotations = {**annotations, **scrape_annotations(workload)}
        pod_labels = labels(workload.name, self.stack)
        pod_spec = {
            # The pods never call the API server. An IRSA token is another, projected volume, which
            # the EKS pod identity webhook adds to pods whose ServiceAccount names a role.
            "automount_service_account_token": False,
            **({"service_account_name": self._service_account(workload, parent)}
               if workload.service_account_annotations else {}),
            "termination_grace_period_seconds": workload.termination_grace_seconds,
            **({"topology_spread_constraints": spread(workload.name, self.stack)} if scales_out(workload) else {}),
            "security_context": {
                "seccomp_profile": {"type": "RuntimeDefault"},
                **({"run_as_non_root": True} if workload.user is not None else {}),
                **({"fs_group": fs_group} if (fs_group := pod_fs_group(workload)) is not None else {}),
            },
            "init_containers": wait_containers(workload.after, self.wait_image, workload.user),
            "containers": [container_spec(workload, mounts, secret_name)],
            "volumes": volumes,
        }
        after = [r for d in workload.after if d.task for r in d.resources]
        after += [r for d in workload.rolls_after for r in d.resources]
        if workload.task:
            return self._job(workload, parent, pod_labels, annotations, pod_spec, after)
        if workload.daily_at:
            return self._cron_job(workload, parent, pod_labels, annotations, pod_spec, after)
        deployment = k8s.apps.v1.Deployment(
            f"{workload.name}-deployment",
            metadata={"name": workload.name, "namespace": self.namespace, "labels": pod_labels,
                      "annotations": rollout_wait_annotation(workload)},
            spec={
                # With an autoscaler the replica count is its business, not the program's.
                **({} if workload.autoscale else {"replicas": workload.replicas}),
                "strategy": rollout_strategy(workload),
                "selector": {"match_labels": selector(workload.name, self.stack)},
                "template": {"metadata": {"labels": pod_labels, "annotations": annotations}, "spec": pod_spec},
            },
            opts=self.child_opts(parent, depends_on=after, **wait_limit(workload)),
        )
        self._availability(workload, parent, deployment)
        if not workload.ports:  # a worker nobody connects to needs no Service
            return DeployedWorkload(host=deployment.metadata.name, port=0, resources=(deployment,))
        k8s.networking.v1.NetworkPolicy(
            f"{workload.name}-ingress-policy",
            metadata={"name": workload.name, "namespace": self.namespace, "labels": pod_labels},
            spec=network_policy_spec(workload, self.stack),
            opts=self.child_opts(parent),
        )
        if workload.metrics and self.settings.service_monitor:
            self._service_monitor(workload, parent)
        return self._service(workload, parent, deployment)

    def _service_account(self, workload: Workload, parent: pulumi.Resource) -> pulumi.Output[str]:
        account = k8s.core.v1.ServiceAccount(
            f"{workload.name}-serviceaccount",
            metadata={"name": workload.name, "namespace": self.namespace, "labels": labels(workload.name, self.stack),
                      "annotations": dict(workload.service_account_annotations)},
            automount_service_account_token=False,
            opts=self.child_opts(parent),
        )
        return account.metadata.name

    def _service_monitor(self, workload: Workload, parent: pulumi.Resource) -> None:
        """A ClusterIP Service with only the metrics port (the workload's own Service may be
        published, and a NodePort or LoadBalancer would publish every port it has), and a
        Prometheus Operator ServiceMonitor that selects it."""
        name = f"{workload.name}-metrics"
        service = k8s.core.v1.Service(
            f"{name}-service",
            metadata={"name": name, "namespace": self.namespace, "labels": labels(name, self.stack)},
            spec={"type": "ClusterIP", "selector": selector(workload.name, self.stack),
                  "ports": [{"name": "metrics", "port": workload.metrics.port, "target_port": "metrics"}]},
            opts=self.child_opts(parent),
        )
        k8s.apiextensions.CustomResource(
            f"{name}-servicemonitor",
            api_version="monitoring.coreos.com/v1",
            kind="ServiceMonitor",
            metadata={"name": workload.name, "namespace": self.namespace, "labels": labels(name, self.stack)},
            spec={"selector": {"matchLabels": selector(name, self.stack)},
                  "endpoints": [{"port": "metrics", "path": workload.metrics.path}]},
            opts=self.child_opts(parent, depends_on=[service]),
        )

    def _availability(self, workload: Workload, parent: pulumi.Resource, deployment: k8s.apps.v1.Deployment) -> None:
        """A disruption budget and, if configured, an autoscaler for workloads with several pods."""
        if not scales_out(workload):
            return
        meta = {"name": workload.name, "namespace": self.namespace, "labels": labels(workload.name, self.stack)}
        # min_available is validated to stay below the replica count, so drains always proceed.
        k8s.policy.v1.PodDisruptionBudget(
            f"{workload.name}-pdb",
            metadata=meta,
            spec={"min_available": workload.min_available,
                  "selector": {"match_labels": selector(workload.name, self.stack)}},
            opts=self.child_opts(parent),
        )
        if workload.autoscale:
            k8s.autoscaling.v2.HorizontalPodAutoscaler(
                f"{workload.name}-hpa",
                metadata=meta,
                spec=hpa_spec(workload, deployment.metadata.name),
                opts=self.child_opts(parent),
            )

    def _service(self, workload: Workload, parent: pulumi.Resource,
                 deployment: k8s.apps.v1.Deployment) -> DeployedWorkload:
        ports = [{"name": p.name, "port": p.number, "target_port": p.name} for p in workload.ports]
        spec: dict[str, Any] = {"type": "ClusterIP", "selector": selector(workload.name, self.stack), "ports": ports}
        meta: dict[str, Any] = {"name": workload.name, "namespace": self.namespace,
                                "labels": labels(workload.name, self.stack)}
        if workload.expose and not workload.expose.ingress:
            exposure = self.service_exposure(workload.expose)
            meta["annotations"] = exposure.pop("annotations", {})
            spec.update(exposure)
        service = k8s.core.v1.Service(
            f"{workload.name}-service",
            metadata=meta,
            spec=spec,
            opts=self.child_opts(parent, depends_on=[deployment]),
        )
        public_url = None
        if workload.expose and workload.expose.ingress:
            public_url = self._ingress(workload, service, parent)
        elif workload.expose:
            public_url = self.public_url(service, workload.expose)
        return DeployedWorkload(host=service.metadata.name, port=workload.ports[0].number,
                                public_url=public_url, resources=(deployment, service))

    def _ingress(self, workload: Workload, service: k8s.core.v1.Service, parent: pulumi.Resource) -> pulumi.Output[str]:
        ingress = workload.expose.ingress
        annotations = {
            # ingress-nginx (microk8s's addon, and the usual controller on EKS) caps request
            # bodies at 1m unless told otherwise; uploads need the configured size.
            "nginx.ingress.kubernetes.io/proxy-body-size": ingress.body_size,
            "nginx.ingress.kubernetes.io/proxy-read-timeout": "600",
        }
        if ingress.cert_issuer:
            annotations["cert-manager.io/cluster-issuer"] = ingress.cert_issuer
            self._acme_solver_policy(workload, parent)
        spec: dict[str, Any] = {
            "ingress_class_name": ingress.ingress_class or self.default_ingress_class,
            "rules": [{"host": ingress.host, "http": {"paths": [{
                "path": "/",
                "path_type": "Prefix",
                "backend": {"service": {"name": service.metadata.name, "port": {"number": workload.expose.port}}},
            }]}}],
        }
        if ingress.tls:
            # With an issuer, cert-manager writes the certificate into this Secret.
            spec["tls"] = [{"hosts": [ingress.host], "secret_name": ingress.tls_secret or f"{workload.name}-tls"}]
        k8s.networking.v1.Ingress(
            f"{workload.name}-ingress",
            metadata={"name": workload.name, "namespace": self.namespace,
                      "labels": labels(workload.name, self.stack), "annotations": annotations},
            spec=spec,
            opts=self.child_opts(parent, depends_on=[service]),
        )
        return pulumi.Output.from_input(f"{'https' if ingress.tls else 'http'}://{ingress.host}")

    def _acme_solver_policy(self, workload: Workload, parent: pulumi.Resource) -> None:
        """Let the ingress controller reach cert-manager's HTTP-01 solver pods. cert-manager starts
        them in this namespace for each challenge; under the default-deny policy the challenge
        request never arrives and the certificate is never issued."""
        k8s.networking.v1.NetworkPolicy(
            f"{workload.name}-acme-http01-solver",
            metadata={"name": f"{workload.name}-acme-http01-solver", "namespace": self.namespace,
                      "labels": labels(workload.name, self.stack)},
            spec={
                "pod_selector": {"match_labels": {"acme.cert-manager.io/http01-solver": "true"}},
                "policy_types": ["Ingress"],
                # The controller runs in another namespace whose labels vary by distribution.
                "ingress": [{"ports": [{"port": ACME_SOLVER_PORT, "protocol": "TCP"}]}],
            },
            opts=self.child_opts(parent),
        )

    def _job(self, workload: Workload, parent: pulumi.Resource, pod_labels: dict[str, str],
             annotations: dict[str, Any], pod_spec: dict[str, Any], after: list[pulumi.Resource]) -> DeployedWorkload:
        # A new name per image and command makes each rollout run the task once more;
        # Pulumi waits for the Job to complete before creating what depends on it.
        rollout = pulumi.Output.all(workload.image, list(workload.command or ()), sorted(workload.env.items())).apply(
            lambda values: hashlib.sha256(repr(values).encode()).hexdigest()[:8])
        job = k8s.batch.v1.Job(
            f"{workload.name}-job",
            metadata={"name": pulumi.Output.concat(workload.name, "-", rollout), "namespace": self.namespace,
                      "labels": pod_labels},
            spec=job_spec(pod_labels, annotations, pod_spec, backoff_limit=4),
            opts=self.child_opts(parent, depends_on=after, delete_before_replace=True, **wait_limit(workload)),
        )
        return DeployedWorkload(host=job.metadata.name, port=0, resources=(job,), task=True)

    def _cron_job(self, workload: Workload, parent: pulumi.Resource, pod_labels: dict[str, str],
                  annotations: dict[str, Any], pod_spec: dict[str, Any], after: list[pulumi.Resource]) -> DeployedWorkload:
        hours, minutes = hour_and_minute(workload.daily_at)
        cron_job = k8s.batch.v1.CronJob(
            f"{workload.name}-cronjob",
            metadata={"name": workload.name, "namespace": self.namespace, "labels": pod_labels},
            spec={
                "schedule": f"{minutes} {hours} * * *",
                "time_zone": "Etc/UTC",
                "concurrency_policy": "Forbid",  # a slow run is never overlapped by the next
                "successful_jobs_history_limit": 3,
                "failed_jobs_history_limit": 3,
                "job_template": {"spec": job_spec(pod_labels, annotations, pod_spec, backoff_limit=2)},
            },
            opts=self.child_opts(parent, depends_on=after),
        )
        return DeployedWorkload(host=cron_job.metadata.name, port=0, resources=(cron_job,))

    def _secret(self, workload: Workload, parent: pulumi.Resource) -> k8s.core.v1.Secret | None:
        """One Secret per workload: its secret env (keys are variable names) and its secret files
        (keys are file names, which cannot clash with a variable's). The name keeps its old `-env`."""
        if not workload.secret_env and not workload.secret_files:
            return None
        return k8s.core.v1.Secret(
            f"{workload.name}-env",
            metadata={"name": f"{workload.name}-env", "namespace": self.namespace,
                      "labels": labels(workload.name, self.stack)},
            string_data={**{key: pulumi.Output.secret(value) for key, value in workload.secret_env.items()},
                         **{secret_file_key(f): pulumi.Output.secret(f.content) for f in workload.secret_files}},
            opts=self.child_opts(parent),
        )

    def _volumes(self, workload: Workload, parent: pulumi.Resource, secret_name: pulumi.Input[str] | None):
        """Volumes, mounts and pod-template checksums (so pods roll when content changes)."""
        volumes: list[dict[str, Any]] = []
        mounts: list[dict[str, Any]] = []
        if workload.secret_files:
            volumes.append(secret_files_volume(workload, secret_name))
            mounts += [{"name": SECRET_FILES_VOLUME, "mount_path": f.path, "sub_path": secret_file_key(f),
                        "read_only": True} for f in workload.secret_files]
        checksums: dict[str, Any] = {}
        meta = {"namespace": self.namespace, "labels": labels(workload.name, self.stack)}
        if workload.files:
            data = {Path(f.path).name: f.content for f in workload.files}
            files_map = k8s.core.v1.ConfigMap(
                f"{workload.name}-files",
                metadata={**meta, "name": f"{workload.name}-files"},
                data=data,
                opts=self.child_opts(parent),
            )
            volumes.append({"name": "files", "config_map": {"name": files_map.metadata.name}})
            for f in workload.files:
                mounts.append({"name": "files", "mount_path": f.path, "sub_path": Path(f.path).name,
                               "read_only": True})
            checksums["geostack/files-checksum"] = pulumi.Output.all(*data.values()).apply(
                lambda contents: file_digest("\0".join(contents)))
        for index, mount in enumerate(workload.mounts):
            volume_name = f"data-{index}"
            read_only = True
            if isinstance(mount, ClaimMount):
                volumes.append({"name": volume_name, "persistent_volume_claim": {
                    "claim_name": mount.claim_name, "read_only": True}})
            elif isinstance(mount, VolumeMount):
                read_only = mount.read_only
                volumes.append({"name": volume_name, "persistent_volume_claim": {"claim_name": mount.volume.ref}})
            elif isinstance(mount, DirectoryMount):
                text, binary, items = directory_items(mount.source)
                data_map = k8s.core.v1.ConfigMap(
                    f"{workload.name}-{volume_name}",
                    metadata={**meta, "name": f"{workload.name}-{volume_name}"},
                    data=text,
                    binary_data=binary,
                    opts=self.child_opts(parent),
                )
                volumes.append({"name": volume_name, "config_map": {
                    "name": data_map.metadata.name, "items": items}})
                checksums[f"geostack/{volume_name}-checksum"] = file_digest(repr((text, binary)))
            mounts.append({"name": volume_name, "mount_path": mount.mount_path, "read_only": read_only})
        for index, path in enumerate(workload.writable_paths):
            volumes.append({"name": f"scratch-{index}", "empty_dir": {"size_limit": workload.scratch_size}})
            mounts.append({"name": f"scratch-{index}", "mount_path": path})
        if workload.shm_size:
            # Memory-backed, so it counts against the container's memory limit.
            volumes.append({"name": "shm", "empty_dir": {"medium": "Memory", "size_limit": workload.shm_size}})
            mounts.append({"name": "shm", "mount_path": "/dev/shm"})
        return volumes, mounts, checksums
