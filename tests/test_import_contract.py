"""The import direction of DESIGN.md, as import-linter contracts in pyproject.toml, holds for the tree."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KERNEL = ROOT / "frontoffice"
DOMAIN = ("nomenclature", "orders", "callcentre", "couriers", "backoffice", "monitor", "telephony")


def test_the_import_contract_in_pyproject_is_kept():
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports; "
            "sys.exit(lint_imports(no_cache=True, no_logo=True))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def _domain_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        found.update(n for n in names if n.split(".")[0] in DOMAIN)
    return found


def test_only_the_composition_root_names_domain_packages_in_the_kernel():
    offenders = {
        str(p.relative_to(ROOT)): sorted(_domain_imports(p))
        for p in KERNEL.rglob("*.py")
        if p.name != "app.py" and "migrations" not in p.parts and _domain_imports(p)
    }
    assert offenders == {}


def test_no_string_keyed_service_lookups_are_left():
    locator = "kernel.services" + "["  # spelled in two parts so this file does not match itself
    hits = [
        str(p.relative_to(ROOT))
        for pkg in ("frontoffice", *DOMAIN)
        for p in (ROOT / pkg).rglob("*.py")
        if locator in p.read_text(encoding="utf-8")
        or "kernel.placement_policies" in p.read_text(encoding="utf-8")
    ]
    assert hits == []
