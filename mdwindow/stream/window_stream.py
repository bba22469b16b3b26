"""``WindowStream``: the async iterator of windows, pulling micro-batches from a source.

Items are taken in micro-batches: everything already queued, topped up for
as long as more keeps arriving without a wait. Each micro-batch is one push
of an :class:`~mdwindow.stream.items.ItemWindower`, whose windows are handed
out one by one. With ``idle_flush``, a quiet feed moves the watermark on by
the wall-clock time it has been quiet.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

import pandas as pd

from mdwindow.core.options import WindowOptions
from mdwindow.stream.channel import Channel, ChannelClosed, ChannelReader
from mdwindow.stream.clock import Clock
from mdwindow.stream.items import ItemWindower
from mdwindow.stream.records import LateItem, RejectedItem, WindowFrame
from mdwindow.stream.sources import as_async_iterable, call_maybe_async, pump

T = TypeVar("T")

__all__ = ["WindowStream"]

# How many times a micro-batch looks again, one event-loop turn apart, before
# it is pushed: enough for the tasks feeding it to run once more.
TOP_UP_TURNS = 4


class WindowStream(Generic[T]):
    """Async iterator of :class:`WindowFrame`, made by :func:`tumbling_window_event_time`.

    Iterate it with ``async for``. After the source ends, :attr:`pending`
    holds the windows still open (SPEC section 6) and :attr:`stats` the counts.
    Use ``async with`` (or :meth:`aclose`) when you may stop reading early, so
    the task pulling from the source is stopped at once; a stream that is
    dropped unclosed stops that task when it is garbage collected.
    """

    def __init__(
        self,
        source: Any,
        cfg: WindowOptions,
        *,
        get_event_time: Callable[[T], Any],
        get_key: Callable[[T], Any] | None,
        idle_flush_ns: int | None,
        on_late: Callable[[LateItem[T]], Any] | None,
        on_rejected: Callable[[RejectedItem[T]], Any] | None,
        time_unit: str,
        max_batch: int,
        capacity: int,
        clock: Clock,
    ) -> None:
        self._cfg = cfg
        self._windower: ItemWindower[T] = ItemWindower(
            cfg,
            get_event_time=get_event_time,
            get_key=get_key,
            time_unit=time_unit,
            report_late=on_late is not None,
            report_rejected=on_rejected is not None,
        )
        self._source = source
        self._idle_ns = idle_flush_ns
        self._on_late = on_late
        self._on_rejected = on_rejected
        self._max_batch = max_batch
        self._capacity = capacity
        self._clock = clock
        self._reader: Channel[T] | ChannelReader[T] | None = None
        # The channel this stream made for a source that is not one, and the
        # task that fills it.
        self._own_channel: Channel[T] | None = None
        self._pump: asyncio.Task[None] | None = None
        self._tagged = False
        # Windows emitted and not yet handed out, made one by one as they are read.
        self._ready: deque[Iterator[WindowFrame[T]]] = deque()
        self._finished = False
        self._batches = 0
        self._pending: list[WindowFrame[T]] = []
        self._last_activity = 0.0

    # -- what it has done -----------------------------------------------------

    @property
    def pending(self) -> list[WindowFrame[T]]:
        """Windows still open when the source ended (empty until then)."""
        return list(self._pending)

    @property
    def stats(self) -> dict[str, int]:
        """Counts so far: items, on_time, late, dropped, rejected, windows, pending, batches."""
        return {
            **self._windower.counts,
            "windows": self._windower.emitted,
            "pending": len(self._pending),
            "batches": self._batches,
        }

    @property
    def watermark(self) -> pd.Timestamp | pd.Series:
        """The current watermark, as :attr:`mdwindow.incremental.Windower.watermark`."""
        return self._windower.watermark

    # -- iteration ------------------------------------------------------------

    def __aiter__(self) -> WindowStream[T]:
        return self

    async def __anext__(self) -> WindowFrame[T]:
        ready = self._ready
        while True:
            while ready:
                frame = next(ready[0], None)
                if frame is not None:
                    return frame
                ready.popleft()
            if self._finished:
                raise StopAsyncIteration
            try:
                await self._step()
            except BaseException:
                await self.aclose()
                raise

    async def aclose(self) -> None:
        """Stop: no more windows; the task pulling from the source is stopped."""
        self._finished = True
        self._ready.clear()
        self._stop_source()
        task = self._pump
        if task is not None and not task.done():
            await asyncio.wait([task])

    def _stop_source(self) -> None:
        """Close the channel this stream fills and cancel the task filling it.

        Synchronous, so that the finaliser can call it too: a task waiting
        for room in a channel nobody reads any more would wait for ever.
        """
        channel = self._own_channel
        if channel is not None:
            channel.close(ChannelClosed("the window stream was closed before its source ended"))
        task = self._pump
        if task is not None and not task.done():
            task.cancel()

    def __del__(self) -> None:
        # A consumer that breaks out of ``async for``, or is cancelled in its
        # loop body, outside ``async with``: nobody will call aclose().
        pump = getattr(self, "_pump", None)
        if pump is None or pump.done():
            return
        try:
            self._stop_source()
        except RuntimeError:
            pass  # the event loop is closed already: its tasks are gone with it

    async def __aenter__(self) -> WindowStream[T]:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    # -- one step: a micro-batch, an idle advance or the end --------------------

    async def _step(self) -> None:
        if self._reader is None:
            self._start()
        more = await self._gather()
        if self._windower.waiting:
            await self._push()
        if more is None:
            await self._finish()

    def _start(self) -> None:
        source = self._source
        if isinstance(source, Channel | ChannelReader):
            self._reader = source
            self._tagged = self._windower.read_tags_of(source.tag_source)
        else:
            channel: Channel[T] = Channel(self._capacity)
            self._reader = self._own_channel = channel
            self._pump = asyncio.get_running_loop().create_task(
                pump(as_async_iterable(source), channel),
                name="mdwindow.stream.tumbling_window_event_time",
            )
        self._last_activity = self._clock.now()

    async def _gather(self) -> bool | None:
        """Take in the next micro-batch; None once the source has ended.

        Returns False when nothing came (after an idle advance or a wait).
        """
        reader = self._reader
        assert reader is not None
        windower = self._windower
        if self._idle_ns is None:
            if self._tagged:
                chunk, tags = await reader.get_tagged_batch(self._max_batch)
            else:
                chunk, tags = await reader.get_batch(self._max_batch), None
            if not chunk:
                return None
        else:
            chunk, tags = self._take(reader, self._max_batch)
            if not chunk:
                if reader.drained:
                    return None
                quiet_for = self._idle_ns / 1e9 - (self._clock.now() - self._last_activity)
                if quiet_for <= 0:
                    await self._idle_advance()
                else:
                    await self._wait_for_items(quiet_for)
                return False
        windower.take_in(chunk, tags)
        # Top up while more keeps coming without a wait: one engine call costs
        # about the same for ten items as for ten thousand. Each chunk is read
        # as it comes, while its items are still in the CPU cache.
        empty_turns = 0
        while windower.waiting < self._max_batch and empty_turns < TOP_UP_TURNS:
            await asyncio.sleep(0)
            if reader.drained:
                break
            chunk, tags = self._take(reader, self._max_batch - windower.waiting)
            if chunk:
                windower.take_in(chunk, tags)
                empty_turns = 0
            else:
                empty_turns += 1
        self._last_activity = self._clock.now()
        return True

    def _take(
        self, reader: Channel[T] | ChannelReader[T], max_items: int
    ) -> tuple[list[T], list[Any] | None]:
        if self._tagged:
            return reader.take_tagged(max_items)
        return reader.take_nowait(max_items), None

    async def _wait_for_items(self, timeout: float) -> None:
        assert self._reader is not None
        readable = asyncio.ensure_future(self._reader.wait_readable())
        sleeper = asyncio.ensure_future(self._clock.sleep(timeout))
        try:
            await asyncio.wait((readable, sleeper), return_when=asyncio.FIRST_COMPLETED)
        finally:
            readable.cancel()
            sleeper.cancel()
            await asyncio.wait((readable, sleeper))

    async def _idle_advance(self) -> None:
        """Move the watermark on by the quiet time (``idle_flush``)."""
        now = self._clock.now()
        quiet_ns = int((now - self._last_activity) * 1e9)
        self._last_activity = now
        if self._windower.take_in_quiet_time(quiet_ns):
            await self._push()

    async def _push(self) -> None:
        pushed = self._windower.push()
        self._batches += 1
        if self._on_late is not None:
            for late in pushed.late:
                await call_maybe_async(self._on_late, late)
        if self._on_rejected is not None:
            for rejected in pushed.rejected:
                await call_maybe_async(self._on_rejected, rejected)
        self._ready.append(pushed.windows)

    async def _finish(self) -> None:
        windows, self._pending = self._windower.finish()
        self._ready.append(windows)
        self._finished = True
        if self._pump is not None:
            await asyncio.wait([self._pump])

    def __repr__(self) -> str:
        state = "finished" if self._finished else "running"
        return f"WindowStream(size={self._cfg.spec.size}, {state}, stats={self.stats})"
