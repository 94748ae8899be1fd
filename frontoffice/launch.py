"""The ``frontoffice`` console script: prepares gevent, then hands over to :mod:`frontoffice.cli`.

``frontoffice run`` and ``frontoffice demo`` serve on gunicorn's gevent worker (docs/architecture.md,
"Realtime serving"). gevent needs the standard library patched before anything else is imported:
psycopg picks its wait function when it is imported (a cooperative one only if ``select`` is
patched), and a lock or socket made before the patch would block the whole process. So this
module imports nothing of the project before patching, and patches only when the command will serve.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

SERVING_COMMANDS = frozenset({"run", "demo"})
WORKERS = ("gevent", "gthread")


def chosen_worker(argv: Sequence[str], env: Mapping[str, str]) -> str:
    """The gunicorn worker a serving command asked for: ``--worker``, else ``FRONTOFFICE_WORKER``,
    else gevent."""
    worker = env.get("FRONTOFFICE_WORKER") or "gevent"
    for i, arg in enumerate(argv):
        if arg == "--worker" and i + 1 < len(argv):
            worker = argv[i + 1]
        elif arg.startswith("--worker="):
            worker = arg.partition("=")[2]
    return worker


def serves_on_gevent(argv: Sequence[str], env: Mapping[str, str]) -> bool:
    """True when ``frontoffice <argv>`` will serve on the gevent worker."""
    if not argv or argv[0] not in SERVING_COMMANDS or "--no-serve" in argv or "--help" in argv:
        return False
    return chosen_worker(argv[1:], env) == "gevent"


def main() -> None:
    """Patch for gevent if this command will serve on it, then run the CLI."""
    if serves_on_gevent(sys.argv[1:], os.environ):
        from gevent import monkey

        monkey.patch_all()
    from frontoffice.cli import main as cli

    cli()
