"""The policy pack's rules as plain functions: `rule(args, report_violation)`.

`args` is a pulumi_policy ResourceValidationArgs; `props` are the resource's inputs with
the engine's camelCase keys, and secret values arrive wrapped in pulumi_policy.Secret.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Iterator

from pulumi_policy import ResourceValidationArgs, Secret

Report = Callable[..., None]

POD_TEMPLATE_KINDS = {
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:batch/v1:Job",
}
DOCKER_CONTAINER = "docker:index/container:Container"
DOCKER_VOLUME = "docker:index/volume:Volume"
PVC = "kubernetes:core/v1:PersistentVolumeClaim"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
PRODUCTION_LABEL = "geostack.io/production"

SECRET_NAME = re.compile(r"(?i)(password|passwd|secret|token|private_?key|api_?key|credential)")
CREDENTIAL_URL = re.compile(r"://[^/\s:@]+:[^/\s@]+@")


def _reveal(value: Any) -> Any:
    return value.value if isinstance(value, Secret) else value


def _get(mapping: Any, *keys: str) -> Any:
    for key in keys:
        if mapping is None:
            return None
        mapping = _reveal(mapping.get(key) if hasattr(mapping, "get") else None)
    return mapping


def pod_spec(args: ResourceValidationArgs) -> Any:
    if args.resource_type in POD_TEMPLATE_KINDS:
        return _get(args.props, "spec", "template", "spec")
    if args.resource_type == "kubernetes:batch/v1:CronJob":
        return _get(args.props, "spec", "jobTemplate", "spec", "template", "spec")
    if args.resource_type == "kubernetes:core/v1:Pod":
        return _get(args.props, "spec")
    return None


def containers(args: ResourceValidationArgs) -> Iterator[Any]:
    spec = pod_spec(args)
    if spec is None:
        return
    for field in ("initContainers", "containers"):
        for container in _get(spec, field) or []:
            yield _reveal(container)


def image_is_pinned(image: str) -> bool:
    if "@sha256:" in image:
        return True
    last = image.rsplit("/", 1)[-1]
    return ":" in last and last.rsplit(":", 1)[1] not in ("", "latest")


def pinned_images(args: ResourceValidationArgs, report: Report) -> None:
    images = [(c.get("name"), _reveal(c.get("image"))) for c in containers(args)]
    if args.resource_type == DOCKER_CONTAINER:
        images.append((args.name, _reveal(args.props.get("image"))))
    for name, image in images:
        if isinstance(image, str) and not image_is_pinned(image):
            report(f"container {name} uses image {image!r}: pin a tag other than latest, or a digest")


def no_privilege(args: ResourceValidationArgs, report: Report) -> None:
    for container in containers(args):
        security = _reveal(container.get("securityContext")) or {}
        name = container.get("name")
        if _reveal(security.get("privileged")):
            report(f"container {name} is privileged")
        if _reveal(security.get("allowPrivilegeEscalation")) is not False:
            report(f"container {name} must set securityContext.allowPrivilegeEscalation: false")
    if args.resource_type == DOCKER_CONTAINER:
        if _reveal(args.props.get("privileged")):
            report(f"container {args.name} is privileged")
        options = [_reveal(o) for o in _reveal(args.props.get("securityOpts")) or []]
        if "no-new-privileges:true" not in options:
            report(f"container {args.name} must set securityOpts no-new-privileges:true")


def limits_present(args: ResourceValidationArgs, report: Report) -> None:
    for container in containers(args):
        limits = _get(container, "resources", "limits") or {}
        missing = [kind for kind in ("cpu", "memory") if not limits.get(kind)]
        if missing:
            report(f"container {container.get('name')} has no {' or '.join(missing)} limit")


def _looks_secret(name: str, value: Any) -> bool:
    return bool(SECRET_NAME.search(name)) or (isinstance(value, str) and bool(CREDENTIAL_URL.search(value)))


def no_plaintext_secrets(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type == CONFIG_MAP:
        for field in ("data", "binaryData"):
            for key, value in (_reveal(args.props.get(field)) or {}).items():
                if _looks_secret(key, _reveal(value)):
                    report(f"ConfigMap key {key} looks like a credential: put it in a Secret")
    for container in containers(args):
        for entry in _reveal(container.get("env")) or []:
            entry = _reveal(entry)
            if "value" in entry and _looks_secret(entry.get("name", ""), _reveal(entry.get("value"))):
                report(f"container {container.get('name')} env {entry.get('name')} is a plain value: "
                       "use valueFrom.secretKeyRef")
    envs = args.props.get("envs") if args.resource_type == DOCKER_CONTAINER else None
    if isinstance(envs, Secret):
        return  # the whole list is encrypted in state and masked in output
    if envs:
        for entry in envs:
            if isinstance(entry, Secret) or not isinstance(entry, str):
                continue  # secret inputs are encrypted in state and masked in output
            name, _, value = entry.partition("=")
            if _looks_secret(name, value):
                report(f"container {args.name} env {name} is a plain value: pass it as a Pulumi secret")


def _labels(args: ResourceValidationArgs) -> dict[str, str]:
    if args.resource_type == PVC:
        return dict(_get(args.props, "metadata", "labels") or {})
    return {_reveal(item).get("label"): _reveal(item).get("value") for item in _reveal(args.props.get("labels")) or []}


def stateful_volumes_protected(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type not in (PVC, DOCKER_VOLUME):
        return
    production = bool(args.get_config().get("production")) or _labels(args).get(PRODUCTION_LABEL) == "true"
    if production and not args.opts.protect:
        report(f"{args.name} holds production data: set protect so `pulumi destroy` cannot delete it")
