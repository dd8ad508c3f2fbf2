"""Create, with the Docker Engine API, exactly the Docker resources the program declares.

A test-only stand-in for `pulumi up` on the docker target: each declared input maps one
to one onto the Engine API and nothing is added. An input this realizer does not
understand fails the run instead of being skipped, so a new declaration can never pass
untested. Only host ports are substituted (free ports on this machine).
"""
from __future__ import annotations

import io
import re
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import docker
from docker.errors import NotFound

from offline.program_run import PROJECT_ROOT, ProgramRun, Registration

NETWORK = "docker:index/network:Network"
IMAGE = "docker:index/image:Image"
CONTAINER = "docker:index/container:Container"

NETWORK_INPUTS = {"name", "driver"}
IMAGE_INPUTS = {"imageName", "build", "skipPush", "buildOnPreview"}
BUILD_INPUTS = {"context", "dockerfile", "args"}
CONTAINER_INPUTS = {
    "name", "image", "command", "envs", "networksAdvanced", "ports", "uploads", "volumes", "user",
    "restart", "healthcheck", "wait", "waitTimeout", "readOnly", "tmpfs", "shmSize", "labels", "capabilities", "securityOpts",
}


class UnsupportedDeclaration(AssertionError):
    """The program declares something this realizer cannot reproduce faithfully."""


def _check_keys(resource: Registration, inputs: dict, allowed: set[str], where: str = "") -> None:
    unknown = {key for key, value in inputs.items() if value not in (None, [], {})} - allowed
    if unknown:
        raise UnsupportedDeclaration(f"{resource.type} {resource.name}{where}: unsupported inputs {sorted(unknown)}")


def duration_ns(text: str) -> int:
    """A Go duration such as '10s' or '1m30s' in nanoseconds, as the Engine API wants."""
    units = {"ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
    parts = re.findall(r"(\d+)(ms|s|m|h)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise UnsupportedDeclaration(f"unparsed duration {text!r}")
    return sum(int(n) * units[u] for n, u in parts)


def _tar_of(path: str, content: str) -> bytes:
    buffer = io.BytesIO()
    data = content.encode()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(Path(path).name)
        info.size = len(data)
        info.mode = 0o644
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@dataclass
class DockerRealizer:
    client: docker.DockerClient
    run: ProgramRun
    host_ports: dict[int, int]  # declared external port -> port used on this machine
    created: list[tuple[str, str]] = field(default_factory=list)  # (kind, id) in creation order
    containers: dict[str, str] = field(default_factory=dict)  # resource name -> container id
    images: dict[str, str] = field(default_factory=dict)  # resource name -> image name
    timings: dict[str, float] = field(default_factory=dict)

    def realize(self) -> None:
        for resource in self._in_dependency_order():
            if resource.type.startswith("geostack:"):
                continue  # components hold no state of their own
            handler = {NETWORK: self._network, IMAGE: self._image, CONTAINER: self._container}.get(resource.type)
            if handler is None:
                raise UnsupportedDeclaration(f"no realizer for {resource.type} {resource.name}")
            handler(resource)

    def _in_dependency_order(self) -> list[Registration]:
        by_urn = {r.urn: r for r in self.run.resources}
        children: dict[str, list[str]] = {}
        for r in self.run.resources:
            children.setdefault(r.parent, []).append(r.urn)

        def expand(urn: str) -> list[str]:
            # Depending on a component means depending on everything under it.
            if by_urn[urn].custom:
                return [urn]
            return [u for child in children.get(urn, []) for u in expand(child)]

        ordered, seen = [], set()

        def visit(urn: str) -> None:
            if urn in seen:
                return
            seen.add(urn)
            for dependency in by_urn[urn].dependencies:
                for target in expand(dependency) if dependency in by_urn else []:
                    visit(target)
            ordered.append(by_urn[urn])

        for resource in self.run.resources:
            visit(resource.urn)
        return ordered

    def _network(self, resource: Registration) -> None:
        _check_keys(resource, resource.inputs, NETWORK_INPUTS)
        network = self.client.networks.create(resource.inputs["name"], driver=resource.inputs.get("driver"))
        self.created.append(("network", network.id))

    def _image(self, resource: Registration) -> None:
        inputs = resource.inputs
        _check_keys(resource, inputs, IMAGE_INPUTS)
        _check_keys(resource, inputs["build"], BUILD_INPUTS, " build")
        if not inputs.get("skipPush"):
            raise UnsupportedDeclaration(f"{resource.name}: the docker target must not push")
        context = PROJECT_ROOT / inputs["build"]["context"]
        dockerfile = (PROJECT_ROOT / inputs["build"]["dockerfile"]).relative_to(context)
        start = time.monotonic()
        self.client.images.build(path=str(context), dockerfile=str(dockerfile), tag=inputs["imageName"],
                                 buildargs=inputs["build"].get("args"), rm=True, forcerm=True)
        self.timings[f"build:{resource.name}"] = time.monotonic() - start
        self.images[resource.name] = inputs["imageName"]
        self.created.append(("image", inputs["imageName"]))

    def _container(self, resource: Registration) -> None:
        inputs = resource.inputs
        _check_keys(resource, inputs, CONTAINER_INPUTS)
        api = self.client.api
        networks = inputs.get("networksAdvanced") or []
        if len(networks) != 1:
            raise UnsupportedDeclaration(f"{resource.name}: expected one network, got {networks}")
        ports = inputs.get("ports") or []
        port_bindings = {f'{int(p["internal"])}/tcp': (p.get("ip", ""), self.host_ports[int(p["external"])])
                         for p in ports}
        binds = {}
        for volume in inputs.get("volumes") or []:
            _check_keys(resource, volume, {"hostPath", "containerPath", "readOnly"}, " volume")
            binds[volume["hostPath"]] = {"bind": volume["containerPath"], "mode": "ro" if volume.get("readOnly") else "rw"}
        capabilities = inputs.get("capabilities") or {}
        _check_keys(resource, capabilities, {"drops", "adds"}, " capabilities")
        host_config = api.create_host_config(
            binds=binds or None,
            port_bindings=port_bindings or None,
            restart_policy={"Name": inputs["restart"]} if inputs.get("restart") else None,
            read_only=inputs.get("readOnly"),
            tmpfs=inputs.get("tmpfs") or None,
            shm_size=f"{inputs['shmSize']}m" if inputs.get("shmSize") else None,  # the provider's unit is MB
            cap_drop=capabilities.get("drops"),
            cap_add=capabilities.get("adds"),
            security_opt=inputs.get("securityOpts"),
        )
        healthcheck = None
        if inputs.get("healthcheck"):
            check = inputs["healthcheck"]
            _check_keys(resource, check, {"tests", "interval", "timeout", "startPeriod", "retries"}, " healthcheck")
            healthcheck = {
                "test": check["tests"],
                "interval": duration_ns(check["interval"]),
                "timeout": duration_ns(check["timeout"]),
                "start_period": duration_ns(check["startPeriod"]),
                "retries": int(check["retries"]),
            }
        container = api.create_container(
            image=inputs["image"],
            name=inputs["name"],
            command=inputs.get("command"),
            environment=inputs.get("envs"),
            user=inputs.get("user") or "",
            ports=[int(p["internal"]) for p in ports] or None,
            host_config=host_config,
            healthcheck=healthcheck,
            labels={entry["label"]: entry["value"] for entry in inputs.get("labels") or []} or None,
            networking_config=api.create_networking_config({
                networks[0]["name"]: api.create_endpoint_config(aliases=networks[0].get("aliases")),
            }),
        )
        container_id = container["Id"]
        self.created.append(("container", container_id))
        self.containers[resource.name] = container_id
        for upload in inputs.get("uploads") or []:
            _check_keys(resource, upload, {"file", "content"}, " upload")
            api.put_archive(container_id, str(Path(upload["file"]).parent), _tar_of(upload["file"], upload["content"]))
        started = time.monotonic()
        api.start(container_id)
        if inputs.get("wait"):
            self.wait_healthy(container_id, float(inputs.get("waitTimeout", 60)))
            self.timings[f"healthy:{resource.name}"] = time.monotonic() - started

    def wait_healthy(self, container_id: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.client.api.inspect_container(container_id)["State"]
            if state.get("Health", {}).get("Status") == "healthy":
                return
            time.sleep(0.5)
        logs = self.client.api.logs(container_id, tail=40).decode(errors="replace")
        raise TimeoutError(f"container {container_id[:12]} not healthy after {timeout}s:\n{logs}")

    def destroy(self) -> None:
        """Remove everything realize() created, newest first; safe to call twice."""
        for kind, ident in reversed(self.created):
            try:
                if kind == "container":
                    self.client.api.remove_container(ident, force=True, v=True)
                elif kind == "network":
                    self.client.api.remove_network(ident)
                elif kind == "image":
                    self.client.api.remove_image(ident, force=True)
            except NotFound:
                pass
        self.created.clear()
