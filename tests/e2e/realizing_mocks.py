"""`run_program` acting as `pulumi up` on the docker target, for engines without pulumi-docker.

The Go module proxy does not carry the pulumi-docker provider, so the real CLI cannot run
the docker target here (see docs/testing.md). These mocks stand in for the provider instead: each
Docker resource is created on a real engine by DockerRealizer the moment the program registers
it, and what the provider computes comes back from the engine, such as a one-shot container's
exit code, which the program checks. The Pulumi SDK registers a resource only once the
resources it depends on are registered, so containers start in the order `pulumi up` would
start them, and a failure (a task's exit code, a container that never turns healthy) fails
the run the way it would fail `pulumi up`. PinnedImage resources run their real provider, which
asks the real registry their images are in.
"""
from __future__ import annotations

from pulumi.runtime import mocks as pulumi_mocks

from pulumi_geostack.image_pins.provider import HELD_BY, _PinnedImageProvider
from offline.program_run import GeostackMocks, reveal
from tests.e2e.docker_realizer import DockerRealizer


class ResolvingMocks(GeostackMocks):
    """PinnedImages resolved by their real provider against the real registry. `pins` keeps their
    outputs between runs, as the stack's state does: a tag is resolved on create, and again only
    where the provider's own diff says so."""

    def __init__(self, pins: dict[str, dict] | None = None):
        super().__init__()
        self.pins = {} if pins is None else pins

    def new_resource(self, args: pulumi_mocks.MockResourceArgs):
        ident, state = super().new_resource(args)
        if args.typ == "pulumi-python:dynamic:Resource" and "refresh" in state:
            state.update(self._pin(args.name, reveal(args.inputs)))
        return ident, state

    def _pin(self, name: str, inputs: dict) -> dict:
        provider = _PinnedImageProvider()
        news = {key: inputs[key] for key in (*HELD_BY, "plainHttpRegistry")}
        olds = self.pins.get(name)
        if olds is None:
            self.pins[name] = provider.create(news).outs
        elif provider.diff(name, olds, news).changes:
            self.pins[name] = provider.update(name, olds, news).outs
        return self.pins[name]


class RealizingMocks(ResolvingMocks):
    def __init__(self, realizer: DockerRealizer, pins: dict[str, dict] | None = None):
        super().__init__(pins)
        self.realizer = realizer

    def new_resource(self, args: pulumi_mocks.MockResourceArgs):
        ident, state = super().new_resource(args)
        if args.typ.startswith("docker:"):
            state.update(self.realizer.apply(args.typ, args.name, reveal(args.inputs)))
        return ident, state
