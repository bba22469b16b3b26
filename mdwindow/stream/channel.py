"""``Channel``: a bounded async channel whose fill drives a hysteresis pressure flag."""

from __future__ import annotations

import asyncio
import math
import numbers
from collections import deque
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from mdwindow.stream.reader import ChannelReader

T = TypeVar("T")

__all__ = ["Channel", "ChannelClosed", "ChannelFull", "ChannelReader", "check_marks"]


class ChannelClosed(Exception):
    """Put into a closed channel, or get from a channel that is closed and drained."""


class ChannelFull(Exception):
    """``put_nowait`` on a channel holding ``capacity`` items."""


def check_marks(capacity: Any, high_watermark: Any, low_watermark: Any) -> tuple[int, int, int]:
    """Validate a capacity and its fill marks; return ``(capacity, high, low)`` in items.

    Pressure turns on when the fill reaches ``high`` items and off when it
    falls to ``low`` items, with ``0 <= low < high <= capacity``.
    """
    if isinstance(capacity, bool) or not isinstance(capacity, numbers.Integral) or capacity < 1:
        raise ValueError(f"capacity: got {capacity!r}; give a whole number of items >= 1")
    for name, mark in (("high_watermark", high_watermark), ("low_watermark", low_watermark)):
        if isinstance(mark, bool) or not isinstance(mark, numbers.Real) or not 0 <= mark <= 1:
            raise ValueError(f"{name}: got {mark!r}; give a fraction of the capacity in [0, 1]")
    if not low_watermark < high_watermark:
        raise ValueError(
            f"low_watermark: got {low_watermark!r} with high_watermark={high_watermark!r}; "
            "the low mark must be below the high mark, e.g. 0.25 and 0.75"
        )
    capacity = int(capacity)
    high = max(1, math.ceil(high_watermark * capacity))
    low = min(math.floor(low_watermark * capacity), high - 1)
    return capacity, high, low


class Channel(Generic[T]):
    """A bounded FIFO between async tasks, with backpressure and a pressure flag.

    ``put`` waits while the channel holds ``capacity`` items; ``get`` waits
    while it is empty. ``close()`` ends the stream: readers first drain what is
    queued, then iteration stops (or, after ``close(error)``, every reader gets
    ``error`` raised).

    ``pressure`` is hysteretic: it turns True when the fill rises to
    ``high_watermark * capacity`` (rounded up) and back to False only when it
    falls to ``low_watermark * capacity`` (rounded down), so a producer that
    pauses an upstream feed on pressure does not flap on every item.

    Parameters
    ----------
    capacity : int, default 2048
        Most items held at once.
    high_watermark, low_watermark : float, default 0.75 and 0.25
        Fill fractions that turn pressure on and off.
    on_pressure : callable, optional
        Called with the new value (``True`` / ``False``) each time pressure
        flips; more can be added with :meth:`add_pressure_callback`.

    Examples
    --------
    >>> import asyncio
    >>> async def demo():
    ...     channel = Channel(4)
    ...     for item in range(3):
    ...         await channel.put(item)
    ...     flag = channel.pressure  # 3 items reach the high mark of 3
    ...     channel.close()
    ...     return flag, [item async for item in channel]
    >>> asyncio.run(demo())
    (True, [0, 1, 2])
    """

    def __init__(
        self,
        capacity: int = 2048,
        high_watermark: float = 0.75,
        low_watermark: float = 0.25,
        *,
        on_pressure: Callable[[bool], Any] | None = None,
    ) -> None:
        self._capacity, self._high, self._low = check_marks(
            capacity, high_watermark, low_watermark
        )
        self._items: deque[T] = deque()
        self._getters: deque[asyncio.Future[None]] = deque()
        self._putters: deque[asyncio.Future[None]] = deque()
        self._pressure_waiters: list[asyncio.Future[bool]] = []
        self._callbacks: list[Callable[[bool], Any]] = []
        if on_pressure is not None:
            self._callbacks.append(on_pressure)
        self._pressure = False
        self._closed = False
        self._error: BaseException | None = None
        # The fill only falls when items are taken: the peak is recorded then.
        self._peak = 0
        # Below this fill an append needs no bookkeeping (no pressure flip, no
        # reader to wake, open): the routing task appends directly then.
        self._quiet = self._high - 1
        # Optional per-item tags kept in step with the items (see :meth:`keep_tags`).
        self._tags: deque[Any] | None = None
        self.tag_source: Any = None

    # -- looking at it ------------------------------------------------------

    @property
    def capacity(self) -> int:
        """Most items held at once."""
        return self._capacity

    @property
    def marks(self) -> tuple[int, int]:
        """``(high, low)``: fills (in items) at which pressure turns on and off."""
        return self._high, self._low

    @property
    def pressure(self) -> bool:
        """True from the fill reaching the high mark until it falls to the low mark."""
        return self._pressure

    @property
    def peak(self) -> int:
        """The largest fill seen so far (never above ``capacity``)."""
        return max(self._peak, len(self._items))

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called (items may still be queued)."""
        return self._closed

    @property
    def drained(self) -> bool:
        """Closed and empty: nothing more will come out."""
        return self._closed and not self._items

    @property
    def error(self) -> BaseException | None:
        """The error given to ``close(error)``, if any."""
        return self._error

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"Channel({len(self._items)}/{self._capacity}, pressure={self._pressure}, {state})"

    # -- writing --------------------------------------------------------------

    def try_put(self, item: T) -> bool:
        """Queue ``item`` if there is room; return False (and queue nothing) if full.

        Raises :class:`ChannelClosed` if the channel is closed.
        """
        return self.try_put_tagged(item, None)

    def try_put_tagged(self, item: T, tag: Any) -> bool:
        """:meth:`try_put` with the item's tag (kept when the channel keeps tags)."""
        if self._closed:
            raise ChannelClosed("put: the channel is closed; nothing more can be written")
        items = self._items
        fill = len(items)
        if fill >= self._capacity:
            return False
        items.append(item)
        if self._tags is not None:
            self._tags.append(tag)
        self._after_put(fill + 1)
        return True

    async def put_tagged(self, item: T, tag: Any) -> None:
        """:meth:`put` with the item's tag (kept when the channel keeps tags)."""
        while not self.try_put_tagged(item, tag):
            await self._wait(self._putters)

    def _after_put(self, fill: int) -> None:
        if fill >= self._high and not self._pressure:
            self._set_pressure(True)
        if self._getters:
            self._wake_one(self._getters)
        self._quiet = 0 if self._getters or self._closed else self._high - 1

    def put_nowait(self, item: T) -> None:
        """Queue ``item`` now; raise :class:`ChannelFull` if there is no room."""
        if not self.try_put(item):
            raise ChannelFull(
                f"put_nowait: the channel holds its capacity of {self._capacity} items; "
                "await put() to wait for room"
            )

    async def put(self, item: T) -> None:
        """Queue ``item``, waiting while the channel is full."""
        while not self.try_put(item):
            await self._wait(self._putters)

    async def put_many(self, items: Any) -> None:
        """Queue every item of an iterable in order, waiting for room as needed."""
        for item in items:
            if not self.try_put(item):
                await self.put(item)

    def close(self, error: BaseException | None = None) -> None:
        """End the stream; with ``error``, every reader gets it once the queue is drained.

        Closing twice keeps the first close. Writers waiting for room get
        :class:`ChannelClosed`.
        """
        if self._closed:
            return
        self._closed = True
        self._quiet = 0
        self._error = error
        for waiters in (self._getters, self._putters):
            while waiters:
                self._wake_one(waiters)

    # -- reading --------------------------------------------------------------

    def take_nowait(self, max_items: int | None = None) -> list[T]:
        """Everything queued now (at most ``max_items``), possibly nothing.

        Once the channel is closed and drained this returns ``[]``, or raises
        the error given to ``close(error)``.
        """
        return self._take(max_items)[0]

    def _take(self, max_items: int | None) -> tuple[list[T], list[Any]]:
        """``take_nowait``, with the tags of the items taken ([] for an untagged channel)."""
        items = self._items
        if not items:
            if self._closed and self._error is not None:
                raise self._error
            return [], []
        fill = len(items)
        if fill > self._peak:
            self._peak = fill
        tags = self._tags
        if max_items is None or max_items >= fill:
            taken = list(items)
            items.clear()
            taken_tags = [] if tags is None else list(tags)
            if tags is not None:
                tags.clear()
        else:
            taken = [items.popleft() for _ in range(max_items)]
            taken_tags = [] if tags is None else [tags.popleft() for _ in range(max_items)]
        self._after_take()
        return taken, taken_tags

    def take_tagged(self, max_items: int | None = None) -> tuple[list[T], list[Any]]:
        """:meth:`take_nowait`, with the tags of the items taken ([] for an untagged channel)."""
        return self._take(max_items)

    async def get_tagged_batch(self, max_items: int | None = None) -> tuple[list[T], list[Any]]:
        """:meth:`get_batch`, with the tags of the items taken ([] for an untagged channel)."""
        while not self._items and not self._closed:
            await self._wait(self._getters)
        return self._take(max_items)

    async def get_batch(self, max_items: int | None = None) -> list[T]:
        """Wait for at least one item, then take everything queued (at most ``max_items``).

        Returns ``[]`` once the channel is closed and drained (or raises the
        error given to ``close(error)``).
        """
        while not self._items and not self._closed:
            await self._wait(self._getters)
        return self.take_nowait(max_items)

    async def wait_readable(self) -> None:
        """Return once an item is queued or the channel is closed."""
        while not self._items and not self._closed:
            await self._wait(self._getters)

    def get_nowait(self) -> T:
        """The next item; raises :class:`ChannelClosed` at the end, or ``asyncio.QueueEmpty``."""
        items = self._items
        if not items:
            if self._closed:
                raise self._end()
            raise asyncio.QueueEmpty("get_nowait: the channel is empty")
        return self._pop()

    async def get(self) -> T:
        """The next item, waiting for one; raises :class:`ChannelClosed` at the end."""
        while not self._items:
            if self._closed:
                raise self._end()
            await self._wait(self._getters)
        return self._pop()

    def _pop(self) -> T:
        items = self._items
        if len(items) > self._peak:
            self._peak = len(items)
        item = items.popleft()
        if self._tags is not None:
            self._tags.popleft()
        self._after_take()
        return item

    def __aiter__(self) -> Channel[T]:
        return self

    async def __anext__(self) -> T:
        try:
            return await self.get()
        except ChannelClosed:
            if self._error is None:
                raise StopAsyncIteration from None
            raise

    def reader(self) -> ChannelReader[T]:
        """A read-only view of this channel, for handing to consumers."""
        return ChannelReader(self)

    # -- pressure -------------------------------------------------------------

    def add_pressure_callback(self, callback: Callable[[bool], Any]) -> None:
        """Call ``callback(pressure)`` each time pressure flips."""
        self._callbacks.append(callback)

    def remove_pressure_callback(self, callback: Callable[[bool], Any]) -> None:
        """Stop calling ``callback``."""
        self._callbacks.remove(callback)

    async def wait_pressure(self, pressure: bool) -> None:
        """Return once ``self.pressure == pressure`` (at once if it already is)."""
        while self._pressure != pressure:
            await self.pressure_changed()

    async def pressure_changed(self) -> bool:
        """Wait for the next flip of pressure and return the new value."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pressure_waiters.append(future)
        try:
            return await future
        finally:
            if not future.done():
                self._pressure_waiters.remove(future)

    # -- internals ------------------------------------------------------------

    def _end(self) -> BaseException:
        if self._error is not None:
            return self._error
        return ChannelClosed("get: the channel is closed and drained")

    def _after_take(self) -> None:
        if self._putters:
            # Wake every writer: each re-checks for room, so none is lost.
            while self._putters:
                self._wake_one(self._putters)
        if self._pressure and len(self._items) <= self._low:
            self._set_pressure(False)

    def _set_pressure(self, value: bool) -> None:
        self._pressure = value
        waiters, self._pressure_waiters = self._pressure_waiters, []
        for future in waiters:
            if not future.done():
                future.set_result(value)
        for callback in list(self._callbacks):
            callback(value)

    def keep_tags(self, source: Any) -> None:
        """Keep a tag with each item from now on; ``source`` (:attr:`tag_source`) says
        what the tags mean to readers."""
        self._tags = deque(None for _ in self._items)
        self.tag_source = source

    @staticmethod
    def _wake_one(waiters: deque[asyncio.Future[None]]) -> None:
        while waiters:
            future = waiters.popleft()
            if not future.done():
                future.set_result(None)
                return

    async def _wait(self, waiters: deque[asyncio.Future[None]]) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiters.append(future)
        if waiters is self._getters:
            self._quiet = 0
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                # Woken and cancelled at once: pass the wake-up on, or it is lost.
                self._wake_one(waiters)
            else:
                try:
                    waiters.remove(future)
                except ValueError:
                    pass
            raise
