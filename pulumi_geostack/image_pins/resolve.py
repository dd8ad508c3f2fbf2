"""What digest a registry gives an image tag now: the distribution API's manifest request, with
Docker Hub's anonymous token flow, and nothing else (no engine, no credentials).

References are read the way Docker reads them: `redis:7` is docker.io's `library/redis`, and a
first path part with a dot, a colon or `localhost` names the registry. Registries on a loopback
address speak plain HTTP, as Docker assumes (microk8s's at localhost:32000), and so does one the
caller names (microk8s's registry on another node); others HTTPS. The digest comes from a HEAD
request, which Docker Hub does not count against its anonymous pull limit.
"""
from __future__ import annotations

import hashlib
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from pulumi_geostack.project_image.registry import DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST

# Lists of platforms first: a multi-platform tag is held at its index, as `docker pull` pins it.
ACCEPT = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))
DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
DOCKER_HUB_NAMES = (DOCKER_HUB, "index.docker.io", DOCKER_HUB_API)
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
        if registry in DOCKER_HUB_NAMES:
            registry = DOCKER_HUB
        if registry == DOCKER_HUB and "/" not in repository:
            repository = f"library/{repository}"
        return cls(registry, repository, tag)

    def api(self, plain_http_registry: str = "") -> str:
        host = DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry
        plain = LOOPBACK.fullmatch(self.registry) or self.registry == plain_http_registry
        return f"{'http' if plain else 'https'}://{host}/v2/{self.repository}/manifests/{urllib.parse.quote(self.tag)}"


class _NeedsCredentials(Exception):
    pass


def _bearer_token(challenge: str) -> str:
    """An anonymous pull token from the realm a 401's `WWW-Authenticate: Bearer ...` names."""
    fields = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
    if not challenge.lower().startswith("bearer") or "realm" not in fields:
        raise _NeedsCredentials(challenge or "no challenge")
    query = urllib.parse.urlencode({key: fields[key] for key in ("service", "scope") if key in fields})
    try:
        with urllib.request.urlopen(f"{fields['realm']}?{query}", timeout=TIMEOUT_SECONDS) as answer:
            body = json.load(answer)
    except urllib.error.HTTPError as error:
        if error.code in (401, 403):
            raise _NeedsCredentials(f"the token service answered {error.code}") from None
        raise
    return body.get("token") or body["access_token"]


def _manifest_digest(url: str, token: str = "") -> str:
    headers = {"Accept": ACCEPT, **({"Authorization": f"Bearer {token}"} if token else {})}
    for method in ("HEAD", "GET"):
        request = urllib.request.Request(url, headers=headers, method=method)
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
            # The registry's own digest names the manifest (or the index of platforms) as stored;
            # a registry that sends none gets the digest of the bytes, which is the same by definition.
            if answer.headers.get("Docker-Content-Digest"):
                return answer.headers["Docker-Content-Digest"]
            if method == "GET":
                return "sha256:" + hashlib.sha256(answer.read()).hexdigest()
    raise AssertionError("unreachable")


def _digest(url: str) -> str:
    try:
        return _manifest_digest(url)
    except urllib.error.HTTPError as error:
        if error.code != 401:
            raise
        challenge = error.headers.get("WWW-Authenticate", "")
    try:
        return _manifest_digest(url, _bearer_token(challenge))
    except urllib.error.HTTPError as error:
        if error.code in (401, 403):  # an anonymous token that may not pull: private, or misspelt
            raise _NeedsCredentials(f"{error.code} with an anonymous token") from None
        raise


def resolve_digest(reference: str, plain_http_registry: str = "") -> str:
    """sha256:<hex> of what `reference` (name:tag) names in its registry now. `plain_http_registry`:
    a registry (host:port) to ask over plain HTTP, beside the loopback ones."""
    ref = TagReference.parse(reference)
    url = ref.api(plain_http_registry)
    try:
        return _digest(url)
    except _NeedsCredentials as error:
        raise ResolveError(f"could not resolve {reference} to a digest at {url}: the registry wants credentials "
                           f"({error}); geostack pulls anonymously, so give this image by digest "
                           f"(name:tag@sha256:<digest>)") from None
    except (urllib.error.URLError, OSError, KeyError, ValueError) as error:
        detail = f"{error.code} {error.reason}" if isinstance(error, urllib.error.HTTPError) else str(error)
        raise ResolveError(f"could not resolve {reference} to a digest at {url}: {detail}") from None
