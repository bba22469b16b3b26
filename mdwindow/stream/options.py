"""The window options of a live stream, built by :meth:`WindowOptions.build` like every front door.

A stream windows items, not a frame: its engine is given a small frame of
event times (column :data:`TIME_COLUMN`) and keys (column :data:`KEY_COLUMN`,
when there is a ``get_key``). The stream spells some window options its own
way (``watermark_policy=``, ``get_key=``, ``partitioning=``); the errors of the
one validator table are given back with those spellings added.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from mdwindow.core.options import WatermarkPolicy, WindowOptions
from mdwindow.stream.partition import PartitioningSpec

__all__ = ["KEY_COLUMN", "TIME_COLUMN", "in_stream_terms", "stream_window_options"]

#: Column names of the frame the stream hands to the engine.
TIME_COLUMN = "ts"
KEY_COLUMN = "key"

#: How ``tumbling_window_event_time`` spells the window options it takes another way.
STREAM_SPELLING = {
    "policy": "watermark_policy=WatermarkPolicy(...)",
    "scope": "watermark_policy=WatermarkPolicy(scope=...)",
    "key": "get_key=<callable>",
    "partitions": "partitioning=PartitioningSpec(partitions=...)",
    "hash": "partitioning=PartitioningSpec(hash=...)",
    "seed": "partitioning=PartitioningSpec(seed=...)",
}
_OPTION_WORDS = re.compile(r"\b(" + "|".join(STREAM_SPELLING) + r")\b")


def stream_window_options(
    spec: Any,
    watermark_policy: WatermarkPolicy | None,
    get_key: Callable[[Any], Any] | None,
    partitioning: PartitioningSpec | None,
) -> WindowOptions:
    """The validated window options of a stream, from :meth:`WindowOptions.build`.

    Parameters
    ----------
    spec : TumblingWindowSpec or duration
        As given to ``tumbling_window_event_time``.
    watermark_policy : WatermarkPolicy or None
        As given; None is the default policy.
    get_key : callable or None
        Whether items have a key (the engine's key column) or are one stream.
    partitioning : PartitioningSpec or None
        Partitions, hash and seed of the engine (scope "partition").

    Examples
    --------
    >>> cfg = stream_window_options("5s", None, get_key=len, partitioning=None)
    >>> cfg.spec.size, cfg.scope, cfg.key
    (Timedelta('0 days 00:00:05'), 'global', 'key')
    >>> stream_window_options("5s", WatermarkPolicy(scope="key"), None, None)
    Traceback (most recent call last):
    ...
    ValueError: scope: 'key' needs a key column, but key=None; ... key is get_key=<callable>)
    """
    partition_options: dict[str, Any] = {}
    if partitioning is not None:
        partition_options = {
            "partitions": partitioning.partitions,
            "hash": partitioning.hash,
            "seed": partitioning.seed,
        }
    try:
        return WindowOptions.build(
            spec,
            watermark_policy,
            time=TIME_COLUMN,
            key=None if get_key is None else KEY_COLUMN,
            **partition_options,
        )
    except (TypeError, ValueError) as error:
        raise in_stream_terms(error) from None


def in_stream_terms(error: Exception) -> Exception:
    """The same error, its message followed by the stream's spelling of the options it names."""
    message = str(error)
    named = dict.fromkeys(_OPTION_WORDS.findall(message))
    if not named:
        return error
    spelled = ", ".join(f"{name} is {STREAM_SPELLING[name]}" for name in named)
    return type(error)(f"{message} (in tumbling_window_event_time: {spelled})")
