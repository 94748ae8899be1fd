"""Alembic as the one schema path for SQLite and PostgreSQL.

Every package keeps its revisions in ``<package>/migrations`` on its own branch
(branch label = package name), so packages evolve their tables independently;
``upgrade`` applies all heads.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine


def domain_packages() -> tuple[str, ...]:
    """The domain packages' names, as the composition root lists them."""
    from frontoffice.app import package_names

    return package_names()


def version_locations(packages: Sequence[str] | None = None) -> list[str]:
    """The revision folders of the kernel and of every domain package that has one."""
    here = Path(__file__).resolve().parent
    paths = [str(here / "migrations" / "versions")]
    for name in domain_packages() if packages is None else packages:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            continue
        folder = Path(next(iter(spec.submodule_search_locations))) / "migrations"
        if folder.is_dir():
            paths.append(str(folder))
    return paths


def alembic_config(url: str, engine: Engine | None = None) -> Config:
    """An Alembic configuration built in code (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).resolve().parent / "migrations"))
    cfg.set_main_option("version_locations", " ".join(version_locations()))
    cfg.set_main_option("path_separator", "space")
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def upgrade(url: str, engine: Engine | None = None, revision: str = "heads") -> None:
    """Bring the database to the newest schema of every package."""
    command.upgrade(alembic_config(url, engine), revision)


def revision(url: str, message: str, branch: str, autogenerate: bool = True) -> None:
    """Write a new revision on ``branch`` (a package name), for developers."""
    cfg = alembic_config(url)
    cfg.attributes["branch_package"] = branch
    # Only a branch's first revision carries its label; later ones inherit it.
    labels = {label for rev in _script(cfg).walk_revisions() for label in rev.branch_labels}
    kwargs = (
        {"head": f"{branch}@head"}
        if branch in labels
        else {"head": "base", "branch_label": branch, "version_path": _branch_path(branch)}
    )
    command.revision(cfg, message=message, autogenerate=autogenerate, **kwargs)


def _script(cfg: Config):
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(cfg)


def _branch_path(branch: str) -> str:
    if branch == "frontoffice":
        return str(Path(__file__).resolve().parent / "migrations" / "versions")
    spec = importlib.util.find_spec(branch)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"unknown package {branch!r}")
    folder = Path(next(iter(spec.submodule_search_locations))) / "migrations"
    folder.mkdir(exist_ok=True)
    return str(folder)
