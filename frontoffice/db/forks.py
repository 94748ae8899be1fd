"""Objects of the database layer that hold locks or queues of this process: in a forked child
(gunicorn's worker) nobody holds or waits on them, so each is reset there (its ``_reset()``)."""

from __future__ import annotations

import os
import weakref
from typing import Any

_RESET: weakref.WeakSet[Any] = weakref.WeakSet()


def reset_in_forked_child(obj: Any) -> None:
    """Call ``obj._reset()`` in every child this process forks from now on (while ``obj`` lives)."""
    _RESET.add(obj)


def _reset_after_fork() -> None:
    for obj in list(_RESET):
        obj._reset()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
