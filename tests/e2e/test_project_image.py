"""A project folder as layers on top of an image, pushed to a real registry and run by a real engine.

The registry is Debian's docker-registry (microk8s's registry addon runs the same server); the
base is debian:bookworm-slim, pushed there by a real Docker engine, which then pulls the derived
image by digest and reads the folder back from a container of it.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil

import pytest

from pulumi_geostack.project_image.derive import derive_image
from pulumi_geostack.project_image.layers import OWN_LAYER_BYTES
from pulumi_geostack.project_image.registry import DOCKER_LIST, DOCKER_MANIFEST, ImageRef, Registry, RegistryError
from offline.loopback import scratch_dir
from tests.e2e.docker_engine import docker_engine, ensure_base_image
from tests.e2e.private_registry import private_registry

BASE_REPOSITORY, REPOSITORY, PLATFORM = "base/debian", "geostack/qgis-server", "linux/amd64"


@pytest.fixture(scope="module")
def registry():
    with private_registry() as host:
        yield host


@pytest.fixture(scope="module")
def engine():
    with docker_engine() as client:
        yield client


@pytest.fixture(scope="module")
def base(engine, registry) -> ImageRef:
    ensure_base_image(engine, "bookworm")
    name = f"{registry}/{BASE_REPOSITORY}"
    engine.images.get("debian:bookworm-slim").tag(name, "1")
    for line in engine.api.push(name, tag="1", stream=True, decode=True):
        assert "error" not in line, line
    digest = next(d for d in engine.api.inspect_image(f"{name}:1")["RepoDigests"] if d.startswith(name + "@"))
    return ImageRef.parse(digest)


@pytest.fixture
def folder():
    with scratch_dir("geostack-project-image-") as folder:
        (folder / "maps").mkdir()
        (folder / "maps" / "harbour.qgs").write_text("<qgis/>\n")
        (folder / "sample.qgs").write_text("<qgis/>\n")
        (folder / "fonts").mkdir()
        (folder / "fonts" / "a.ttf").write_bytes(os.urandom(4096))
        (folder / "dem.tif").write_bytes(os.urandom(OWN_LAYER_BYTES + 1))  # a layer of its own
        yield folder


def sha256_of_files(folder) -> dict[str, str]:
    return {path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def files_in_image(engine, ref: str) -> dict[str, str]:
    engine.images.pull(ref)
    output = engine.containers.run(ref, ["sh", "-c", "cd /data && find . -type f | sort | xargs sha256sum"],
                                   remove=True).decode()
    return {name.removeprefix("./"): digest for digest, name in (line.split() for line in output.splitlines())}


def test_the_engine_runs_the_derived_image_with_the_folder_at_data(engine, registry, base, folder):
    derived = derive_image(Registry(registry, plain_http=True), base, folder, "/data", PLATFORM, REPOSITORY,
                           "project-1")
    assert derived.ref.startswith(f"{registry}/{REPOSITORY}@sha256:")
    assert derived.layers == 4  # the root's files, fonts/, maps/, and dem.tif alone
    assert files_in_image(engine, derived.ref) == sha256_of_files(folder)
    owner_and_mode = engine.containers.run(derived.ref, ["stat", "-c", "%U %a", "/data/maps/harbour.qgs", "/data/maps"],
                                           remove=True).decode().split("\n")
    assert owner_and_mode[:2] == ["root 644", "root 755"]


def test_the_same_folder_gives_the_same_image_and_sends_no_layer_again(registry, base, folder):
    first = derive_image(Registry(registry, plain_http=True), base, folder, "/data", PLATFORM, REPOSITORY, "project-2")
    copy = folder.parent / (folder.name + "-copy")
    shutil.copytree(folder, copy)  # other inodes and times, same files
    try:
        again = derive_image(Registry(registry, plain_http=True), base, copy, "/data", PLATFORM, REPOSITORY, "project-2")
    finally:
        shutil.rmtree(copy)
    assert again.ref == first.ref
    assert again.pushed_bytes < 2000  # the manifest only


def test_one_changed_file_sends_only_its_layer(engine, registry, base, folder):
    derive_image(Registry(registry, plain_http=True), base, folder, "/data", PLATFORM, REPOSITORY, "project-3")
    (folder / "maps" / "harbour.qgs").write_text("<qgis version='2'/>\n")
    changed = derive_image(Registry(registry, plain_http=True), base, folder, "/data", PLATFORM, REPOSITORY, "project-3")
    # maps/ (two small files in a tar) and a new config and manifest: kilobytes, not the 16 MiB GeoTIFF.
    assert changed.pushed_bytes < 40_000
    assert files_in_image(engine, changed.ref) == sha256_of_files(folder)


def test_a_base_given_as_a_list_of_platforms_is_extended_for_the_nodes_platform(registry, base, folder):
    """A prebuilt qgisImage pushed by buildx is a list of platforms: the folder goes on top of the
    image for the nodes' platform, and the result is a plain image."""
    client = Registry(registry, plain_http=True)
    media_type, body = client.manifest(base.repository, base.digest)
    # Another platform's image: a config and no layers.
    config = json.dumps({"architecture": "arm64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    client.push_blob(base.repository, config_digest, config, len(config))
    other = json.dumps({"schemaVersion": 2, "mediaType": DOCKER_MANIFEST, "layers": [], "config": {
        "mediaType": "application/vnd.docker.container.image.v1+json", "size": len(config),
        "digest": config_digest}}).encode()
    other_digest = client.put_manifest(base.repository, "arm64", DOCKER_MANIFEST, other)
    listed = {"schemaVersion": 2, "mediaType": DOCKER_LIST, "manifests": [
        {"mediaType": DOCKER_MANIFEST, "size": len(other), "digest": other_digest,
         "platform": {"architecture": "arm64", "os": "linux"}},
        {"mediaType": media_type, "size": len(body), "digest": base.digest,
         "platform": {"architecture": "amd64", "os": "linux"}}]}
    index = client.put_manifest(base.repository, "multi", DOCKER_LIST, json.dumps(listed).encode())
    derived = derive_image(client, ImageRef(registry, base.repository, index), folder, "/data", PLATFORM,
                           REPOSITORY, "project-4")
    plain = derive_image(client, base, folder, "/data", PLATFORM, REPOSITORY, "project-4")
    assert derived.ref == plain.ref
    with pytest.raises(RegistryError, match="has no image for linux/s390x"):
        derive_image(client, ImageRef(registry, base.repository, index), folder, "/data", "linux/s390x",
                     REPOSITORY, "project-5")
