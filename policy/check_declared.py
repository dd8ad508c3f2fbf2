"""Run the pack's rules over resources exported as JSON; print one line per violation.

    policy/venv/bin/python policy/check_declared.py resources.json

The JSON is a list of {"type", "name", "urn", "protect", "inputs"}, where a secret value is
written as {"__secret__": value} (as tests/unit/test_policy_on_program.py exports them).
Exit status 1 when there is any violation. This lets the program's own declarations be
checked by the pack without the Pulumi CLI.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from pulumi_policy import PolicyCustomTimeouts, PolicyResourceOptions, ResourceValidationArgs, Secret

sys.path.insert(0, str(Path(__file__).resolve().parent))

import rules  # noqa: E402

RULES = {
    "pinned-images": rules.pinned_images,
    "no-privilege": rules.no_privilege,
    "limits-present": rules.limits_present,
    "no-plaintext-secrets": rules.no_plaintext_secrets,
    "stateful-volumes-protected": rules.stateful_volumes_protected,
}


def revive(value):
    if isinstance(value, dict):
        if set(value) == {"__secret__"}:
            return Secret(revive(value["__secret__"]))
        return {key: revive(item) for key, item in value.items()}
    if isinstance(value, list):
        return [revive(item) for item in value]
    return value


def violations(resources: list[dict]) -> list[str]:
    found = []
    for resource in resources:
        opts = PolicyResourceOptions(protect=resource["protect"], ignore_changes=[], delete_before_replace=None,
                                     aliases=[], custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
                                     additional_secret_outputs=[])
        args = ResourceValidationArgs(resource["type"], revive(resource["inputs"]), resource["urn"],
                                      resource["name"], opts, None, {})
        for policy, rule in RULES.items():
            rule(args, lambda message, urn=None, policy=policy: found.append(f"{policy}: {resource['name']}: {message}"))
    return found


if __name__ == "__main__":
    found = violations(json.loads(Path(sys.argv[1]).read_text()))
    print("\n".join(found))
    sys.exit(1 if found else 0)
