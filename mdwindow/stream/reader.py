"""``ChannelReader``: the reading half of a :class:`~mdwindow.stream.channel.Channel`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from mdwindow.stream.channel import Channel

T = TypeVar("T")

__all__ = ["ChannelReader"]


class ChannelReader(Generic[T]):
    """The reading half of a :class:`Channel`: iterate it, take batches, watch pressure.

    Examples
    --------
    >>> import asyncio
    >>> from mdwindow.stream import Channel
    >>> async def demo():
    ...     channel = Channel(8)
    ...     await channel.put_many("abc")
    ...     channel.close()
    ...     return await channel.reader().get_batch()
    >>> asyncio.run(demo())
    ['a', 'b', 'c']
    """

    __slots__ = ("_channel",)

    def __init__(self, channel: Channel[T]) -> None:
        self._channel = channel

    @property
    def pressure(self) -> bool:
        """The channel's pressure flag."""
        return self._channel.pressure

    @property
    def drained(self) -> bool:
        """Closed and empty: nothing more will come out."""
        return self._channel.drained

    def __len__(self) -> int:
        return len(self._channel)

    def __aiter__(self) -> ChannelReader[T]:
        return self

    async def __anext__(self) -> T:
        return await self._channel.__anext__()

    async def get(self) -> T:
        """The next item; see :meth:`Channel.get`."""
        return await self._channel.get()

    async def get_batch(self, max_items: int | None = None) -> list[T]:
        """See :meth:`Channel.get_batch`."""
        return await self._channel.get_batch(max_items)

    def take_nowait(self, max_items: int | None = None) -> list[T]:
        """See :meth:`Channel.take_nowait`."""
        return self._channel.take_nowait(max_items)

    async def wait_readable(self) -> None:
        """See :meth:`Channel.wait_readable`."""
        await self._channel.wait_readable()

    @property
    def tag_source(self) -> Any:
        """What the channel's item tags mean (None for an untagged channel)."""
        return self._channel.tag_source

    def take_tagged(self, max_items: int | None = None) -> tuple[list[T], list[Any]]:
        """See :meth:`Channel.take_tagged`."""
        return self._channel.take_tagged(max_items)

    async def get_tagged_batch(self, max_items: int | None = None) -> tuple[list[T], list[Any]]:
        """See :meth:`Channel.get_tagged_batch`."""
        return await self._channel.get_tagged_batch(max_items)

    def __repr__(self) -> str:
        return f"ChannelReader({self._channel!r})"
