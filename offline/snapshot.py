"""Print, as JSON, what one stack of a checkout of the program declares (under mocks).

    venv/bin/python -m offline.snapshot --root /path/to/checkout --stack staging [--config '{"geostack:k": "v"}']

Resources are keyed by URN, with their type, inputs and the options that decide what a
change does to them (ignoreChanges, retainOnDelete, protect). Runs in its own process so that the checkout's `pulumi_geostack` package is the one imported,
which lets `offline.diff` compare two versions of the program side by side. Secret values
are replaced by a fingerprint, never printed.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

SECRET = "<secret {}>"


def _masked(value: Any) -> Any:
    from offline.program_run import SECRET_SIG

    if isinstance(value, dict):
        if value.get(SECRET_SIG[0]) == SECRET_SIG[1]:
            # A short fingerprint shows that a secret changed without revealing it.
            digest = hashlib.sha256(json.dumps(value.get("value"), sort_keys=True).encode()).hexdigest()[:8]
            return SECRET.format(digest)
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def snapshot(root: Path, stack: str, config: dict[str, str] | None = None) -> dict[str, Any]:
    from offline.program_run import run_program
    from offline.render import plain

    # Last, so nothing imported afterwards can put this checkout's path back in front:
    # the program must import the other checkout's `pulumi_geostack` (or `components`, before the rename).
    sys.path.insert(0, str(root))
    run = run_program(stack, config, project_root=root)
    resources = {r.urn: {"type": r.type, "inputs": plain(_masked(r.raw_inputs)), "ignoreChanges": r.ignore_changes,
                         "retainOnDelete": r.retain_on_delete, "protect": r.protect} for r in run.resources}
    outputs = {k: ("<secret>" if k in run.secret_outputs else plain(_masked(v))) for k, v in run.outputs.items()}
    return {"resources": resources, "outputs": outputs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True, help="checkout of the program")
    parser.add_argument("--stack", required=True)
    parser.add_argument("--config", type=json.loads, help="config on top of the stack file, as a JSON object")
    args = parser.parse_args()
    print(json.dumps(snapshot(args.root.resolve(), args.stack, args.config), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
