"""The QGIS image with a project folder added as layers: what `FROM qgis` + `COPY folder /data`
would build, made without a Docker engine, byte for byte the same from the same folder."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from pulumi_geostack.project_image.layers import Layer, build_layer, plan_layers
from pulumi_geostack.project_image.registry import DOCKER_MANIFEST, OCI_MANIFEST, ImageRef, Registry, RegistryError

# An uncompressed layer, in each manifest format's own words.
LAYER_TYPES = {DOCKER_MANIFEST: "application/vnd.docker.image.rootfs.diff.tar",
               OCI_MANIFEST: "application/vnd.oci.image.layer.v1.tar"}


@dataclass(frozen=True)
class Derived:
    ref: str  # registry/repository@sha256:<manifest digest>
    pushed_bytes: int  # what the registry did not have yet
    layers: int  # the folder's layers


def _ensure_blob(registry: Registry, target: str, source: str, digest: str) -> None:
    """A base image's blob in the target repository: the registry links it from the source one."""
    if registry.has_blob(target, digest):
        return
    registry.mount_blob(target, source, digest)


def derive_image(registry: Registry, base: ImageRef, folder: Path, mount: str, platform: str,
                 repository: str, tag: str) -> Derived:
    """Push `base` plus `folder` (at `mount`, e.g. /data) to `repository` of `registry`, tagged `tag`."""
    if base.registry != registry.host:
        raise RegistryError(f"the QGIS image {base} must be in {registry.host}, where the project image goes")
    media_type, manifest = registry.image_manifest(base.repository, base.digest, platform)
    if media_type not in LAYER_TYPES:
        raise RegistryError(f"{base} is a {media_type}, not an image manifest geostack can extend")
    for blob in (manifest["config"], *manifest["layers"]):
        if base.repository != repository:
            _ensure_blob(registry, repository, base.repository, blob["digest"])
    config = json.loads(registry.blob(base.repository, manifest["config"]["digest"]))
    pushed = 0
    layers: list[Layer] = [build_layer(folder, plan, mount.strip("/")) for plan in plan_layers(folder)]
    try:
        for layer in layers:
            if not registry.has_blob(repository, layer.digest):
                registry.push_blob(repository, layer.digest, layer.file, layer.size)
                pushed += layer.size
    finally:
        for layer in layers:
            layer.file.close()
    config["rootfs"]["diff_ids"] += [layer.digest for layer in layers]
    config["history"] = config.get("history", []) + [
        {"created_by": f"geostack: project folder {layer.plan.name} at {mount}"} for layer in layers]
    config_body = json.dumps(config, separators=(",", ":")).encode()
    config_digest = f"sha256:{hashlib.sha256(config_body).hexdigest()}"
    if not registry.has_blob(repository, config_digest):
        registry.push_blob(repository, config_digest, config_body, len(config_body))
        pushed += len(config_body)
    derived = {**manifest,
               "config": {**manifest["config"], "digest": config_digest, "size": len(config_body)},
               "layers": manifest["layers"] + [{"mediaType": LAYER_TYPES[media_type], "digest": layer.digest,
                                                "size": layer.size} for layer in layers]}
    body = json.dumps(derived, separators=(",", ":")).encode()
    digest = registry.put_manifest(repository, tag, media_type, body)
    return Derived(f"{registry.host}/{repository}@{digest}", pushed + len(body), len(layers))
