"""The pause image, built locally: pause.c compiled static, packed as a one-layer Docker
archive that `ctr images import` reads (no Docker engine needed)."""
from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path

SOURCE = Path(__file__).with_name("pause.c")


def _tar_member(archive: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    archive.addfile(info, io.BytesIO(data))


def build_pause_archive(work: Path, reference: str) -> Path:
    """`work/pause.tar`: an image named `reference` whose entrypoint is the static pause binary."""
    binary = work / "pause"
    subprocess.run(["gcc", "-static", "-Os", "-o", str(binary), str(SOURCE)], check=True, capture_output=True)
    layer_buffer = io.BytesIO()
    with tarfile.open(fileobj=layer_buffer, mode="w") as layer:
        _tar_member(layer, "pause", binary.read_bytes(), 0o755)
    layer_bytes = layer_buffer.getvalue()
    layer_digest = hashlib.sha256(layer_bytes).hexdigest()
    config = json.dumps({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Entrypoint": ["/pause"], "User": "65535:65535"},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{layer_digest}"]},
    }).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": [reference],
                            "Layers": [f"{layer_digest}/layer.tar"]}]).encode()
    archive_path = work / "pause.tar"
    with tarfile.open(archive_path, mode="w") as archive:
        _tar_member(archive, f"{layer_digest}/layer.tar", layer_bytes)
        _tar_member(archive, config_name, config)
        _tar_member(archive, "manifest.json", manifest)
    return archive_path
