"""The item group tree as distribution sees it: parent maps, ancestor chains, cycles (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

MAX_GROUP_DEPTH = 12


class GroupCycle(ValueError):
    """The group tree has a cycle (a group is its own ancestor)."""


def find_cycle(parents: Mapping[int, int | None]) -> list[int] | None:
    """A cycle of the parent map as a list of group ids, or None for a proper forest."""
    done: set[int] = set()
    for start in parents:
        path: list[int] = []
        seen: set[int] = set()
        node: int | None = start
        while node is not None and node not in done:
            if node in seen:
                return path[path.index(node) :]
            seen.add(node)
            path.append(node)
            node = parents.get(node)
        done.update(path)
    return None


class GroupTree:
    """The item groups as a parent map, with ancestor chains computed once."""

    def __init__(self, parents: Mapping[int, int | None]):
        cycle = find_cycle(parents)
        if cycle is not None:
            raise GroupCycle(f"the groups {' → '.join(map(str, cycle))} form a cycle")
        self.parents = dict(parents)
        self._chains: dict[int, tuple[int, ...]] = {}
        for group in self.parents:
            self.chain(group)

    def chain(self, group_id: int | None) -> tuple[int, ...]:
        """The group and its ancestors, deepest first (empty for no or an unknown group)."""
        if group_id is None or group_id not in self.parents:
            return ()
        found = self._chains.get(group_id)
        if found is None:
            parent = self.parents[group_id]
            found = (group_id, *self.chain(parent))
            self._chains[group_id] = found
        return found

    def chains(self) -> Iterable[tuple[int, tuple[int, ...]]]:
        """Every group with its chain (the group and its ancestors, deepest first)."""
        return self._chains.items()

    def depth(self, group_id: int) -> int:
        """1 for a top-level group, 2 for its children, …"""
        return len(self.chain(group_id))

    def subtree(self, group_id: int) -> set[int]:
        """The group and every group below it."""
        return {g for g, chain in self._chains.items() if group_id in chain}


def would_make_cycle(parents: Mapping[int, int | None], group_id: int, new_parent: int | None) -> bool:
    """True if giving ``group_id`` the parent ``new_parent`` would make a group its own ancestor."""
    node = new_parent
    steps = 0
    while node is not None and steps <= len(parents) + 1:
        if node == group_id:
            return True
        node = parents.get(node)
        steps += 1
    return False
