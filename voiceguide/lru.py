"""A least-recently-used map bounded by bytes, not entries: clips vary from 0.1 s to a minute."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class ByteLRU(Generic[K, V]):
    """Keeps the most recent values while their ``size`` adds up to at most ``limit`` bytes
    (always at least the newest one, however large)."""

    def __init__(self, limit: int, size: Callable[[V], int]) -> None:
        self.limit = limit
        self._size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self.bytes = 0

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        old = self._items.pop(key, None)
        if old is not None:
            self.bytes -= self._size(old)
        self._items[key] = value
        self.bytes += self._size(value)
        while self.bytes > self.limit and len(self._items) > 1:
            _, dropped = self._items.popitem(last=False)
            self.bytes -= self._size(dropped)

    def offer(self, key: K, value: V) -> bool:
        """Keep ``value`` only if it fits without dropping anything; whether it was kept.

        For values fetched ahead in the order they will be used: a plain :meth:`put` of more than
        fits would drop the first ones, which are needed first, to keep the last ones.
        """
        if key in self._items:
            return True
        size = self._size(value)
        if self.bytes + size > self.limit:
            return False
        self._items[key] = value
        self.bytes += size
        return True

    def pop(self, key: K) -> V | None:
        value = self._items.pop(key, None)
        if value is not None:
            self.bytes -= self._size(value)
        return value

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()
        self.bytes = 0
