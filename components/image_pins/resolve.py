"""What digest a registry gives an image tag now: the distribution API's manifest request, with
Docker Hub's anonymous token flow, and nothing else (no engine, no credentials).

References are read the way Docker reads them: `redis:7` is docker.io's `library/redis`, and a
first path part with a dot, a colon or `localhost` names the registry. Registries on a loopback
address speak plain HTTP, as Docker assumes (microk8s's at localhost:32000); others HTTPS.
"""
from __future__ import annotations

import hashlib
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

ACCEPT = ", ".join((
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
))
DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
LOOPBACK = re.compile(r"(localhost|127(\.\d+){3}|\[::1\])(:\d+)?")
TIMEOUT_SECONDS = 60


class ResolveError(Exception):
    """The registry gave no digest for the tag."""


@dataclass(frozen=True)
class TagReference:
    registry: str  # as written (docker.io when none is)
    repository: str  # library/redis for docker.io's official images
    tag: str

    @classmethod
    def parse(cls, reference: str) -> "TagReference":
        if "@" in reference:
            raise ValueError(f"{reference!r} is already pinned by digest")
        name, tag = reference, "latest"
        if ":" in reference.rsplit("/", 1)[-1]:
            name, tag = reference.rsplit(":", 1)
        first, _, rest = name.partition("/")
        if rest and ("." in first or ":" in first or first == "localhost"):
            registry, repository = first, rest
        else:
            registry, repository = DOCKER_HUB, name
        if registry == DOCKER_HUB and "/" not in repository:
            repository = f"library/{repository}"
        return cls(registry, repository, tag)

    @property
    def api(self) -> str:
        host = DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry
        scheme = "http" if LOOPBACK.fullmatch(self.registry) else "https"
        return f"{scheme}://{host}/v2/{self.repository}/manifests/{urllib.parse.quote(self.tag)}"


def _bearer_token(challenge: str) -> str:
    """An anonymous pull token from the realm a 401's `WWW-Authenticate: Bearer ...` names."""
    fields = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
    if not challenge.lower().startswith("bearer") or "realm" not in fields:
        raise ResolveError(f"the registry asks for credentials ({challenge or 'no challenge'}); "
                           "anonymous pulls only: pin this image by digest yourself")
    query = urllib.parse.urlencode({key: fields[key] for key in ("service", "scope") if key in fields})
    with urllib.request.urlopen(f"{fields['realm']}?{query}", timeout=TIMEOUT_SECONDS) as answer:
        body = json.load(answer)
    return body.get("token") or body["access_token"]


def _manifest_digest(url: str, token: str = "") -> str:
    headers = {"Accept": ACCEPT, **({"Authorization": f"Bearer {token}"} if token else {})}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=TIMEOUT_SECONDS) as answer:
        body = answer.read()
        # The registry's own digest names the manifest (or the index of platforms) as stored;
        # a registry that sends none gets the digest of the bytes, which is the same by definition.
        return answer.headers.get("Docker-Content-Digest") or "sha256:" + hashlib.sha256(body).hexdigest()


def resolve_digest(reference: str) -> str:
    """sha256:<hex> of what `reference` (name:tag) names in its registry now."""
    ref = TagReference.parse(reference)
    try:
        try:
            return _manifest_digest(ref.api)
        except urllib.error.HTTPError as error:
            if error.code != 401:
                raise
            return _manifest_digest(ref.api, _bearer_token(error.headers.get("WWW-Authenticate", "")))
    except (urllib.error.URLError, OSError, KeyError, ValueError) as error:
        detail = f"{error.code} {error.reason}" if isinstance(error, urllib.error.HTTPError) else str(error)
        raise ResolveError(f"could not resolve {reference} to a digest at {ref.api}: {detail}") from None
