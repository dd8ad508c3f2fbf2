"""Create, with the Docker Engine API, exactly the Docker resources the program declares.

A test-only stand-in for the pulumi-docker provider: each declared input maps one to one
onto the Engine API and nothing is added. An input this realizer does not understand fails
the run instead of being skipped, so a new declaration can never pass untested. Each container is
read back as the provider reads it (tests/e2e/docker_readback.py), and a value that would come
back in another form than declared fails the run: a perpetual diff. Only host
ports may be substituted (free ports on this machine), and images are built through the
image cache (tests/e2e/image_cache.py) with exactly the declared build arguments.

`apply` behaves like an update: a resource declared again with the same inputs is left
alone, and a container whose inputs changed is replaced (the provider replaces containers
on any change). `realize()` applies a finished mocked run in dependency order;
tests/e2e/realizing_mocks.py applies each resource while the program runs instead.
"""
from __future__ import annotations

import io
import tarfile
import time
from dataclasses import dataclass, field
from typing import Optional

import docker
from docker.errors import NotFound

from offline.program_run import PROJECT_ROOT, ProgramRun, Registration
from tests.e2e.docker_readback import parse_go_duration, perpetual_diffs, provider_state
from tests.e2e.image_cache import cached_image

NETWORK = "docker:index/network:Network"
VOLUME = "docker:index/volume:Volume"
IMAGE = "docker:index/image:Image"
CONTAINER = "docker:index/container:Container"

NETWORK_INPUTS = {"name", "driver"}
VOLUME_INPUTS = {"name", "labels"}
IMAGE_INPUTS = {"imageName", "build", "skipPush", "buildOnPreview"}
BUILD_INPUTS = {"context", "dockerfile", "args", "platform"}
CONTAINER_INPUTS = {
    "name", "image", "entrypoints", "command", "envs", "networksAdvanced", "ports", "uploads", "volumes", "user",
    "restart", "healthcheck", "wait", "waitTimeout", "readOnly", "tmpfs", "shmSize", "labels", "capabilities",
    "securityOpts", "mustRun", "attach", "logs",
}
TASK_TIMEOUT = 1800  # seconds an attached one-shot container may run


class UnsupportedDeclaration(AssertionError):
    """The program declares something this realizer cannot reproduce faithfully."""


class PerpetualDiff(AssertionError):
    """The engine hands back a declared value in another form: `preview` would never be clean."""


def _check_keys(name: str, inputs: dict, allowed: set[str], where: str = "") -> None:
    unknown = {key for key, value in inputs.items() if value not in (None, [], {})} - allowed
    if unknown:
        raise UnsupportedDeclaration(f"{name}{where}: unsupported inputs {sorted(unknown)}")


def _tar_of(path: str, content: str) -> bytes:
    """An upload as the provider sends it: one entry named by the file's full path, mode 0644,
    extracted at `/` (so the engine refuses it on a read-only root filesystem, as it does there)."""
    buffer = io.BytesIO()
    data = content.encode()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(path)
        info.size = len(data)
        info.mode = 0o644
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@dataclass
class DockerRealizer:
    client: docker.DockerClient
    run: Optional[ProgramRun] = None  # for realize(); not needed when applied from mocks
    host_ports: dict[int, int] = field(default_factory=dict)  # declared external port -> port used here
    created: list[tuple[str, str]] = field(default_factory=list)  # (kind, id) in creation order
    containers: dict[str, str] = field(default_factory=dict)  # resource name -> container id
    images: dict[str, str] = field(default_factory=dict)  # resource name -> image name
    timings: dict[str, float] = field(default_factory=dict)
    applied: dict[tuple[str, str], tuple[dict, dict]] = field(default_factory=dict)  # (type, name) -> (inputs, outputs)

    def realize(self) -> None:
        for resource in self._in_dependency_order():
            if not resource.type.startswith("geostack:"):  # components hold no state of their own
                self.apply(resource.type, resource.name, resource.inputs)

    def apply(self, type_: str, name: str, inputs: dict) -> dict:
        """Create one declared resource, or replace a changed container; the provider's outputs."""
        key = (type_, name)
        if key in self.applied and self.applied[key][0] == inputs:
            return self.applied[key][1]
        handler = {NETWORK: self._network, VOLUME: self._volume, IMAGE: self._image,
                   CONTAINER: self._container}.get(type_)
        if handler is None:
            raise UnsupportedDeclaration(f"no realizer for {type_} {name}")
        if key in self.applied:
            # A changed build (other arguments: another GeoNode release) is built anew under its
            # new name, as the provider replaces the image; networks and volumes never change here.
            if type_ not in (CONTAINER, IMAGE):
                raise UnsupportedDeclaration(f"{type_} {name} changed; only containers and images are replaced here")
            if type_ == CONTAINER:
                self._remove("container", self.containers[name])
        outputs = handler(name, inputs)
        self.applied[key] = (inputs, outputs)
        return outputs

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

    def _network(self, name: str, inputs: dict) -> dict:
        _check_keys(name, inputs, NETWORK_INPUTS)
        network = self.client.networks.create(inputs["name"], driver=inputs.get("driver"))
        self.created.append(("network", network.id))
        return {}

    def _volume(self, name: str, inputs: dict) -> dict:
        _check_keys(name, inputs, VOLUME_INPUTS)
        labels = {entry["label"]: entry["value"] for entry in inputs.get("labels") or []}
        volume = self.client.volumes.create(inputs["name"], labels=labels or None)
        self.created.append(("volume", volume.name))
        return {}

    def _image(self, name: str, inputs: dict) -> dict:
        _check_keys(name, inputs, IMAGE_INPUTS)
        _check_keys(name, inputs["build"], BUILD_INPUTS, " build")
        if not inputs.get("skipPush"):
            raise UnsupportedDeclaration(f"{name}: the docker target must not push")
        context = PROJECT_ROOT / inputs["build"]["context"]
        dockerfile = PROJECT_ROOT / inputs["build"]["dockerfile"]
        if dockerfile != context / "Dockerfile":
            raise UnsupportedDeclaration(f"{name}: the image cache builds only <context>/Dockerfile")
        if not inputs["build"].get("platform"):
            # The provider builds anyway, for whatever its engine picks, and warns; a build that
            # names none is a build whose result depends on the machine.
            raise UnsupportedDeclaration(f"{name}: the build names no platform")
        args = dict(inputs["build"].get("args") or {})
        start = time.monotonic()
        cached_image(self.client, context, context.name, inputs["imageName"], buildargs=args,
                     platform=inputs["build"]["platform"])
        self.timings[f"build:{name}"] = time.monotonic() - start
        self.images[name] = inputs["imageName"]
        self.created.append(("image", inputs["imageName"]))
        return {}

    def _container(self, name: str, inputs: dict) -> dict:
        _check_keys(name, inputs, CONTAINER_INPUTS)
        api = self.client.api
        networks = inputs.get("networksAdvanced") or []
        if len(networks) != 1:
            raise UnsupportedDeclaration(f"{name}: expected one network, got {networks}")
        ports = inputs.get("ports") or []
        port_bindings = {f'{int(p["internal"])}/tcp': (p.get("ip", ""), self.host_ports[int(p["external"])])
                         for p in ports}
        binds = {}
        for volume in inputs.get("volumes") or []:
            _check_keys(name, volume, {"hostPath", "volumeName", "containerPath", "readOnly"}, " volume")
            source = volume.get("volumeName") or volume["hostPath"]  # a named volume or a host directory
            binds[source] = {"bind": volume["containerPath"], "mode": "ro" if volume.get("readOnly") else "rw"}
        capabilities = inputs.get("capabilities") or {}
        _check_keys(name, capabilities, {"drops", "adds"}, " capabilities")
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
            _check_keys(name, check, {"tests", "interval", "timeout", "startPeriod", "retries"}, " healthcheck")
            healthcheck = {
                "test": check["tests"],
                "interval": parse_go_duration(check["interval"]),
                "timeout": parse_go_duration(check["timeout"]),
                "start_period": parse_go_duration(check["startPeriod"]),
                "retries": int(check["retries"]),
            }
        self._pull_if_missing(inputs["image"])
        container = api.create_container(
            image=inputs["image"],
            name=inputs["name"],
            entrypoint=inputs.get("entrypoints"),
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
        self.containers[name] = container_id
        for upload in inputs.get("uploads") or []:
            _check_keys(name, upload, {"file", "content"}, " upload")
            api.put_archive(container_id, "/", _tar_of(upload["file"], upload["content"]))
        started = time.monotonic()
        api.start(container_id)
        # The provider reads the container back after creating it; whatever comes back unlike the
        # declaration is a change on every later preview.
        diffs = perpetual_diffs(inputs, provider_state(api.inspect_container(container_id)))
        if diffs:
            raise PerpetualDiff(f"{name}: read back unlike declared (stored, declared): {diffs}")
        if inputs.get("attach"):  # the provider waits for an attached container and reports its exit code
            code = api.wait(container_id, timeout=TASK_TIMEOUT)["StatusCode"]
            self.timings[f"exited:{name}"] = time.monotonic() - started
            return {"exitCode": code}
        if inputs.get("wait"):
            self.wait_healthy(container_id, float(inputs.get("waitTimeout", 60)))
            self.timings[f"healthy:{name}"] = time.monotonic() - started
        return {}

    def _pull_if_missing(self, image: str) -> None:
        """The provider pulls an image the engine lacks before it creates the container."""
        try:
            self.client.api.inspect_image(image)
        except NotFound:
            for line in self.client.api.pull(image, stream=True, decode=True):
                if "error" in line:
                    raise RuntimeError(f"pulling {image} failed: {line['error']}")

    def wait_healthy(self, container_id: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.client.api.inspect_container(container_id)["State"]
            if state.get("Health", {}).get("Status") == "healthy":
                return
            if state["Status"] == "exited":
                break
            time.sleep(0.5)
        logs = self.client.api.logs(container_id, tail=40).decode(errors="replace")
        raise TimeoutError(f"container {container_id[:12]} not healthy after {timeout}s "
                           f"({state['Status']}, exit code {state['ExitCode']}):\n{logs}")

    def _remove(self, kind: str, ident: str) -> None:
        try:
            if kind == "container":
                self.client.api.remove_container(ident, force=True, v=True)
            elif kind == "volume":
                self.client.api.remove_volume(ident, force=True)
            elif kind == "network":
                self.client.api.remove_network(ident)
            elif kind == "image":
                self.client.api.remove_image(ident, force=True)
        except NotFound:
            pass

    def destroy(self) -> None:
        """Remove everything this realizer created, newest first; safe to call twice."""
        for kind, ident in reversed(self.created):
            self._remove(kind, ident)
        self.created.clear()
        self.applied.clear()
