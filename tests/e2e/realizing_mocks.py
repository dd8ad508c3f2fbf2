"""`run_program` acting as `pulumi up` on the docker target, for engines without pulumi-docker.

The Go module proxy does not carry the pulumi-docker provider, so the real CLI cannot run
the docker target here (see the README). These mocks stand in for the provider instead: each
Docker resource is created on a real engine by DockerRealizer the moment the program registers
it, and what the provider computes comes back from the engine, such as a one-shot container's
exit code, which the program checks. The Pulumi SDK registers a resource only once the
resources it depends on are registered, so containers start in the order `pulumi up` would
start them, and a failure (a task's exit code, a container that never turns healthy) fails
the run the way it would fail `pulumi up`.
"""
from __future__ import annotations

from pulumi.runtime import mocks as pulumi_mocks

from offline.program_run import GeostackMocks, reveal
from tests.e2e.docker_realizer import DockerRealizer


class RealizingMocks(GeostackMocks):
    def __init__(self, realizer: DockerRealizer):
        super().__init__()
        self.realizer = realizer

    def new_resource(self, args: pulumi_mocks.MockResourceArgs):
        ident, state = super().new_resource(args)
        if args.typ.startswith("docker:"):
            state.update(self.realizer.apply(args.typ, args.name, reveal(args.inputs)))
        return ident, state
