"""The options of a windowing run: one record, one table of validators.

Every front door builds its options with :meth:`WindowOptions.build` (and a
checkpoint with :meth:`WindowOptions.from_header`); :data:`OPTION_DEFAULTS`
names every option a door may take and its default.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from mdwindow.core.aggregate import AggPlan, make_plan, plan_entries, plan_from_entries
from mdwindow.core.hashing import HASHES
from mdwindow.core.rules import idle_or_none
from mdwindow.core.specs import (
    POLICY_KEYWORDS,
    TumblingWindowSpec,
    WatermarkPolicy,
    resolve_policy,
)

#: Every window option a front door accepts besides the window size, with its
#: default. Front doors may spell their signatures out for documentation;
#: ``tests/test_options.py`` holds each of them to this table.
OPTION_DEFAULTS: Mapping[str, Any] = MappingProxyType(
    {
        "offset": 0,
        "emit_partial": False,
        "lag": 0,
        "allowed_lateness": 0,
        "scope": "global",
        "idle_timeout": None,
        "time": "ts",
        "key": "symbol",
        "agg": None,
        "emit": "final",
        "arrival_time": None,
        "time_unit": None,
        "partitions": None,
        "hash": "murmur3",
        "seed": 0,
        "price": "price",
        "size": "size",
    }
)
#: Options of the window grid (``TumblingWindowSpec``) and of the watermark (``WatermarkPolicy``).
SPEC_OPTIONS = ("offset", "emit_partial")
POLICY_OPTIONS = POLICY_KEYWORDS
EMITS = ("final", "updates")
TIME_UNITS = ("s", "ms", "us", "ns")
#: Fields of a checkpoint header's options (:meth:`WindowOptions.to_header`).
HEADER_FIELDS = (
    "size_ns", "offset_ns", "emit_partial", "lag_ns", "lateness_ns", "scope", "idle_ns",
    "time", "key", "agg", "emit", "arrival_time", "time_unit", "partitions", "hash", "seed",
)  # fmt: skip


def _column_name(name: str, *, optional: bool = False) -> Callable[[Any], Any]:
    what = "the name of the column, or None" if optional else "the name of the column"

    def check(value: Any) -> Any:
        if value is None and optional:
            return None
        if not isinstance(value, str):
            raise TypeError(f"{name}: got {value!r}; give {what}")
        return value

    return check


def _choice(name: str, choices: tuple[Any, ...], listing: str = "") -> Callable[[Any], Any]:
    listing = listing or "one of " + ", ".join(map(repr, choices))

    def check(value: Any) -> Any:
        if not isinstance(value, str) or value not in choices:
            raise ValueError(f"{name}: got {value!r}; choose {listing}")
        return value

    return check


def _partitions(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(
            f"partitions: got {value!r}; give a whole number >= 1 (or None: no partitions)"
        )
    return int(value)


def _seed(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"seed: got {value!r}; give an integer seed")
    return int(value)


def _time_unit(value: Any) -> str | None:
    if value is None:
        return None
    return _choice("time_unit", TIME_UNITS)(value)


#: The one table of checks: option name -> normalised value (or a clear error).
#: Options of the spec and the policy are checked by those value objects.
_VALIDATORS: Mapping[str, Callable[[Any], Any]] = MappingProxyType(
    {
        "time": _column_name("time"),
        "key": _column_name("key", optional=True),
        "emit": _choice("emit", EMITS, "'final' or 'updates'"),
        "arrival_time": _column_name("arrival_time", optional=True),
        "time_unit": _time_unit,
        "partitions": _partitions,
        "hash": _choice("hash", HASHES),
        "seed": _seed,
        "price": _column_name("price"),
        "size": _column_name("size"),
    }
)


@dataclass(frozen=True)
class WindowOptions:
    """Every option of a windowing run, validated once.

    Built by :meth:`build` from the keywords of any front door (or from a
    spec and a policy), and by :meth:`from_header` from a checkpoint; both
    go through the same table of validators.
    """

    spec: TumblingWindowSpec
    policy: WatermarkPolicy
    time: str
    key: str | None
    plan: AggPlan
    emit: str
    arrival_time: str | None
    time_unit: str | None
    partitions: int | None
    hash: str
    seed: int

    @property
    def scope(self) -> str:
        return self.policy.scope

    @property
    def idle_arg(self) -> int:
        """The idle timeout as the row rules take it (``NO_IDLE`` when unset)."""
        return idle_or_none(self.policy.idle_ns)

    @classmethod
    def build(
        cls, spec: Any, policy: WatermarkPolicy | None = None, **options: Any
    ) -> WindowOptions:
        """Validate a front door's options (those it was not given take their defaults).

        ``spec`` is a :class:`TumblingWindowSpec` or a window size;
        ``offset`` and ``emit_partial`` may only come with a bare size.
        ``policy`` is a :class:`WatermarkPolicy`, or None and the policy
        keywords (``lag``, ``allowed_lateness``, ``scope``,
        ``idle_timeout``).
        """
        unknown = sorted(set(options) - set(OPTION_DEFAULTS))
        if unknown:
            raise TypeError(
                f"unexpected keyword argument(s) {unknown}; the options are "
                f"{', '.join(OPTION_DEFAULTS)}"
            )
        spec_options = {k: options.pop(k) for k in SPEC_OPTIONS if k in options}
        if isinstance(spec, TumblingWindowSpec):
            if spec_options:
                raise TypeError(
                    f"{sorted(spec_options)}: given together with a TumblingWindowSpec; "
                    "put them in the spec instead"
                )
        else:
            spec = TumblingWindowSpec(spec, **spec_options)
        policy = resolve_policy(
            policy, {k: options.pop(k) for k in POLICY_OPTIONS if k in options}
        )
        values = {name: options.get(name, OPTION_DEFAULTS[name]) for name in _VALIDATORS}
        values = {name: check(values[name]) for name, check in _VALIDATORS.items()}
        agg = options.get("agg", OPTION_DEFAULTS["agg"])
        plan = make_plan(
            agg, price=values.pop("price"), size=values.pop("size"), key=values["key"]
        )
        return cls._together(spec=spec, policy=policy, plan=plan, **values)

    @classmethod
    def _together(cls, **fields: Any) -> WindowOptions:
        """The record, once the options that depend on each other agree."""
        policy, key, partitions = fields["policy"], fields["key"], fields["partitions"]
        if fields["hash"] == "kafka" and fields["seed"] != 0:
            raise ValueError(
                "seed: Kafka's partitioner has a fixed seed; leave seed=0 with hash='kafka'"
            )
        if policy.scope != "global" and key is None:
            raise ValueError(
                f"scope: {policy.scope!r} needs a key column, but key=None; "
                "name the key column or use scope='global'"
            )
        if policy.scope == "partition" and partitions is None:
            raise ValueError(
                "partitions: scope='partition' needs partitions=P (the number of hash partitions)"
            )
        if partitions is not None and key is None:
            raise ValueError("partitions: hash partitioning needs a key column, but key=None")
        return cls(**fields)

    def to_header(self) -> dict[str, Any]:
        """The options as plain JSON-able data (a checkpoint header)."""
        return {
            "size_ns": self.spec.size_ns,
            "offset_ns": self.spec.offset_ns,
            "emit_partial": self.spec.emit_partial,
            "lag_ns": self.policy.lag_ns,
            "lateness_ns": self.policy.lateness_ns,
            "scope": self.policy.scope,
            "idle_ns": self.policy.idle_ns,
            "time": self.time,
            "key": self.key,
            "agg": plan_entries(self.plan),
            "emit": self.emit,
            "arrival_time": self.arrival_time,
            "time_unit": self.time_unit,
            "partitions": self.partitions,
            "hash": self.hash,
            "seed": self.seed,
        }

    @classmethod
    def from_header(cls, header: Any, agg: Any = None) -> WindowOptions:
        """The options of :meth:`to_header`, through the same validators as :meth:`build`.

        ``agg`` supplies the Python functions a header cannot hold (it must
        describe the same aggregation). Raises ``ValueError`` or
        ``TypeError`` naming the field at fault.
        """
        fields = set(HEADER_FIELDS)
        if not isinstance(header, dict) or set(header) != fields:
            got = sorted(header) if isinstance(header, dict) else type(header).__name__
            raise ValueError(f"options: expected the fields {sorted(fields)}, got {got}")

        def nanos(name: str, *, optional: bool = False) -> pd.Timedelta | None:
            value = header[name]
            if value is None and optional:
                return None
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name}: got {value!r}; expected whole nanoseconds")
            return pd.Timedelta(value)

        key = _VALIDATORS["key"](header["key"])
        return cls.build(
            nanos("size_ns"),
            offset=nanos("offset_ns"),
            emit_partial=header["emit_partial"],
            lag=nanos("lag_ns"),
            allowed_lateness=nanos("lateness_ns"),
            scope=header["scope"],
            idle_timeout=nanos("idle_ns", optional=True),
            time=header["time"],
            key=key,
            agg=plan_from_entries(header["agg"], agg, key=key),
            emit=header["emit"],
            arrival_time=header["arrival_time"],
            time_unit=header["time_unit"],
            partitions=header["partitions"],
            hash=header["hash"],
            seed=header["seed"],
        )

    def replace(self, **options: Any) -> WindowOptions:
        """A copy with some options changed, checked like :meth:`build`."""
        keywords = self.keywords()
        keywords.update(options)
        size = keywords.pop("window_size")
        return WindowOptions.build(size, **keywords)

    def keywords(self) -> dict[str, Any]:
        """The options as the keywords of :meth:`build` (``window_size`` for the size).

        Aggregations are given back as their plan's items (callables
        included), which :meth:`build` accepts again.
        """
        return {
            "window_size": self.spec.size,
            "offset": self.spec.offset,
            "emit_partial": self.spec.emit_partial,
            "lag": self.policy.lag,
            "allowed_lateness": self.policy.allowed_lateness,
            "scope": self.policy.scope,
            "idle_timeout": self.policy.idle_timeout,
            "time": self.time,
            "key": self.key,
            "agg": self.plan,
            "emit": self.emit,
            "arrival_time": self.arrival_time,
            "time_unit": self.time_unit,
            "partitions": self.partitions,
            "hash": self.hash,
            "seed": self.seed,
        }
