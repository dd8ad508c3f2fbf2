"""Just enough of the OCI distribution API (what `docker push` speaks) to derive an image.

Reads a manifest and a blob, asks whether the registry has a blob, uploads one in a single PUT,
and puts a manifest. microk8s's registry speaks plain HTTP, wherever its node is; ECR speaks
HTTPS with basic auth (user AWS, a token from ECR's GetAuthorizationToken).
"""
from __future__ import annotations

import base64
import hashlib
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import BinaryIO, Optional

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
LISTS = (DOCKER_LIST, OCI_INDEX)
TIMEOUT_SECONDS = 300


class RegistryError(Exception):
    pass


@dataclass(frozen=True)
class ImageRef:
    registry: str  # host[:port]
    repository: str
    digest: str  # sha256:<hex>

    @classmethod
    def parse(cls, ref: str) -> "ImageRef":
        """registry/repository@sha256:<hex>"""
        name, _, digest = ref.partition("@")
        registry, _, repository = name.partition("/")
        if not digest.startswith("sha256:") or not repository:
            raise ValueError(f"not an image reference pinned by digest: {ref!r}")
        return cls(registry, repository, digest)

    def __str__(self) -> str:
        return f"{self.registry}/{self.repository}@{self.digest}"


@dataclass(frozen=True)
class Registry:
    host: str
    username: str = ""
    password: str = ""
    plain_http: bool = False  # True for microk8s's registry addon, which has no TLS; ECR has nothing else

    @property
    def base(self) -> str:
        return f"{'http' if self.plain_http else 'https'}://{self.host}/v2"

    def _request(self, method: str, url: str, body: Optional[BinaryIO | bytes] = None,
                 headers: Optional[dict[str, str]] = None, size: Optional[int] = None):
        request = urllib.request.Request(url if url.startswith("http") else self.base + url, data=body,
                                         method=method, headers=dict(headers or {}))
        if size is not None:
            request.add_header("Content-Length", str(size))
        if self.username:
            token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        try:
            return urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS)
        except urllib.error.HTTPError as error:
            detail = error.read(2000).decode(errors="replace")
            raise RegistryError(f"{method} {request.full_url} answered {error.code}: {detail}") from None

    def manifest(self, repository: str, reference: str) -> tuple[str, bytes]:
        """(media type, body) of a manifest, an image's or a list of platforms'."""
        accept = ", ".join((DOCKER_MANIFEST, OCI_MANIFEST, DOCKER_LIST, OCI_INDEX))
        with self._request("GET", f"/{repository}/manifests/{reference}", headers={"Accept": accept}) as answer:
            return answer.headers.get_content_type(), answer.read()

    def image_manifest(self, repository: str, digest: str, platform: str) -> tuple[str, dict]:
        """An image's manifest; from a list of platforms, the one for `platform` (os/arch)."""
        media_type, body = self.manifest(repository, digest)
        if hashlib.sha256(body).hexdigest() != digest.removeprefix("sha256:"):
            raise RegistryError(f"{self.host}/{repository}@{digest} answered a manifest of another digest")
        document = json.loads(body)
        if media_type not in LISTS:
            return media_type, document
        system, architecture = platform.split("/")
        for entry in document["manifests"]:
            if (entry.get("platform", {}).get("os"), entry.get("platform", {}).get("architecture")) == (
                    system, architecture):
                return self.image_manifest(repository, entry["digest"], platform)
        raise RegistryError(f"{self.host}/{repository}@{digest} has no image for {platform}")

    def blob(self, repository: str, digest: str) -> bytes:
        with self._request("GET", f"/{repository}/blobs/{digest}") as answer:
            return answer.read()

    def has_blob(self, repository: str, digest: str) -> bool:
        try:
            with self._request("HEAD", f"/{repository}/blobs/{digest}"):
                return True
        except RegistryError as error:
            if " answered 404" in str(error):
                return False
            raise

    def push_blob(self, repository: str, digest: str, body: BinaryIO | bytes, size: int) -> None:
        """One upload session, finished by a single PUT that carries the whole blob."""
        with self._request("POST", f"/{repository}/blobs/uploads/", body=b"", size=0) as answer:
            location = answer.headers["Location"]
        if not location.startswith("http"):
            location = self.base.removesuffix("/v2") + location
        separator = "&" if "?" in location else "?"
        url = f"{location}{separator}digest={urllib.parse.quote(digest)}"
        with self._request("PUT", url, body=body, size=size,
                           headers={"Content-Type": "application/octet-stream"}):
            pass

    def mount_blob(self, repository: str, source: str, digest: str) -> None:
        """Link a blob of `source` into `repository` of the same registry, uploading nothing."""
        query = urllib.parse.urlencode({"mount": digest, "from": source})
        with self._request("POST", f"/{repository}/blobs/uploads/?{query}", body=b"", size=0) as answer:
            if answer.status != 201:  # 202: the registry opened an upload instead
                raise RegistryError(f"{self.host} did not link {digest} from {source} into {repository}")

    def put_manifest(self, repository: str, tag: str, media_type: str, body: bytes) -> str:
        with self._request("PUT", f"/{repository}/manifests/{tag}", body=body, size=len(body),
                           headers={"Content-Type": media_type}) as answer:
            digest = answer.headers.get("Docker-Content-Digest", "")
        expected = f"sha256:{hashlib.sha256(body).hexdigest()}"
        if digest and digest != expected:
            raise RegistryError(f"{self.host}/{repository}:{tag} stored as {digest}, expected {expected}")
        return expected
