"""Run the whole Pulumi program in-process under Pulumi's mocks and record what it declares.

`run_program("dev")` loads Pulumi.dev.yaml exactly as the CLI would hand it to the
program (values as strings), runs __main__.py, and returns every registered
resource with its inputs, parent, provider and options (protect, retainOnDelete),
plus the stack outputs. Nothing is created anywhere.
"""
from __future__ import annotations

import asyncio
import hashlib
import os
import runpy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pulumi
import yaml
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STACKS = ("dev", "staging", "prod")
SECRET_SIG = rpc._special_sig_key, rpc._special_secret_sig


def project_name(project_root: Path = PROJECT_ROOT) -> str:
    return yaml.safe_load((project_root / "Pulumi.yaml").read_text())["name"]


def stack_config(stack: str, project_root: Path = PROJECT_ROOT) -> dict[str, str]:
    """A stack's config as the CLI passes it: namespaced keys, string values, the stack file's
    values over Pulumi.yaml's (tests/engine checks this against `pulumi config`). In Pulumi.yaml a
    key of the project's own namespace is declared, with a `default`; one of another namespace
    (geostack:target in a program of your own) is given a value, as is or as `value:`."""
    project = yaml.safe_load((project_root / "Pulumi.yaml").read_text()) or {}
    values = {}
    for key, spec in (project.get("config") or {}).items():
        name = key if ":" in key else f"{project['name']}:{key}"
        if not isinstance(spec, dict):
            values[name] = _as_config_string(spec)
        elif "value" in spec or "default" in spec:
            values[name] = _as_config_string(spec.get("value", spec.get("default")))
    data = yaml.safe_load((project_root / f"Pulumi.{stack}.yaml").read_text()) or {}
    values.update({key: _as_config_string(value) for key, value in (data.get("config") or {}).items()})
    return values


def _as_config_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _contains_secret(value: Any) -> bool:
    """True if a protobuf Struct value carries Pulumi's secret marker anywhere inside."""
    from google.protobuf import struct_pb2

    if isinstance(value, struct_pb2.Struct):
        fields = value.fields
        sig = fields.get(SECRET_SIG[0])
        if sig is not None and sig.string_value == SECRET_SIG[1]:
            return True
        return any(_contains_secret(v) for v in fields.values())
    if isinstance(value, struct_pb2.Value):
        kind = value.WhichOneof("kind")
        if kind == "struct_value":
            return _contains_secret(value.struct_value)
        if kind == "list_value":
            return any(_contains_secret(v) for v in value.list_value.values)
    return False


def reveal(value: Any) -> Any:
    """Deserialized inputs with secret wrappers replaced by their values (secrecy is kept in secret_inputs)."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG[0]) == SECRET_SIG[1]:
            return reveal(value.get("value"))
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


def mark_secrets(value: Any) -> Any:
    """Inputs with each secret as {"__secret__": value}: plain JSON that keeps secrecy visible."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG[0]) == SECRET_SIG[1]:
            return {"__secret__": mark_secrets(value.get("value"))}
        return {k: mark_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mark_secrets(v) for v in value]
    return value


@dataclass
class Registration:
    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    provider: str
    protect: bool
    retain_on_delete: bool
    dependencies: list[str]
    inputs: dict[str, Any]
    # input key -> URNs its value came from: what the engine replaces a dependent for when one of
    # them is replaced delete-before-replace
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    secret_inputs: set[str] = field(default_factory=set)  # top-level input keys holding a secret
    raw_inputs: dict[str, Any] = field(default_factory=dict)  # secrets still wrapped in Pulumi's marker
    custom_timeouts: dict[str, str] = field(default_factory=dict)  # the customTimeouts option: operation -> limit
    ignore_changes: list[str] = field(default_factory=list)


@dataclass
class ProgramRun:
    resources: list[Registration]
    outputs: dict[str, Any]
    secret_outputs: set[str]
    error: Optional[BaseException] = None  # what the program raised, when run with raise_errors=False
    reads: list[tuple[str, str, str]] = field(default_factory=list)  # (type, name, id) of each `.get`

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: Optional[str] = None) -> Registration:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {type_} {name or ''}, found {[r.name for r in found]}"
        return found[0]

    def by_urn(self, urn: str) -> Registration:
        return next(r for r in self.resources if r.urn == urn)

    def nginx_config(self, workload: str) -> str:
        """A workload's nginx.conf as its target delivers it: a Docker upload or a ConfigMap."""
        for container in self.of_type("docker:index/container:Container"):
            if container.name == workload:
                return next(u["content"] for u in container.inputs["uploads"] if u["file"].endswith("nginx.conf"))
        return self.one("kubernetes:core/v1:ConfigMap", f"{workload}-files").inputs["data"]["nginx.conf"]


class GeostackMocks(pulumi_mocks.Mocks):
    """Computed outputs the providers would return, enough for the program's wiring.

    `task_exit_codes` (by resource name) are what one-shot Docker containers exit with; 0 otherwise.
    """

    def __init__(self, task_exit_codes: Optional[dict[str, int]] = None):
        self.task_exit_codes = task_exit_codes or {}

    def new_resource(self, args: pulumi_mocks.MockResourceArgs):
        if args.resource_id and args.typ == "kubernetes:core/v1:Namespace":
            # A read (Namespace.get): the provider answers with the object, its name the id read.
            return args.resource_id, {"metadata": {"name": args.resource_id}}
        state = dict(args.inputs)
        if args.typ == "docker:index/container:Container" and state.get("mustRun") is False:
            state["exitCode"] = self.task_exit_codes.get(args.name, 0)
        if args.typ == "docker:index/image:Image" and not state.get("skipPush"):
            repository = state["imageName"].rsplit(":", 1)[0]
            digest = hashlib.sha256(state["imageName"].encode()).hexdigest()
            state["repoDigest"] = f"{repository}@sha256:{digest}"
        if args.typ == "pulumi-python:dynamic:Resource" and "content" in state:  # a ProjectImage
            registry, repository = state["registry"], state["repository"]
            digest = hashlib.sha256(f"{state['base']}{state['content']}".encode()).hexdigest()
            state.update(ref=f"{registry}/{repository}@sha256:{digest}", pushedBytes=0)
        if args.typ == "pulumi-python:dynamic:Resource" and "refresh" in state:  # a PinnedImage
            digest = "sha256:" + hashlib.sha256(f"{state['reference']}{state['refresh']}".encode()).hexdigest()
            state.update(digest=digest, pinned=f"{state['reference']}@{digest}")
        if args.typ == "random:index/randomPassword:RandomPassword":
            # Distinctive, so tests can search every declared input for a leaked value.
            state["result"] = f"generated-{args.name}-" + hashlib.sha256(args.name.encode()).hexdigest()[:12]
        if args.typ == "aws:ecr/repository:Repository":
            state["registryId"] = "123456789012"
            state["repositoryUrl"] = f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/{state['name']}"
        if args.typ == "kubernetes:core/v1:Service" and state.get("spec", {}).get("type") == "LoadBalancer":
            state["status"] = {"loadBalancer": {"ingress": [{"hostname": "qgis-0123.elb.eu-west-1.amazonaws.com"}]}}
        return f"{args.name}-id", state

    def call(self, args: pulumi_mocks.MockCallArgs):
        if args.token == "aws:eks/getCluster:getCluster":
            return {
                "name": args.args["name"],
                "endpoint": "https://ABC123.gr7.eu-west-1.eks.amazonaws.com",
                "certificateAuthorities": [{"data": "Q0VSVElGSUNBVEU="}],
            }
        if args.token == "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            return {"userName": "AWS", "password": "ecr-token-password", "proxyEndpoint": "https://123456789012.dkr.ecr"}
        raise NotImplementedError(f"unmocked call {args.token}")


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """MockMonitor that keeps each registration's parent, provider and options."""

    def __init__(self, mocks: pulumi_mocks.Mocks):
        super().__init__(mocks)
        self.registrations: list[Registration] = []
        self.outputs: dict[str, Any] = {}
        self.secret_outputs: set[str] = set()
        self.reads: list[tuple[str, str, str]] = []

    def ReadResource(self, request):
        self.reads.append((request.type, request.name, request.id))
        return super().ReadResource(request)

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registrations.append(Registration(
                type=request.type,
                name=request.name,
                urn=response.urn,
                parent=request.parent,
                custom=request.custom,
                provider=request.provider,
                protect=request.protect,
                retain_on_delete=request.retainOnDelete,
                dependencies=list(request.dependencies),
                property_dependencies={key: list(deps.urns) for key, deps in request.propertyDependencies.items()},
                inputs=reveal(rpc.deserialize_properties(request.object)),
                raw_inputs=rpc.deserialize_properties(request.object),
                secret_inputs={k for k, v in request.object.fields.items() if _contains_secret(v)},
                custom_timeouts={key: value for key in ("create", "update", "delete")
                                 if (value := getattr(request.customTimeouts, key))},
                ignore_changes=list(request.ignoreChanges),
            ))
        return response

    def RegisterResourceOutputs(self, request):
        if request.urn.split("::")[2] == "pulumi:pulumi:Stack":
            self.outputs = reveal(rpc.deserialize_properties(request.outputs))
            self.secret_outputs = {k for k, v in request.outputs.fields.items() if _contains_secret(v)}
        return super().RegisterResourceOutputs(request)


def _settle_leftovers() -> None:
    """Let registrations still waiting on a failed Output fail now, in this run, and forget
    their errors, instead of raising them in whichever program runs next in this process."""
    pending = [task for task in asyncio.all_tasks(_ensure_event_loop()) if not task.done()]
    if pending:
        _sync_await(asyncio.gather(*pending, return_exceptions=True))
    pulumi_settings._get_rpc_manager().clear()
    with pulumi_settings.SETTINGS.lock:
        pulumi_settings.SETTINGS.outputs.clear()  # finished with the failure the caller already has


def run_program(stack: str, overrides: Optional[dict[str, str]] = None,
                config: Optional[dict[str, str]] = None, raise_errors: bool = True,
                secrets: Optional[dict[str, str]] = None, project_root: Path = PROJECT_ROOT,
                task_exit_codes: Optional[dict[str, int]] = None,
                mocks: Optional[GeostackMocks] = None) -> ProgramRun:
    """Run __main__.py for `stack` (its stack file plus `overrides`, or exactly `config`).

    `secrets` are set as secret config, as `pulumi config set --secret` would. `mocks`
    replaces the default GeostackMocks (tests/e2e/realizing_mocks.py creates real containers).

    With raise_errors=False the program's exception is returned in `.error`, beside
    whatever it declared before failing.
    """
    values = dict(stack_config(stack, project_root) if config is None else config)
    values.update(overrides or {})
    values.update(secrets or {})
    mocks = mocks or GeostackMocks(task_exit_codes)
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_all_config(values, list(secrets or {}))
    pulumi_mocks.set_mocks(mocks, project=project_name(project_root), stack=stack, preview=False, monitor=monitor)
    # set_mocks installs a finished root stack; run_in_stack makes the program's own one.
    pulumi_settings.ROOT.set(None)
    previous = os.getcwd()
    os.chdir(project_root)  # the CLI runs the program from the project directory
    error = None
    try:
        _sync_await(run_in_stack(lambda: runpy.run_path(str(project_root / "__main__.py"),
                                                        run_name="__main__")))
    except Exception as raised:  # noqa: BLE001 handed to the caller below
        _settle_leftovers()
        if raise_errors:
            raise
        error = raised
    finally:
        os.chdir(previous)
    return ProgramRun(monitor.registrations, monitor.outputs, monitor.secret_outputs, error, monitor.reads)
