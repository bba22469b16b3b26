"""Wall clocks for ``idle_flush``: the real one, and a manual one for tests and replays."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol

__all__ = ["Clock", "ManualClock", "MonotonicClock"]


class Clock(Protocol):
    """What ``idle_flush`` needs from a clock: the time now, and a way to wait."""

    def now(self) -> float:
        """Seconds on a monotonic scale."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Return after ``seconds`` of this clock's time."""
        ...


class MonotonicClock:
    """The process's monotonic wall clock (``time.monotonic`` and ``asyncio.sleep``)."""

    def now(self) -> float:
        """Seconds from ``time.monotonic()``."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """``asyncio.sleep(seconds)``."""
        await asyncio.sleep(seconds)

    def __repr__(self) -> str:
        return "MonotonicClock()"


class ManualClock:
    """A clock that moves only when :meth:`advance` is called.

    Sleepers wake when the clock is advanced past their deadline, so a test can
    say "ten quiet seconds pass" without waiting ten seconds.

    Parameters
    ----------
    start : float, default 0.0
        The initial reading.

    Examples
    --------
    >>> import asyncio
    >>> async def demo():
    ...     clock = ManualClock()
    ...     nap = asyncio.ensure_future(clock.sleep(5))
    ...     await clock.wait_for_sleepers(1)
    ...     clock.advance(4)
    ...     await asyncio.sleep(0)
    ...     early = nap.done()
    ...     clock.advance(1)
    ...     await nap
    ...     return early, clock.now()
    >>> asyncio.run(demo())
    (False, 5.0)
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._sleeper_waiters: list[asyncio.Future[None]] = []

    def now(self) -> float:
        """The current reading."""
        return self._now

    @property
    def sleepers(self) -> int:
        """How many sleeps are waiting for the clock to move."""
        return sum(1 for *_, future in self._sleepers if not future.done())

    async def sleep(self, seconds: float) -> None:
        """Wait until the clock has been advanced by ``seconds``."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._order), future))
        waiters, self._sleeper_waiters = self._sleeper_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
        await future

    def advance(self, seconds: float) -> None:
        """Move the clock forward and wake every sleep whose time has come."""
        if seconds < 0:
            raise ValueError(f"seconds: got {seconds!r}; a clock only moves forward")
        self._now += seconds
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)

    async def wait_for_sleepers(self, count: int = 1) -> None:
        """Return once at least ``count`` sleeps are waiting on this clock."""
        while self.sleepers < count:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._sleeper_waiters.append(future)
            await future

    def __repr__(self) -> str:
        return f"ManualClock(now={self._now}, sleepers={self.sleepers})"
