"""Wall time spent inside chosen functions while a workload runs, without a profiler.

A profiler's hook on every call inflates code made of many small calls (cProfile doubled the
zone lookup's share here). :func:`timed` instead wraps only the named functions, for the length
of a ``with`` block, with one ``perf_counter`` pair each; a call made inside another timed one is
counted once, in the outer. For a single-threaded workload in one process, wall time there is CPU.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from time import perf_counter
from typing import Any


@contextmanager
def timed(targets: Sequence[tuple[Any, str, str]]) -> Iterator[dict[str, float]]:
    """Wrap each ``(owner, attribute, label)`` (a module's function, a class's method or
    classmethod) while the block runs; yields ``{label: seconds}``, filled as calls return."""
    spent = {label: 0.0 for _, _, label in targets}
    depth = [0]
    saved = []
    for owner, name, label in targets:
        static = inspect.getattr_static(owner, name)
        is_class = isinstance(static, classmethod)
        func = static.__func__ if is_class else getattr(owner, name)

        def wrapper(*args: Any, _func: Any = func, _label: str = label, **kwargs: Any) -> Any:
            if depth[0]:
                return _func(*args, **kwargs)
            depth[0] += 1
            began = perf_counter()
            try:
                return _func(*args, **kwargs)
            finally:
                spent[_label] += perf_counter() - began
                depth[0] -= 1

        own = name in vars(owner)  # else inherited: restored by deleting the wrapper
        saved.append((owner, name, static if own else None))
        setattr(owner, name, classmethod(wrapper) if is_class else wrapper)
    try:
        yield spent
    finally:
        for owner, name, static in reversed(saved):
            if static is None:
                delattr(owner, name)
            else:
                setattr(owner, name, static)
