"""Print the config reference generated from components/config.py's key table.

    python scripts/config_reference.py pulumi-yaml   # the `config:` block of Pulumi.yaml
    python scripts/config_reference.py markdown      # the README's config reference table

Tests compare both with the committed files, so the docs cannot drift from the code.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from components.config import SETTINGS  # noqa: E402


def _yaml_scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def pulumi_yaml_config() -> str:
    lines = ["config:"]
    for setting in SETTINGS:
        lines += [
            f"  {setting.key}:",
            f"    type: {setting.kind.type}",
            f"    description: {_yaml_scalar(setting.description)}",
            f"    default: {_yaml_scalar(setting.default)}",
        ]
    return "\n".join(lines) + "\n"


def markdown_table() -> str:
    rows = ["| key | type | default | allowed | meaning |", "|---|---|---|---|---|"]
    for setting in SETTINGS:
        default = _yaml_scalar(setting.default).strip('"') or "(empty)"
        cells = [f"`geostack:{setting.key}`", setting.kind.type, f"`{default}`",
                 setting.kind.allowed, setting.description]
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "pulumi-yaml":
        sys.stdout.write(pulumi_yaml_config())
    elif mode == "markdown":
        sys.stdout.write(markdown_table())
    else:
        sys.exit("usage: config_reference.py pulumi-yaml|markdown")
