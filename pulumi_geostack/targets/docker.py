"""The Docker realizer: workloads become containers on one user-defined network.

Peers find each other by network alias (the workload name), the same name a
Kubernetes Service would have, so app components never know which target they run on.
Images are built by the local engine and not pushed anywhere.
"""
from __future__ import annotations

import shlex

import pulumi
import pulumi_docker as docker

from pulumi_geostack.settings_types import parse_quantity
from pulumi_geostack.targets.base import PRODUCTION_LABEL, Target
from pulumi_geostack.workload import (
    ClaimMount,
    CommandCheck,
    DeployedWorkload,
    DirectoryMount,
    HttpCheck,
    ImageBuild,
    Probe,
    TcpCheck,
    Volume,
    VolumeMount,
    VolumeSpec,
    Workload,
    hour_and_minute,
)


# How long a container may take to report healthy when its workload sets no limit of its own.
DEFAULT_WAIT_SECONDS = 300


def mebibytes(quantity: str) -> int:
    """A Kubernetes memory quantity (256Mi, 1Gi) in whole MiB, as Docker's tmpfs and shm sizes take it."""
    return int(parse_quantity(quantity, "memory") // 2**20)


def healthcheck_test(probe: Probe) -> list[str]:
    """A Docker HEALTHCHECK test for a probe."""
    check = probe.check
    if isinstance(check, CommandCheck):
        return ["CMD", *check.command]
    if isinstance(check, TcpCheck):
        # bash's /dev/tcp needs no extra tool in Debian-based images.
        return ["CMD", "bash", "-c", f"exec 3<>/dev/tcp/127.0.0.1/{check.port}"]
    if isinstance(check, HttpCheck):
        url = f"http://127.0.0.1:{check.port}{check.path}"
        header = f"--header 'Host: {check.host}' " if check.host else ""
        # Debian-based images ship curl, Alpine-based ones busybox wget; both take --header.
        return ["CMD-SHELL", f"curl --fail --silent --output /dev/null {header}'{url}' "
                             f"|| wget -q -O /dev/null {header}'{url}'"]
    raise TypeError(f"no Docker healthcheck for {check!r}")


def go_duration(seconds: int) -> str:
    """Whole seconds as Go's time.Duration prints them (0s, 45s, 1m0s, 1h30m0s): the provider
    stores a healthcheck's durations in that form, and any other spelling diffs on every preview."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


def _public_host(bind_address: str) -> str:
    return "localhost" if bind_address in ("0.0.0.0", "127.0.0.1", "::", "::1") else bind_address


class TaskFailed(Exception):
    """A one-shot container exited with a non-zero code."""


def _succeeded(name: str, container: str, codes: list) -> str:
    failed = [code for code in codes if code not in (0, None)]  # None: preview, nothing ran yet
    if failed:
        raise TaskFailed(f"task {name} exited with code {failed[0]}; its output: docker logs {container}")
    return name


def daily_loop(daily_at: str, command: tuple[str, ...]) -> str:
    """sh that runs `command` every day at `daily_at` (HH:MM, UTC), for ever; a failed run is
    logged and the next day's still happens."""
    hours, minutes = hour_and_minute(daily_at)
    return (f"while :; do\n"
            f"  wait=$(( ({hours * 3600 + minutes * 60} - $(date -u +%s) % 86400 + 86400) % 86400 ))\n"
            f"  sleep $(( wait > 0 ? wait : 86400 ))\n"
            f"  {shlex.join(command)} || echo \"daily run failed with status $?\" >&2\n"
            f"done")


class DockerTarget(Target):
    """Runs workloads on the Docker engine that DOCKER_HOST (or the default socket) points at."""

    kind = "docker"
    peer_resolver = "127.0.0.11"  # the engine's DNS on user-defined networks

    def __init__(self, name: str, prefix: str, image_platform: str, ca_certificates: str = "",
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("geostack:targets:DockerTarget", name, None, opts)
        self.ca_certificates = ca_certificates
        # Container and network names are global on an engine: prefix them per stack.
        self.prefix = prefix
        self.image_platform = image_platform
        self.network = docker.Network(
            f"{name}-network",
            name=prefix,
            driver="bridge",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"network": self.network.name})

    def create_volume(self, spec: VolumeSpec, parent: pulumi.Resource) -> Volume:
        volume = docker.Volume(
            spec.name,
            name=f"{self.prefix}-{spec.name}",
            labels=[docker.VolumeLabelArgs(label=PRODUCTION_LABEL, value="true")] if spec.protect else None,
            # Every volume holds data: `pulumi destroy` and a replacement leave it on the engine, and
            # the next `up` finds it again (creating an existing named volume returns it).
            opts=pulumi.ResourceOptions(parent=parent, protect=spec.protect, retain_on_delete=True),
        )
        return Volume(spec=spec, ref=volume.name)

    def publish_image(self, name: str, build: ImageBuild, parent: pulumi.Resource) -> pulumi.Output[str]:
        image = docker.Image(
            name,
            image_name=f"{build.repository}:{build.tag}",
            build=docker.DockerBuildArgs(context=build.context, dockerfile=build.dockerfile,
                                         args=dict(build.args) or None, platform=self.image_platform),
            skip_push=True,
            opts=pulumi.ResourceOptions(parent=parent),
        )
        return image.image_name

    def deploy(self, workload: Workload, parent: pulumi.Resource) -> DeployedWorkload:
        containers = [
            self._container(workload, replica, parent)
            for replica in range(workload.replicas)
        ]
        # Peers use the alias. It carries no dependency on the containers: a container with a fixed
        # name is replaced delete-before-replace, and the engine then also replaces every container
        # whose inputs depend on it, so a proxy's config built from it would lose the proxy (and its
        # cache) on any change here. Dependents that must start later say so with `after`, and
        # proxies look peers up per request (peer_resolver), as a replaced peer gets a new address.
        host = pulumi.Output.from_input(workload.name)
        if workload.task:
            # The provider reports a one-shot container's exit code but does not act on it:
            # a failed migration would still count as done. Dependents carry this as a label,
            # so they are not created, and `pulumi up` fails naming the task.
            host = pulumi.Output.all(*[c.exit_code for c in containers]).apply(
                lambda codes: _succeeded(workload.name, f"{self.prefix}-{workload.name}", codes))
        public_url = None
        if workload.expose:
            public_url = pulumi.Output.concat(
                "http://", _public_host(workload.expose.bind_address), ":", str(workload.expose.host_port))
        port = workload.ports[0].number if workload.ports else 0
        return DeployedWorkload(host=host, port=port, public_url=public_url,
                                resources=tuple(containers), task=workload.task)

    def _container(self, workload: Workload, replica: int, parent: pulumi.Resource) -> docker.Container:
        suffix = f"-{replica + 1}" if workload.replicas > 1 else ""
        volumes = []
        for mount in workload.mounts:
            if isinstance(mount, ClaimMount):
                raise TypeError(f"{workload.name}: a PersistentVolumeClaim cannot be mounted on Docker")
            if isinstance(mount, DirectoryMount):
                volumes.append(docker.ContainerVolumeArgs(
                    host_path=str(mount.source), container_path=mount.mount_path, read_only=True))
            elif isinstance(mount, VolumeMount):
                volumes.append(docker.ContainerVolumeArgs(
                    volume_name=mount.volume.ref, container_path=mount.mount_path, read_only=mount.read_only))
        ports = []
        if workload.expose:
            ports.append(docker.ContainerPortArgs(
                internal=workload.expose.port,
                external=workload.expose.host_port,
                ip=workload.expose.bind_address,
            ))
        healthcheck = None
        if workload.readiness and not workload.task:
            probe = workload.readiness
            healthcheck = docker.ContainerHealthcheckArgs(
                tests=healthcheck_test(probe),
                interval=go_duration(probe.period_seconds),
                timeout=go_duration(probe.timeout_seconds),
                start_period=go_duration(probe.initial_delay_seconds),
                retries=probe.failure_threshold,
            )
        # Secrets stay Outputs marked secret, so they are encrypted in state and masked in diffs.
        envs = [f"{key}={value}" for key, value in sorted(workload.env.items())]
        envs += [pulumi.Output.secret(pulumi.Output.concat(key, "=", value))
                 for key, value in sorted(workload.secret_env.items())]
        lifecycle = (
            # A task runs once to completion; dependents are created after it exits.
            dict(restart="no", must_run=False, attach=True, logs=True) if workload.task
            # Dependents are created only once this container reports healthy.
            else dict(restart="unless-stopped", wait=healthcheck is not None,
                      wait_timeout=workload.ready_timeout_minutes * 60 or DEFAULT_WAIT_SECONDS)
        )
        entrypoint, command = workload.entrypoint, workload.command
        if workload.daily_at:  # the engine has no scheduler: the container sleeps until the time
            entrypoint, command = ("sh", "-c"), (daily_loop(workload.daily_at, (*entrypoint, *command)),)
        return docker.Container(
            f"{workload.name}{suffix}",
            name=f"{self.prefix}-{workload.name}{suffix}",
            image=workload.image,
            entrypoints=list(entrypoint) if entrypoint else None,
            command=list(command) if command else None,
            envs=envs,
            networks_advanced=[docker.ContainerNetworksAdvancedArgs(
                name=self.network.name, aliases=[workload.name])],
            ports=ports,
            uploads=[docker.ContainerUploadArgs(file=f.path, content=f.content) for f in workload.files]
            + [docker.ContainerUploadArgs(file=f.path, content=pulumi.Output.secret(f.content))
               for f in workload.secret_files],
            volumes=volumes,
            user=str(workload.user) if workload.user is not None else None,
            healthcheck=healthcheck,
            # Resolves only once each task this waits for has succeeded (see deploy).
            labels=[docker.ContainerLabelArgs(label=f"geostack.after-task.{index}", value=task.host)
                    for index, task in enumerate(d for d in workload.after if d.task)] or None,
            **lifecycle,
            # The engine refuses uploads into a read-only root filesystem (the provider copies
            # them to `/`), so a workload that gets files keeps a writable one (its scratch dirs
            # are tmpfs either way). Docker has no other way to hand a container a secret file.
            read_only=workload.read_only_root and not workload.files and not workload.secret_files,
            tmpfs={path: f"rw,nosuid,nodev,size={mebibytes(workload.scratch_size)}m" for path in workload.writable_paths},
            shm_size=mebibytes(workload.shm_size) if workload.shm_size else None,
            capabilities=docker.ContainerCapabilitiesArgs(drops=["ALL"]),
            security_opts=["no-new-privileges:true"],
            opts=pulumi.ResourceOptions(
                parent=parent,
                depends_on=[resource for dependency in (*workload.after, *workload.rolls_after)
                            for resource in dependency.resources],
            ),
        )
