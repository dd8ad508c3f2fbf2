"""Upstream images held at the digest their tag named at the first deploy (see provider.py)."""
from pulumi_geostack.image_pins.provider import PinnedImage, pinned

__all__ = ["PinnedImage", "pinned"]
