"""Print the config reference generated from pulumi_geostack/config.py's key table.

    python scripts/config_reference.py pulumi-yaml   # the `config:` block of Pulumi.yaml
    python scripts/config_reference.py markdown      # the config reference table of docs/configuration.md
    python scripts/config_reference.py write         # rewrite both in Pulumi.yaml and docs/configuration.md

Tests compare both with the committed files, so the docs cannot drift from the code.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_geostack.config import SETTINGS  # noqa: E402


def _yaml_scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def pulumi_yaml_config() -> str:
    """Every key with its type and default, so the CLI merges defaults and type-checks stack values.

    Keys are flat (`qgisReplicas`, not `qgis.replicas`): the CLI reads a dotted project key as a
    property path into an object, which would turn the settings into objects it never type-checks.
    Credentials are left out: the CLI treats a declared key without a default as required, and a
    declared secret with a default fails its "must be encrypted" check. Unset, geostack generates them.
    """
    credentials = [setting.key for setting in SETTINGS if setting.secret]
    lines = ["config:"]
    for setting in SETTINGS:
        if setting.secret:
            continue
        lines += [
            f"  {setting.key}:",
            f"    type: {setting.kind.type}",
            f"    description: {_yaml_scalar(setting.description)}",
            f"    default: {_yaml_scalar(setting.default)}",
        ]
    lines += ["# Credentials, optional and never declared above (see pulumi_yaml_config's docstring):",
              *(f"#   pulumi config set --secret geostack:{key} <value>" for key in credentials)]
    return "\n".join(lines) + "\n"


def markdown_table() -> str:
    rows = ["| key | type | default | allowed | meaning |", "|---|---|---|---|---|"]
    for setting in SETTINGS:
        if setting.secret:
            default = "(generated)" if setting.kind.generated else "(unset)"
        elif setting.default == "":
            default = "(empty)"
        else:
            default = f"`{_yaml_scalar(setting.default).strip(chr(34))}`"
        cells = [f"`geostack:{setting.key}`", "secret" if setting.secret else setting.kind.type, default,
                 setting.kind.allowed, setting.description]
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(rows) + "\n"


PROJECT_ROOT = Path(__file__).resolve().parent.parent
REFERENCE_PAGE = PROJECT_ROOT / "docs" / "configuration.md"
REFERENCE_START, REFERENCE_END = "<!-- config-reference:start -->\n", "<!-- config-reference:end -->"


def write_files() -> None:
    pulumi_yaml = PROJECT_ROOT / "Pulumi.yaml"
    head = pulumi_yaml.read_text().split("\nconfig:\n", 1)[0]
    pulumi_yaml.write_text(head + "\n" + pulumi_yaml_config())
    before, rest = REFERENCE_PAGE.read_text().split(REFERENCE_START, 1)
    after = rest.split(REFERENCE_END, 1)[1]
    REFERENCE_PAGE.write_text(before + REFERENCE_START + markdown_table() + REFERENCE_END + after)


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "pulumi-yaml":
        sys.stdout.write(pulumi_yaml_config())
    elif mode == "markdown":
        sys.stdout.write(markdown_table())
    elif mode == "write":
        write_files()
    else:
        sys.exit("usage: config_reference.py pulumi-yaml|markdown|write")
