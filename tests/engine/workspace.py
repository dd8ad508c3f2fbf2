"""A throwaway copy of the project driven by the real Pulumi CLI, engine and plugins.

Each workspace has its own file backend, PULUMI_HOME and passphrase in a temporary directory,
so tests never touch the user's login, stacks or `Pulumi.<stack>.yaml` files (the CLI writes
an encryption salt into those). The toolchain comes from toolchain/install.sh, which
scripts/test.sh runs and points GEOSTACK_TOOLCHAIN_BIN and GEOSTACK_PULUMI_HOME at.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# What a user's checkout holds that the program reads; virtualenvs are linked, not copied.
PROJECT_ENTRIES = ("Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml",
                   "__main__.py", "requirements.txt", "pulumi_geostack", "data", "docker", "policy")
PASSPHRASE = "geostack-engine-tests"


def toolchain() -> tuple[Path, Path]:
    """The directory holding `pulumi` and the language host, and the PULUMI_HOME with the plugins."""
    bin_dir, home = os.environ.get("GEOSTACK_TOOLCHAIN_BIN"), os.environ.get("GEOSTACK_PULUMI_HOME")
    if not bin_dir or not home:
        raise RuntimeError("GEOSTACK_TOOLCHAIN_BIN and GEOSTACK_PULUMI_HOME are unset: run the engine tests "
                           "through scripts/test.sh, which installs the Pulumi toolchain (toolchain/install.sh)")
    return Path(bin_dir), Path(home)


@dataclass
class Result:
    returncode: int
    output: str


class Workspace:
    def __init__(self, root: Path, copy_project: bool = True):
        """A copy of this project in root/project, or with copy_project=False an empty directory
        there (for `pulumi new`)."""
        bin_dir, plugin_home = toolchain()
        self.project = root / "project"
        self.project.mkdir()
        if copy_project:
            self._copy_project()
        home = root / "pulumi-home"
        home.mkdir()
        (home / "plugins").symlink_to(plugin_home / "plugins")
        (root / "state").mkdir()
        self.env = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "PULUMI_HOME": str(home),
            "PULUMI_BACKEND_URL": f"file://{root / 'state'}",
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        }
        for leaked in ("PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE_FILE"):
            self.env.pop(leaked, None)

    def _copy_project(self) -> None:
        for entry in PROJECT_ENTRIES:
            source = PROJECT_ROOT / entry
            if source.is_dir():
                shutil.copytree(source, self.project / entry,
                                ignore=shutil.ignore_patterns("venv", "__pycache__", ".pytest_cache"))
            else:
                shutil.copy2(source, self.project / entry)
        (self.project / "venv").symlink_to(PROJECT_ROOT / "venv")
        (self.project / "policy" / "venv").symlink_to(PROJECT_ROOT / "policy" / "venv")

    def run(self, *args: str, stdin: str | None = None, timeout: int = 600) -> Result:
        done = subprocess.run(["pulumi", *args, "--non-interactive"], cwd=self.project, env=self.env,
                              input=stdin, capture_output=True, text=True, timeout=timeout)
        return Result(done.returncode, done.stdout + done.stderr)

    def ok(self, *args: str, stdin: str | None = None, timeout: int = 600) -> str:
        result = self.run(*args, stdin=stdin, timeout=timeout)
        assert result.returncode == 0, f"pulumi {' '.join(args)} failed:\n{result.output}"
        return result.output

    def json(self, *args: str, timeout: int = 600) -> Any:
        """A command's `--json` answer (stdout only: the CLI writes warnings to stderr)."""
        done = subprocess.run(["pulumi", *args, "--json", "--non-interactive"], cwd=self.project, env=self.env,
                              capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, f"pulumi {' '.join(args)} failed:\n{done.stdout}{done.stderr}"
        return json.loads(done.stdout)

    def select(self, stack: str) -> None:
        self.ok("stack", "select", "--create", stack)

    def config(self, stack: str) -> dict[str, dict]:
        return json.loads(self.ok("config", "--json", "--show-secrets", "--stack", stack))

    def config_values(self, stack: str) -> dict[str, str]:
        """What the CLI hands the program: every key's string value, secrets decrypted."""
        return {key: entry["value"] for key, entry in self.config(stack).items()}

    def resource_types(self, stack: str) -> list[str]:
        """Types of the resources in the stack's state (empty if nothing was ever created)."""
        state = json.loads(self.ok("stack", "export", "--stack", stack))
        return [resource["type"] for resource in state["deployment"].get("resources") or []]
