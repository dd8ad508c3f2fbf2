"""PinnedImage: an upstream image reference held at the digest its tag named when first deployed.

Upstream GeoNode images carry only mutable tags (`2.28.4-latest`): a push upstream would
otherwise change what a restarted pod runs, and what the next `up` deploys, without anyone
asking. A dynamic resource keeps the digest in the stack's state: it is resolved on create,
and again only when the reference or the `refresh` value changes (the user's way to move; the
docs/geonode-operations.md#upstream-images-held-at-a-digest). Reading the registry on every run
would make previews depend on upstream pushes, so nothing here reads it back.
"""
from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

HELD_BY = ("reference", "refresh")  # what makes it resolve again


def _resolved(props: dict[str, Any]) -> dict[str, Any]:
    from pulumi_geostack.image_pins.resolve import resolve_digest

    digest = resolve_digest(props["reference"], props.get("plainHttpRegistry") or "")
    return {**props, "digest": digest, "pinned": f"{props['reference']}@{digest}"}


class _PinnedImageProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=props["reference"], outs=_resolved(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [key for key in HELD_BY if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=_resolved(news))


class PinnedImage(pulumi.dynamic.Resource):
    """`pinned` is `reference@sha256:<digest>`, the digest the tag named at create (or last refresh)."""

    digest: pulumi.Output[str]
    pinned: pulumi.Output[str]

    def __init__(self, name: str, reference: str, refresh: str, plain_http_registry: str = "",
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__(_PinnedImageProvider(), name, {
            "reference": reference, "refresh": refresh, "plainHttpRegistry": plain_http_registry,
            "digest": None, "pinned": None}, opts)


def pinned(name: str, reference: str, refresh: str, parent: pulumi.Resource,
           plain_http_registry: str = "") -> pulumi.Input[str]:
    """`reference` as given when it names a digest already; else held at its tag's digest.
    `plain_http_registry`: a registry without TLS (microk8s's), beside the loopback ones."""
    if "@" in reference:
        return reference
    return PinnedImage(name, reference, refresh, plain_http_registry,
                       opts=pulumi.ResourceOptions(parent=parent)).pinned
