"""Every front door takes its window options from the one options record.

A door may spell its options out in its signature (for documentation), but
with exactly the names and defaults of ``OPTION_DEFAULTS``, and it passes
what it was given to ``WindowOptions.build``: a bad value gets the record's
own error, word for word, whichever door it came through.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mdwindow
import mdwindow.dask as mdask
from mdwindow import TumblingWindowSpec, WatermarkPolicy
from mdwindow.core.options import OPTION_DEFAULTS, POLICY_OPTIONS, SPEC_OPTIONS, WindowOptions
from mdwindow.incremental import Windower
from mdwindow.stream import tumbling_window_event_time
from mdwindow.widgets import WatermarkTuner

ALL = frozenset(OPTION_DEFAULTS)
#: Options a grid (sweep) takes as keywords: lag and lateness are its axes, it
#: counts rows and windows (no aggregation, emit mode "final"), and the window
#: grid's offset comes with the spec.
GRID = ALL - {"lag", "allowed_lateness", "agg", "emit", "price", "size"} - set(SPEC_OPTIONS)


def _ticks() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts": pd.to_datetime([0, 1, 2, 3], unit="s", utc=True),
            "symbol": ["A", "B", "A", "B"],
            "price": [1.0, 2.0, 3.0, 4.0],
            "size": [1, 1, 1, 1],
        }
    )


def _push(ticks: pd.DataFrame, spec: Any, **options: Any) -> Any:
    return Windower(spec, **options).push(ticks)


def _dask(ticks: pd.DataFrame, spec: Any, **options: Any) -> Any:
    import dask.dataframe as dd

    return mdask.tumbling_windows(dd.from_pandas(ticks, npartitions=1), spec, **options)


def _tune(ticks: pd.DataFrame, spec: Any, **options: Any) -> Any:
    return WatermarkTuner(ticks, spec, **options)


def _sweep(ticks: pd.DataFrame, spec: Any, **options: Any) -> Any:
    return mdwindow.sweep(ticks, spec, lags=["0s"], lateness=["0s"], **options)


def _recommend(ticks: pd.DataFrame, spec: Any, **options: Any) -> Any:
    return mdwindow.recommend(
        ticks, spec, lags=["0s"], latenesses=["0s"], max_drop_rate=1.0, **options
    )


def _report(ticks: pd.DataFrame, spec: Any, **options: Any) -> Any:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        return mdwindow.write_report(ticks, spec, f"{folder}/r.html", **options)


#: name -> (the callable whose signature documents it, how to call it, options it takes)
DOORS: dict[str, tuple[Callable[..., Any], Callable[..., Any], frozenset[str]]] = {
    "tumbling_windows": (mdwindow.tumbling_windows, mdwindow.tumbling_windows, ALL),
    "Windower": (Windower.__init__, _push, ALL),
    "dask.tumbling_windows": (mdask.tumbling_windows, _dask, ALL),
    "sweep": (mdwindow.sweep, _sweep, GRID),
    "WatermarkTuner": (WatermarkTuner.__init__, _tune, ALL - {"agg", "emit", "price", "size"}),
    "write_report": (mdwindow.write_report, _report, ALL),
    "recommend": (mdwindow.recommend, _recommend, GRID),
}
#: Defaults a door states on purpose, with the reason; every other default is the record's.
OWN_DEFAULTS = {
    # Recommending a lag per symbol is the common question; the issue that
    # asked for recommend() fixed this default.
    ("recommend", "scope"): "key",
}

#: An invalid value for each option.
BAD = {
    "offset": "5",
    "emit_partial": "yes",
    "lag": "2",
    "allowed_lateness": "-1s",
    "scope": "sideways",
    "idle_timeout": "3",
    "time": 7,
    "key": 7,
    "agg": "hlc",
    "emit": "always",
    "arrival_time": 7,
    "time_unit": "fortnight",
    "partitions": 0,
    "hash": "md5",
    "seed": "zero",
    "price": 7,
    "size": 7,
}


def _record_error(name: str) -> str:
    """The message ``WindowOptions.build`` gives for the bad value of ``name``."""
    try:
        WindowOptions.build("1s", **{"scope": "key", name: BAD[name]})
    except (TypeError, ValueError) as exc:
        return str(exc)
    raise AssertionError(f"{name}={BAD[name]!r} was accepted")


def test_every_option_has_a_bad_value():
    assert set(BAD) == ALL


@pytest.mark.parametrize("door", list(DOORS))
def test_signature_names_and_defaults_are_the_records(door):
    documented, _, _ = DOORS[door]
    parameters = inspect.signature(documented).parameters
    for name, parameter in parameters.items():
        if name in OPTION_DEFAULTS and parameter.default is not inspect.Parameter.empty:
            expected = OWN_DEFAULTS.get((door, name), OPTION_DEFAULTS[name])
            assert parameter.default == expected, (door, name)
    spelled = {n for n in parameters if n in OPTION_DEFAULTS}
    forwards = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    _, _, takes = DOORS[door]
    assert spelled <= takes, (door, spelled - takes)
    # What the signature does not spell out comes through **keywords or the spec.
    assert forwards or takes - spelled <= set(SPEC_OPTIONS) | set(POLICY_OPTIONS), door


@pytest.mark.parametrize("name", sorted(ALL))
@pytest.mark.parametrize("door", list(DOORS))
def test_a_bad_option_gets_the_records_error_through_every_door(door, name):
    _, call, takes = DOORS[door]
    if name not in takes:
        with pytest.raises(TypeError, match=name):
            call(_ticks(), "1s", **{name: BAD[name]})
        return
    options = {name: BAD[name]}
    if name not in ("scope", "key"):
        options.setdefault("scope", "key")
    with pytest.raises((TypeError, ValueError)) as caught:
        call(_ticks(), "1s", **options)
    assert str(caught.value) == _record_error(name)


def test_the_record_round_trips_through_a_checkpoint_header():
    options = WindowOptions.build(
        "5s", offset="1s", lag="2s", allowed_lateness="1s", scope="partition",
        idle_timeout="3s", agg="ohlcv", emit="updates", partitions=4, hash="kafka",
        arrival_time="recv", time="t", key="sym",
    )  # fmt: skip
    assert WindowOptions.from_header(options.to_header()) == options


def test_defaults_build_the_default_record():
    record = WindowOptions.build("1s")
    assert record.spec.offset == pd.Timedelta(0) and record.spec.emit_partial is False
    assert (record.policy.lag_ns, record.policy.lateness_ns) == (0, 0)
    assert (record.scope, record.policy.idle_timeout) == (OPTION_DEFAULTS["scope"], None)
    for name in ("time", "key", "emit", "arrival_time", "time_unit", "partitions", "hash"):
        assert getattr(record, name) == OPTION_DEFAULTS[name], name
    assert record.plan.items == () and np.int64(record.seed) == OPTION_DEFAULTS["seed"]


@pytest.mark.parametrize(
    "spec, policy, named",
    [
        ("5", None, "size: got the bare number"),
        ("5s", WatermarkPolicy(scope="key"), "scope: 'key' needs a key column"),
        (
            TumblingWindowSpec("5s"),
            WatermarkPolicy(lag="1s", scope="partition"),
            "partition. needs a key",
        ),
    ],
)
def test_the_stream_gets_the_records_errors_in_its_own_words(spec, policy, named):
    with pytest.raises((TypeError, ValueError), match=named):
        tumbling_window_event_time([], spec, get_event_time=len, watermark_policy=policy)
