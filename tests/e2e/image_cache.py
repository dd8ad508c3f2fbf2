"""Images built from a build context, kept as `docker save` tarballs between test runs.

The tests' dockerd keeps its data root between runs, but a new machine's CI cache may carry
this folder without it, and a cold GeoNode build takes minutes; a tarball named by a hash of
the build context loads in seconds. Any change to a file in the context changes the hash, so a stale image is never
used; older tarballs of the same image are removed when a new one is saved. The same context
built with other arguments or for another platform (the QGIS image for another release) is
cached under a name of its own, so the two never evict each other.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import docker

from tests.e2e.docker_engine import CACHE_DIR, cache_lock, has_image

IMAGE_CACHE = CACHE_DIR / "images"
LOCAL_CA_DIR = Path("/usr/local/share/ca-certificates")


def context_hash(context: Path) -> str:
    """Hash of every file's path, executable bit and bytes in the build context."""
    digest = hashlib.sha256()
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(context)).encode() + b"\0")
        digest.update(b"x" if path.stat().st_mode & 0o111 else b"-")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def build_variant(buildargs: dict[str, str] | None, platform: str) -> str:
    """Hash of how a context is built (arguments, platform): the same files built another way,
    such as the QGIS image for another release, are another image, cached beside this one."""
    text = "\0".join(f"{key}={value}" for key, value in sorted((buildargs or {}).items())) + f"\0platform={platform}"
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def local_ca_certs() -> str:
    """The CA certificates this host adds to Debian's (a TLS-intercepting proxy's, say)."""
    return "".join(p.read_text() for p in sorted(LOCAL_CA_DIR.glob("*.crt")))


def _build(client: docker.DockerClient, context: Path, tag: str, buildargs: dict[str, str], platform: str) -> None:
    log: list[str] = []
    for chunk in client.api.build(path=str(context), tag=tag, buildargs=buildargs, platform=platform or None,
                                  rm=True, forcerm=True, decode=True):
        log.append(chunk.get("stream") or chunk.get("status") or "")
        if "error" in chunk:
            tail = "".join(log)[-4000:]
            raise RuntimeError(f"building {context.name} failed: {chunk['error']}\n{tail}")


def cached_image(client: docker.DockerClient, context: Path, name: str, tag: str,
                 buildargs: dict[str, str] | None = None, platform: str = "") -> str:
    """`tag` in the engine, built from `context` (with `buildargs`, for `platform` if given) or
    loaded from the cache; returns the hash."""
    variant, fingerprint = build_variant(buildargs, platform), context_hash(context)
    keyed = f"geostack-cache/{name}:{variant}-{fingerprint}"
    with cache_lock(f"image-{name}-{variant}"):
        if not has_image(client, keyed):
            tarball = IMAGE_CACHE / f"{name}-{variant}-{fingerprint}.tar"
            if tarball.exists():
                with open(tarball, "rb") as data:
                    client.images.load(data)
            else:
                _build(client, context, keyed, buildargs or {}, platform)
                _save(client, keyed, tarball, stale=(f"{name}-{variant}-{'?' * 16}.tar", f"{name}-{'?' * 16}.tar"))
    client.images.get(keyed).tag(tag)
    return f"{variant}-{fingerprint}"


def _save(client: docker.DockerClient, image: str, tarball: Path, stale: tuple[str, ...]) -> None:
    """`image` saved as `tarball`, in place of the tarballs matching `stale`: older builds of the
    same context built the same way (and those named before variants were: <name>-<hash>.tar);
    other variants stay."""
    IMAGE_CACHE.mkdir(parents=True, exist_ok=True)
    partial = tarball.with_suffix(".partial")
    with open(partial, "wb") as out:
        for chunk in client.images.get(image).save(named=True):
            out.write(chunk)
    for pattern in stale:
        for old in IMAGE_CACHE.glob(pattern):
            old.unlink()
    partial.rename(tarball)
