"""What a change to the program does to each stack, without a Pulumi backend or cloud credentials.

    venv/bin/python -m offline.diff --base origin/main                  # working tree vs origin/main
    venv/bin/python -m offline.diff --base origin/main --head HEAD --stack staging --out review.md

Both versions run under Pulumi's mocks (offline.snapshot), so pull requests from forks,
which get no secrets, still get a review: every resource added, removed or changed, with
the changed fields and their old and new values (secrets only as fingerprints), and the
stack outputs. Values that only a provider knows are stand-ins on both sides.

Resources are matched by URN, as the engine matches them. At the top, in red, come the changes
that can lose data: replacements (with the fields that force them, offline.replacements),
stateful resources deleted, and an object whose resource moved to another URN (a renamed or
re-parented component), which the engine creates anew and then deletes under its old URN.
"""
from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator, Optional

from offline.replacements import STATEFUL_TYPES, identity, replacing_fields, under

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def checkout(repo: Path, rev: Optional[str]) -> Iterator[Path]:
    """The repository's working tree for None, else a temporary worktree of `rev`."""
    if rev is None:
        yield repo
        return
    with tempfile.TemporaryDirectory(prefix="geostack-diff-") as work:
        tree = Path(work) / "tree"
        subprocess.run(["git", "-C", str(repo), "worktree", "add", "--detach", "--quiet", str(tree), rev],
                       check=True, capture_output=True, text=True)
        try:
            yield tree
        finally:
            subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force", str(tree)], capture_output=True)


def snapshot(root: Path, stack: str, config: Optional[dict[str, str]] = None) -> Optional[dict[str, Any]]:
    if not (root / f"Pulumi.{stack}.yaml").exists():
        return None
    result = subprocess.run([sys.executable, "-m", "offline.snapshot", "--root", str(root), "--stack", stack,
                             *(["--config", json.dumps(config)] if config else [])],
                            cwd=PROJECT_ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{stack} at {root}: the program failed:\n{result.stderr[-3000:]}")
    # The two checkouts live in different places; paths inside them should not show as changes.
    return json.loads(result.stdout.replace(str(root), "<project>"))


def _flatten(value: Any, path: str = "") -> dict[str, Any]:
    """Leaves by path. Lists of named items (env, ports, containers) are keyed by name, and
    Docker's `KEY=value` env entries by key, so a reordering is not a change."""
    if isinstance(value, dict):
        items = {f"{path}.{k}" if path else k: v for k, v in value.items()}
    elif isinstance(value, list) and value and all(isinstance(v, dict) and "name" in v for v in value):
        items = {f"{path}[{v['name']}]": {k: x for k, x in v.items() if k != "name"} for v in value}
    elif isinstance(value, list) and path.endswith("envs") and all(isinstance(v, str) and "=" in v for v in value):
        items = {f"{path}[{v.split('=', 1)[0]}]": v.split("=", 1)[1] for v in value}
    elif isinstance(value, list) and value:
        items = {f"{path}[{i}]": v for i, v in enumerate(value)}
    else:
        return {path: value}
    flat: dict[str, Any] = {}
    for key, item in items.items():
        flat.update(_flatten(item, key))
    return flat


def _show(value: Any) -> str:
    return "(none)" if value is None else f"`{json.dumps(value) if not isinstance(value, str) else value}`"


def field_changes(old: Any, new: Any) -> dict[str, tuple[Any, Any]]:
    """path -> (before, after) for every leaf that differs."""
    before, after = _flatten(old), _flatten(new)
    return {path: (before.get(path), after.get(path)) for path in sorted(set(before) | set(after))
            if before.get(path) != after.get(path)}


def _effective_changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Changed input fields, less those under ignore_changes: the engine keeps their old values."""
    ignored = tuple(new.get("ignoreChanges") or ())
    return {path: values for path, values in field_changes(old["inputs"], new["inputs"]).items()
            if not under(path, ignored)}


def compare(base: dict[str, Any], head: dict[str, Any]) -> dict[str, Any]:
    old, new = base["resources"], head["resources"]
    changed = {urn: fields for urn in sorted(set(old) & set(new)) if (fields := _effective_changes(old[urn], new[urn]))}
    replaced = {urn: forcing for urn, fields in changed.items()
                if (forcing := replacing_fields(new[urn]["type"], list(fields)))}
    added, removed = sorted(set(new) - set(old)), sorted(set(old) - set(new))
    created = {identity(new[urn]["type"], new[urn]["inputs"]): urn for urn in added}
    moved = {urn: created[key] for urn in removed
             if (key := identity(old[urn]["type"], old[urn]["inputs"])) is not None and key in created}
    return {
        "added": added,
        "removed": removed,
        "changed": {urn: fields for urn, fields in changed.items() if urn not in replaced},
        "replaced": replaced,
        "moved": moved,  # old URN -> new URN of one and the same object
        "outputs": field_changes(base["outputs"], head["outputs"]),
    }


def predicted_operations(base: dict[str, Any], head: dict[str, Any]) -> dict[str, str]:
    """URN -> create, delete, update or replace, as `pulumi preview` would plan them."""
    found = compare(base, head)
    return {**{urn: "create" for urn in found["added"]}, **{urn: "delete" for urn in found["removed"]},
            **{urn: "update" for urn in found["changed"]}, **{urn: "replace" for urn in found["replaced"]}}


def short(urn: str) -> str:
    """The URN without its stack and project: the type chain and the name. Pulumi's mocks also
    put the root stack's type in front of its direct children's; the engine does not."""
    rest = urn.split("::", 2)[-1] if urn.startswith("urn:pulumi:") else urn
    return rest.removeprefix("pulumi:pulumi:Stack$")


def data_at_risk(base: dict[str, Any], head: dict[str, Any], found: Optional[dict[str, Any]] = None) -> list[str]:
    """One line per change that can lose data; `found`: compare(base, head), if already made."""
    found, old, new = found or compare(base, head), base["resources"], head["resources"]

    def kept(resource: dict[str, Any]) -> str:
        if resource.get("protect"):
            return " (protected: the engine refuses)"
        return " (retained: the old one stays where it is)" if resource.get("retainOnDelete") else ""

    lines = []
    for urn, fields in found["replaced"].items():
        stateful = "stateful data, " if new[urn]["type"] in STATEFUL_TYPES else ""
        lines.append(f"replace {short(urn)}: {stateful}forced by {', '.join(fields)}{kept(old[urn])}")
    for old_urn, new_urn in found["moved"].items():
        lines.append(f"move {short(old_urn)} -> {short(new_urn)}: the same object is created under the new URN, "
                     f"then deleted under the old one{kept(old[old_urn])}; an alias keeps it")
    for urn in found["removed"]:
        if old[urn]["type"] in STATEFUL_TYPES and urn not in found["moved"]:
            lines.append(f"delete {short(urn)}: stateful data{kept(old[urn])}")
    return lines


def changed_fields(old: Any, new: Any) -> list[str]:
    lines = []
    for path, (a, b) in field_changes(old, new).items():
        if isinstance(a, str) and isinstance(b, str) and ("\n" in a or "\n" in b):
            body = "\n".join(difflib.unified_diff(a.splitlines(), b.splitlines(), "before", "after", lineterm="", n=1))
            lines.append(f"- `{path}`:\n\n```diff\n{body}\n```")
        else:
            lines.append(f"- `{path}`: {_show(a)} → {_show(b)}")
    return lines


def stack_report(stack: str, base: Optional[dict], head: Optional[dict]) -> str:
    if base is None or head is None:
        return f"### `{stack}`\n\nstack file {'added' if base is None else 'removed'}\n"
    found = compare(base, head)
    added, removed = found["added"], found["removed"]
    changed = {key: changed_fields(base["resources"][key]["inputs"], head["resources"][key]["inputs"])
               for key in [*found["replaced"], *found["changed"]]}
    outputs = changed_fields(base["outputs"], head["outputs"])
    if not (added or removed or changed or outputs):
        return f"### `{stack}`\n\nno changes\n"
    lines = [f"### `{stack}`: {len(added)} to add, {len(found['changed'])} to change, "
             f"{len(found['replaced'])} to replace, {len(removed)} to remove", ""]
    risks = data_at_risk(base, head, found)
    if risks:  # a diff block shows them in red on GitHub
        lines += ["**Replaced or deleted: check these before merging**", "", "```diff", *[f"- {line}" for line in risks], "```", ""]
    lines += [f"- **add** `{short(key)}`" for key in added]
    lines += [f"- **remove** `{short(key)}`" for key in removed]
    for key, fields in changed.items():
        verb = "replace" if key in found["replaced"] else "change"
        lines += ["", f"**{verb}** `{short(key)}`", *fields]
    if outputs:
        lines += ["", "**outputs**", *outputs]
    return "\n".join(lines) + "\n"


def snapshots(base_rev: str, head_rev: Optional[str], stacks: list[str],
              repo: Path = PROJECT_ROOT) -> dict[str, tuple[Optional[dict], Optional[dict]]]:
    with checkout(repo, base_rev) as base_root, checkout(repo, head_rev) as head_root:
        return {stack: (snapshot(base_root, stack), snapshot(head_root, stack)) for stack in stacks}


def report(base_rev: str, head_rev: Optional[str], stacks: list[str], repo: Path = PROJECT_ROOT) -> str:
    sections = [stack_report(stack, base, head)
                for stack, (base, head) in snapshots(base_rev, head_rev, stacks, repo).items()]
    head = head_rev or "working tree"
    return f"## geostack offline diff: `{base_rev}` → `{head}`\n\n" + "\n".join(sections)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.diff", description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="git revision to compare against, e.g. origin/main")
    parser.add_argument("--head", help="git revision to review (default: the working tree)")
    parser.add_argument("--stack", action="append", help="stack to compare (default: every Pulumi.<stack>.yaml)")
    parser.add_argument("--out", type=Path, help="also write the markdown to this file")
    args = parser.parse_args(argv)
    stacks = args.stack or sorted(p.name.split(".")[1] for p in PROJECT_ROOT.glob("Pulumi.*.yaml"))
    text = report(args.base, args.head, stacks)
    if args.out:
        args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
