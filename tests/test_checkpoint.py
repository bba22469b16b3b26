"""Checkpoints: the whole blob under the checksum, every header value validated at restore."""

from __future__ import annotations

import json
import struct
import zlib

import numpy as np
import pandas as pd
import pytest

from mdwindow.checkpoint import CheckpointError
from mdwindow.incremental import Windower


def _ticks(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "ts": pd.to_datetime(np.sort(rng.integers(0, 30_000, n)), unit="ms", utc=True),
            "symbol": rng.choice(["A", "B", "C"], n),
            "price": rng.normal(100, 1, n).round(2),
            "size": rng.integers(1, 5, n) * 100,
        }
    )


def _blob(**options) -> bytes:
    w = Windower("1s", lag="2s", **options)
    w.push(_ticks())
    return w.checkpoint()


def _rewrite(blob: bytes, change) -> bytes:
    """The blob with its JSON header changed by ``change`` and a valid checksum again."""
    (length,) = struct.unpack(">I", blob[8:12])
    header = json.loads(blob[12 : 12 + length])
    change(header)
    head = json.dumps(header, sort_keys=True).encode()
    body = blob[:8] + struct.pack(">I", len(head)) + head + blob[12 + length : -4]
    return body + struct.pack(">I", zlib.crc32(body))


def test_every_single_bit_flip_is_refused_at_restore():
    blob = _blob(agg="ohlcv", scope="key")
    rng = np.random.default_rng(0)
    # Every byte of the header, and a sample of the sections and the checksum.
    (length,) = struct.unpack(">I", blob[8:12])
    positions = list(range(8, 12 + length)) + list(
        rng.choice(np.arange(12 + length, len(blob)), 300, replace=False)
    )
    for position in positions:
        damaged = bytearray(blob)
        damaged[position] ^= 1 << int(rng.integers(8))
        with pytest.raises(CheckpointError):
            Windower.restore(bytes(damaged))


def test_the_checksum_covers_the_header():
    # A lag changed in the header without fixing the checksum is refused.
    blob = _blob()
    tampered = blob.replace(b'"lag_ns": 2000000000', b'"lag_ns": 1000000000')
    assert tampered != blob
    with pytest.raises(CheckpointError, match="checksum"):
        Windower.restore(tampered)


@pytest.mark.parametrize(
    "field, value, named",
    [
        ("emit", "bogus", "emit"),
        ("partitions", 0, "partitions"),
        ("scope", "sideways", "scope"),
        ("lag_ns", -5, "lag"),
        ("lag_ns", "2s", "lag_ns"),
        ("size_ns", 0, "size"),
        ("hash", "md5", "hash"),
        ("time_unit", "fortnight", "time_unit"),
        ("agg", [{"name": "h", "columns": ["price"], "func": "hist"}], "hist"),
        ("agg", "ohlcv", "agg"),
        ("key", 7, "key"),
    ],
)
def test_a_header_with_a_valid_checksum_is_still_validated(field, value, named):
    blob = _rewrite(_blob(), lambda h: h["config"].__setitem__(field, value))
    with pytest.raises(CheckpointError, match=named):
        Windower.restore(blob)


@pytest.mark.parametrize(
    "change",
    [
        lambda h: h.__setitem__("rows_seen", -1),
        lambda h: h.__setitem__("rows_seen", "60"),
        lambda h: h.__setitem__("time_kind", "sundial"),
        lambda h: h.__setitem__("finished", 1),
        lambda h: h.__setitem__("sections", [["keys", 10**9]]),
        lambda h: h.pop("global_max"),
        lambda h: h["config"].pop("seed"),
    ],
)
def test_invalid_state_values_are_refused(change):
    with pytest.raises(CheckpointError):
        Windower.restore(_rewrite(_blob(), change))


def test_a_consistent_header_change_restores():
    # The checksum is not a signature: a deliberately rewritten, valid header is honoured.
    blob = _rewrite(_blob(), lambda h: h["config"].__setitem__("lag_ns", 1_000_000_000))
    assert Windower.restore(blob).config.policy.lag == pd.Timedelta("1s")


def test_restore_with_another_aggregation_is_an_error():
    blob = _blob(agg="ohlcv")
    with pytest.raises(CheckpointError, match="not the aggregation"):
        Windower.restore(blob, agg={"high": ("price", "max")})
    assert Windower.restore(blob, agg="ohlcv").config.plan.names[0] == "open"
    spread = {"spread": ("price", lambda s: s.max() - s.min())}
    blob = _blob(agg=spread)
    with pytest.raises(CheckpointError, match="not the aggregation"):
        Windower.restore(blob, agg={"range": ("price", lambda s: s.max() - s.min())})
    assert Windower.restore(blob, agg=spread).config.plan.names == ("spread",)
