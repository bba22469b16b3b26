"""Sources and sinks of live streams: feeding a channel, closing a source, callbacks."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable
from typing import Any, TypeVar

from mdwindow.stream.channel import Channel, ChannelClosed

T = TypeVar("T")

__all__ = ["as_async_iterable", "call_maybe_async", "close_source", "pump"]


async def pump(source: Any, channel: Channel[T]) -> None:
    """Copy an async iterable into ``channel``, then close it.

    The channel is closed cleanly when the source ends, with the source's error
    when it fails, and with :class:`ChannelClosed` when the pump is cancelled
    (the source is then closed too, with ``aclose()`` when it has one).

    Examples
    --------
    >>> import asyncio
    >>> async def demo():
    ...     channel = Channel(2)
    ...     task = asyncio.ensure_future(pump(iter_async(range(5)), channel))
    ...     items = [item async for item in channel]
    ...     await task
    ...     return items
    >>> async def iter_async(items):
    ...     for item in items:
    ...         yield item
    >>> asyncio.run(demo())
    [0, 1, 2, 3, 4]
    """
    exhausted = False
    try:
        async for item in source:
            if not channel.try_put(item):
                await channel.put(item)
        exhausted = True
    except asyncio.CancelledError:
        channel.close(ChannelClosed("the stream was closed before its source ended"))
        raise
    except Exception as error:
        # Readers get the error; the pump itself ends quietly (nobody awaits it).
        channel.close(error)
    else:
        channel.close()
    finally:
        if not exhausted:
            await close_source(source)


async def close_source(source: Any) -> None:
    """``await source.aclose()`` when the source has it (async generators do)."""
    aclose = getattr(source, "aclose", None)
    if aclose is None:
        return
    try:
        await aclose()
    except Exception:
        # The source's own cleanup error must not mask the error being reported.
        pass


async def _from_iterable(items: Iterable[T]) -> AsyncIterator[T]:
    for item in items:
        yield item


def as_async_iterable(source: Any, name: str = "source") -> AsyncIterable[Any]:
    """An async iterable over ``source`` (async iterables as they are, iterables wrapped)."""
    if hasattr(source, "__aiter__"):
        return source
    if hasattr(source, "__iter__") and not isinstance(source, str | bytes):
        return _from_iterable(source)
    raise TypeError(
        f"{name}: got {type(source).__name__}; give an async iterable (an async generator, "
        "a Channel) or a plain iterable of items"
    )


async def call_maybe_async(callback: Callable[..., Any], *args: Any) -> None:
    """Call ``callback`` and await its result when it is awaitable (``Channel.put`` is)."""
    result = callback(*args)
    if inspect.isawaitable(result):
        await result
