"""What to window and how far to wait: the two small value objects of the API.

:class:`TumblingWindowSpec` (window size, grid offset, partial emission at
the end) and :class:`WatermarkPolicy` (lag, allowed lateness, scope, idle
timeout) check their own fields; :class:`~mdwindow.core.options.WindowOptions`
holds them with every other option of a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from mdwindow.core.times import to_nanos

SCOPES = ("global", "key", "partition")


@dataclass(frozen=True)
class TumblingWindowSpec:
    """Event-time tumbling windows ``[start, start + size)``.

    Parameters
    ----------
    size : duration
        Window length, greater than zero (``"1s"``, ``pd.Timedelta("5min")``...).
    offset : duration, default 0
        Shift of the window grid; normalised to ``offset mod size``. With
        offset 0 windows are aligned to the Unix epoch.
    emit_partial : bool, default False
        At the end of input, emit windows that are still open with
        ``timing="partial"`` instead of returning them in ``pending``.

    Examples
    --------
    >>> spec = TumblingWindowSpec("5s", offset="7s")
    >>> spec.size, spec.offset
    (Timedelta('0 days 00:00:05'), Timedelta('0 days 00:00:02'))
    """

    size: Any
    offset: Any = 0
    emit_partial: bool = False

    def __post_init__(self) -> None:
        size = to_nanos(self.size, "size")
        if size <= 0:
            raise ValueError(f"size: got {pd.Timedelta(size)}; a window size must be > 0")
        offset = to_nanos(self.offset, "offset") % size
        if not isinstance(self.emit_partial, bool):
            raise TypeError(f"emit_partial: got {self.emit_partial!r}; give True or False")
        object.__setattr__(self, "size", pd.Timedelta(size))
        object.__setattr__(self, "offset", pd.Timedelta(offset))

    @property
    def size_ns(self) -> int:
        """Window size in nanoseconds."""
        return int(self.size.value)

    @property
    def offset_ns(self) -> int:
        """Grid offset in nanoseconds, in ``[0, size)``."""
        return int(self.offset.value)

    @classmethod
    def coerce(cls, spec: Any) -> TumblingWindowSpec:
        """Accept a spec or a bare duration (``"5s"``) and return a spec."""
        if isinstance(spec, cls):
            return spec
        return cls(spec)


@dataclass(frozen=True)
class WatermarkPolicy:
    """How the watermark follows event time, and how late a row may be.

    The watermark of a scope is ``W = M - lag`` where ``M`` is the largest
    event time seen in that scope; a row whose window ended at ``E`` is on
    time while ``W < E``, late (still accepted) while ``W < E + allowed_lateness``,
    and dropped after.

    Parameters
    ----------
    lag : duration, default 0
        Bounded out-of-orderness: how far the watermark trails ``M`` (>= 0).
    allowed_lateness : duration, default 0
        How long after the watermark passes a window's end late rows are
        still accepted (>= 0).
    scope : {"global", "key", "partition"}, default "global"
        One watermark for all rows, one per key, or one per hash partition.
    idle_timeout : duration, optional
        Only with scope "key" or "partition": a scope's watermark is never
        more than ``idle_timeout`` behind the global one.

    Examples
    --------
    >>> WatermarkPolicy(lag="2s", allowed_lateness="500ms", scope="key").lag
    Timedelta('0 days 00:00:02')
    """

    lag: Any = 0
    allowed_lateness: Any = 0
    scope: str = "global"
    idle_timeout: Any = None

    def __post_init__(self) -> None:
        lag = to_nanos(self.lag, "lag")
        lateness = to_nanos(self.allowed_lateness, "allowed_lateness")
        if lag < 0:
            raise ValueError(f"lag: got {pd.Timedelta(lag)}; the lag must be >= 0")
        if lateness < 0:
            raise ValueError(f"allowed_lateness: got {pd.Timedelta(lateness)}; it must be >= 0")
        if self.scope not in SCOPES:
            raise ValueError(
                f"scope: got {self.scope!r}; choose one of {', '.join(map(repr, SCOPES))}"
            )
        idle = to_nanos(self.idle_timeout, "idle_timeout", allow_none=True)
        if idle is not None:
            if self.scope == "global":
                raise ValueError(
                    "idle_timeout: only applies to scope='key' or scope='partition' "
                    "(a global watermark has no idle keys); drop it or change the scope"
                )
            if idle < 0:
                raise ValueError(f"idle_timeout: got {pd.Timedelta(idle)}; it must be >= 0")
        object.__setattr__(self, "lag", pd.Timedelta(lag))
        object.__setattr__(self, "allowed_lateness", pd.Timedelta(lateness))
        object.__setattr__(self, "idle_timeout", None if idle is None else pd.Timedelta(idle))

    @property
    def lag_ns(self) -> int:
        """Lag in nanoseconds."""
        return int(self.lag.value)

    @property
    def lateness_ns(self) -> int:
        """Allowed lateness in nanoseconds."""
        return int(self.allowed_lateness.value)

    @property
    def idle_ns(self) -> int | None:
        """Idle timeout in nanoseconds, or None."""
        return None if self.idle_timeout is None else int(self.idle_timeout.value)


POLICY_KEYWORDS = ("lag", "allowed_lateness", "scope", "idle_timeout")


def resolve_policy(policy: WatermarkPolicy | None, keywords: dict[str, Any]) -> WatermarkPolicy:
    """Build the policy from ``policy=`` or from the policy keywords, not both."""
    unknown = set(keywords) - set(POLICY_KEYWORDS)
    if unknown:
        raise TypeError(
            f"unexpected keyword argument(s) {sorted(unknown)}; "
            f"the policy keywords are {', '.join(POLICY_KEYWORDS)}"
        )
    if policy is not None:
        if keywords:
            raise TypeError(
                f"policy: a WatermarkPolicy was given together with {sorted(keywords)}; "
                "give either policy=WatermarkPolicy(...) or the keywords, not both"
            )
        if not isinstance(policy, WatermarkPolicy):
            raise TypeError(
                f"policy: got {type(policy).__name__}; give a WatermarkPolicy or leave it None"
            )
        return policy
    return WatermarkPolicy(**keywords)
