"""Source-level conventions that catch silent bugs (the data-safe-haven meta-test idea).

- every resource or invoke created in pulumi_geostack/ names a parent;
- every ComponentResource ends its __init__ with register_outputs;
- components never read pulumi.Config themselves.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from offline.program_run import PROJECT_ROOT

SOURCES = sorted((PROJECT_ROOT / "pulumi_geostack").rglob("*.py"))


def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_every_resource_option_names_a_parent(path):
    for node in ast.walk(parsed(path)):
        if isinstance(node, ast.Call) and call_name(node) in ("ResourceOptions", "InvokeOptions", "InvokeOutputOptions"):
            keywords = {k.arg for k in node.keywords}
            assert "parent" in keywords, f"{path.name}:{node.lineno} creates options without parent="


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_resources_in_components_get_options(path):
    """A provider resource call (module.Type(...)) without opts= would escape its component."""
    tree = parsed(path)
    sdk_aliases = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                   for alias in node.names if alias.name.startswith("pulumi_")}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        root = node.func
        while isinstance(root, ast.Attribute):
            root = root.value
        is_sdk_type = isinstance(root, ast.Name) and root.id in sdk_aliases and node.func.attr[:1].isupper()
        if is_sdk_type and not node.func.attr.endswith("Args"):
            assert "opts" in {k.arg for k in node.keywords}, f"{path.name}:{node.lineno} {node.func.attr} has no opts"


def component_classes(tree: ast.Module):
    bases_of_components = {"ComponentResource", "Target", "KubernetesTarget"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            names = {b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", "") for b in node.bases}
            if names & bases_of_components:
                yield node


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_components_end_with_register_outputs(path):
    for cls in component_classes(parsed(path)):
        init = next((n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
        if init is None:
            continue
        last = init.body[-1]
        if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call) and call_name(last.value) == "__init__":
            continue  # a subclass whose parent's __init__ registers the outputs
        assert (isinstance(last, ast.Expr) and isinstance(last.value, ast.Call)
                and call_name(last.value) == "register_outputs"), \
            f"{path.name}: {cls.name}.__init__ must end with self.register_outputs(...)"


def test_conventions_find_components():
    found = {cls.name for path in SOURCES for cls in component_classes(parsed(path))}
    assert {"QgisServerImage", "QgisFcgiServer", "NginxProxy", "DockerTarget", "KubernetesTarget"} <= found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_only_config_module_reads_pulumi_config(path):
    if path.name == "config.py":
        return
    assert "pulumi.Config(" not in path.read_text(), f"{path.name} reads pulumi.Config; use pulumi_geostack.config"
