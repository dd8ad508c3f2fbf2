"""ProjectImage: a Pulumi resource whose `ref` is the QGIS image with the project folder added.

A dynamic resource: the push runs in the program's own Python, so neither a Docker engine nor a
provider plugin is needed. Its inputs are the folder's content hash, not its files, so an
unchanged folder is no change at all, and one changed file is an update that pushes one layer.
Deleting it deletes nothing: the registry keeps the image (ECR's lifecycle policy expires it).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

# What makes another image; credentials do not (an ECR token changes on every run).
IMAGE_INPUTS = ("registry", "repository", "base", "folder", "content", "mount", "platform", "plainHttp")


def _push(props: dict[str, Any]) -> dict[str, Any]:
    from pulumi_geostack.project_image.derive import derive_image
    from pulumi_geostack.project_image.registry import ImageRef, Registry

    registry = Registry(props["registry"], props.get("username") or "", props.get("password") or "",
                        plain_http=props["plainHttp"])
    derived = derive_image(registry, ImageRef.parse(props["base"]), Path(props["root"]) / props["folder"],
                           props["mount"], props["platform"], props["repository"], f"project-{props['content']}")
    return {"ref": derived.ref, "pushedBytes": derived.pushed_bytes}


class _ProjectImageProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        pushed = _push(props)
        return CreateResult(id_=pushed["ref"], outs={**props, **pushed})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [key for key in IMAGE_INPUTS if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs={**news, **_push(news)})


class ProjectImage(pulumi.dynamic.Resource):
    """`base` (the QGIS image, by digest, in `registry`) with `folder` (relative to `root`, the
    project's directory, so state is the same on every machine) at `mount`."""

    ref: pulumi.Output[str]
    pushedBytes: pulumi.Output[int]

    def __init__(self, name: str, *, registry: pulumi.Input[str], repository: pulumi.Input[str],
                 base: pulumi.Input[str], root: str,
                 folder: str, content: str, mount: str, platform: str, plain_http: bool,
                 username: pulumi.Input[str] = "", password: pulumi.Input[str] = "",
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__(_ProjectImageProvider(), name, {
            "registry": registry, "repository": repository, "base": base, "root": root, "folder": folder,
            "content": content, "mount": mount, "platform": platform, "plainHttp": plain_http, "username": username,
            "password": pulumi.Output.secret(password), "ref": None, "pushedBytes": None,
        }, opts)
