"""Tests for mdwindow.hashing (SPEC section 8, hash partitioning)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import mmh3
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mdwindow.hashing import (
    HASHES,
    hash_partition,
    key_bytes,
    murmur2,
    partition_balance,
    partition_ids,
    partition_ids_for_uniques,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# SPEC section 8: murmur3, seed 0, 2 partitions.
SPEC_TWO_PARTITIONS = [
    ("AAPL", 1),
    ("MSFT", 0),
    ("NVDA", 1),
]

# Published by the Kafka project: UtilsTest.testMurmur2 in
# apache/kafka clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java
# (read at commit f55581dc73953c3509a4702433aeeeddc2970779).
KAFKA_UTILS_TEST_MURMUR2 = [
    (b"21", -973932308),
    (b"foobar", -790332482),
    (b"a-little-bit-long-string", -985981536),
    (b"a-little-bit-longer-string", -1486304829),
    (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
    (b"abc", 479470107),
]

# The Kafka vectors never end on a 1-byte tail. These do (lengths 1 to 5);
# Akka's Murmur2Spec (akka-cluster-sharding-typed, "expected correct hash
# values from the kafka murmur2 impl") took them from Kafka's Utils.murmur2.
AKKA_KAFKA_MURMUR2 = [
    (b"1", -1993445489),
    (b"12", 126087238),
    (b"123", -267702483),
    (b"1234", -1614185708),
    (b"12345", -1188365604),
]

# Kafka partition = toPositive(murmur2) % 12, i.e. (h & 0x7fffffff) % 12.
# abs(h) % 12 would give 8, 2, 2 for the three negative hashes instead.
KAFKA_TWELVE_PARTITIONS = [
    ("21", 0),
    ("foobar", 6),
    ("abc", 3),
    ("AAPL", 9),
    ("MSFT", 6),
    ("NVDA", 5),
]


def ticks_frame() -> pd.DataFrame:
    """Ticks with a non-unique, unsorted index and several dtypes."""
    return pd.DataFrame(
        {
            "symbol": ["NVDA", "AAPL", "MSFT", "AAPL", "TSLA", "MSFT", "AMZN", "NVDA"],
            "price": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
            "size": np.array([10, 20, 30, 40, 50, 60, 70, 80], dtype=np.int32),
            "time": pd.date_range("2024-01-02 09:30", periods=8, freq="s", tz="UTC"),
        },
        index=[7, 3, 3, 9, 0, 7, 1, 2],
    )


# --- hash values -----------------------------------------------------------


def test_hashes_lists_the_choices() -> None:
    assert HASHES == ("murmur3", "kafka")


@pytest.mark.parametrize(("symbol", "expected"), SPEC_TWO_PARTITIONS)
def test_spec_vectors_murmur3_two_partitions(symbol: str, expected: int) -> None:
    assert partition_ids([symbol], 2).tolist() == [expected]
    assert partition_ids_for_uniques([symbol], 2).tolist() == [expected]


def test_spec_vectors_in_one_call() -> None:
    symbols = [symbol for symbol, _ in SPEC_TWO_PARTITIONS]
    expected = [partition for _, partition in SPEC_TWO_PARTITIONS]
    assert partition_ids(pd.Series(symbols), 2).tolist() == expected


@pytest.mark.parametrize(("data", "expected"), KAFKA_UTILS_TEST_MURMUR2)
def test_murmur2_matches_kafka_published_vectors(data: bytes, expected: int) -> None:
    assert murmur2(data) == expected


@pytest.mark.parametrize(("data", "expected"), AKKA_KAFKA_MURMUR2)
def test_murmur2_matches_kafka_on_every_tail_length(data: bytes, expected: int) -> None:
    assert murmur2(data) == expected


def test_murmur2_is_a_java_int() -> None:
    hashes = [murmur2(bytes([value]) * length) for value in range(256) for length in range(9)]
    assert all(-(2**31) <= h < 2**31 for h in hashes)
    assert any(h < 0 for h in hashes)


def test_murmur2_accepts_bytes_like() -> None:
    assert murmur2(bytearray(b"foobar")) == -790332482
    assert murmur2(memoryview(b"foobar")) == -790332482


@pytest.mark.parametrize("data", ["foobar", 21, None])
def test_murmur2_rejects_non_bytes(data: object) -> None:
    with pytest.raises(TypeError, match="data must be bytes"):
        murmur2(data)  # type: ignore[arg-type]


@pytest.mark.parametrize(("symbol", "expected"), KAFKA_TWELVE_PARTITIONS)
def test_kafka_partition_is_to_positive_mod_p(symbol: str, expected: int) -> None:
    assert partition_ids([symbol], 12, hash="kafka").tolist() == [expected]
    assert partition_ids_for_uniques([symbol], 12, hash="kafka").tolist() == [expected]


def test_kafka_seed_zero_is_accepted() -> None:
    assert partition_ids(["21"], 12, hash="kafka", seed=0).tolist() == [0]


def test_murmur3_seed_is_passed_to_mmh3() -> None:
    keys = [f"SYM{i}" for i in range(200)]
    expected = [mmh3.hash(key.encode(), 7, signed=False) % 16 for key in keys]
    assert partition_ids(keys, 16, seed=7).tolist() == expected
    assert partition_ids(keys, 16, seed=7).tolist() != partition_ids(keys, 16).tolist()


# --- key bytes -------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("AAPL", b"AAPL"),
        ("Ä€", "Ä€".encode()),
        ("", b""),
        (42, b"42"),
        (np.int64(42), b"42"),
        (1.5, b"1.5"),
        (b"\x00\xffraw", b"\x00\xffraw"),
        (bytearray(b"raw"), b"raw"),
        (np.bytes_(b"raw"), b"raw"),
    ],
)
def test_key_bytes(key: object, expected: bytes) -> None:
    assert key_bytes(key) == expected


def test_int_keys_hash_as_their_str() -> None:
    ints = [1, 22, 333, -4, 10**12]
    strings = [str(value) for value in ints]
    expected = partition_ids(strings, 13).tolist()
    assert partition_ids(ints, 13).tolist() == expected
    assert partition_ids(np.array(ints, dtype=np.int64), 13).tolist() == expected
    assert partition_ids(pd.Series(ints), 13).tolist() == expected
    assert partition_ids(pd.Series(ints, dtype="Int64"), 13).tolist() == expected
    assert partition_ids(ints, 13, hash="kafka").tolist() == (
        partition_ids(strings, 13, hash="kafka").tolist()
    )


def test_bytes_keys_hash_as_they_are() -> None:
    keys = [b"AAPL", b"\xff\x00", b""]
    expected = [mmh3.hash(key, 0, signed=False) % 5 for key in keys]
    assert partition_ids(keys, 5).tolist() == expected
    assert partition_ids(np.array(keys, dtype=object), 5).tolist() == expected
    # UTF-8 of "AAPL" is b"AAPL", so both spellings share a partition.
    assert partition_ids([b"AAPL"], 5).tolist() == partition_ids(["AAPL"], 5).tolist()


# --- partition_ids ---------------------------------------------------------


def test_missing_keys_get_minus_one() -> None:
    keys = ["AAPL", None, "MSFT", float("nan"), pd.NA, "AAPL"]
    ids = partition_ids(keys, 2)
    assert ids.tolist() == [1, -1, 0, -1, -1, 1]
    assert partition_ids(pd.Series(keys, dtype="str"), 2).tolist() == [1, -1, 0, -1, -1, 1]
    categorical = pd.Series(pd.Categorical(["AAPL", None, "MSFT"]))
    assert partition_ids(categorical, 2).tolist() == [1, -1, 0]
    assert partition_ids([None, None], 3, hash="kafka").tolist() == [-1, -1]


@pytest.mark.parametrize(
    "make_keys",
    [
        list,
        lambda keys: np.array(keys, dtype=object),
        lambda keys: np.array(keys),
        lambda keys: pd.Series(keys, dtype=object),
        lambda keys: pd.Series(keys, dtype="str"),
        lambda keys: pd.Series(keys, dtype="category"),
        lambda keys: pd.Index(keys),
        lambda keys: pd.CategoricalIndex(keys),
        pd.Categorical,
        lambda keys: pd.array(keys, dtype="string"),
    ],
    ids=[
        "list",
        "object-ndarray",
        "unicode-ndarray",
        "object-series",
        "str-series",
        "category-series",
        "index",
        "categorical-index",
        "categorical",
        "string-array",
    ],
)
@pytest.mark.parametrize("hash", HASHES)
def test_every_container_gives_the_same_ids(make_keys, hash: str) -> None:
    keys = ["NVDA", "AAPL", "MSFT", "AAPL", "TSLA", "NVDA", "AMZN"]
    expected = partition_ids_for_uniques(keys, 5, hash=hash)
    ids = partition_ids(make_keys(keys), 5, hash=hash)
    assert ids.dtype == np.int64
    assert ids.tolist() == expected.tolist()


def test_categorical_with_unused_categories() -> None:
    keys = pd.Categorical(["MSFT", "AAPL"], categories=["ZZZZ", "AAPL", "MSFT", "QQQQ"])
    assert partition_ids(keys, 2).tolist() == [0, 1]


def test_empty_keys() -> None:
    ids = partition_ids([], 4)
    assert ids.dtype == np.int64
    assert ids.shape == (0,)
    assert partition_ids(pd.Series([], dtype="str"), 4).shape == (0,)


def test_numpy_integer_partitions_are_accepted() -> None:
    assert partition_ids(["AAPL"], np.int64(2)).tolist() == [1]


def test_partition_ids_for_uniques_takes_any_iterable() -> None:
    assert partition_ids_for_uniques(iter(["AAPL", "MSFT"]), 2).tolist() == [1, 0]
    assert partition_ids_for_uniques(pd.Index(["AAPL", "MSFT"]), 2).tolist() == [1, 0]
    assert partition_ids_for_uniques([], 2).dtype == np.int64


def test_partition_ids_for_uniques_refuses_missing() -> None:
    with pytest.raises(ValueError, match="uniques must not contain missing keys; got 2"):
        partition_ids_for_uniques(["AAPL", None, float("nan")], 4)


@pytest.mark.parametrize("keys", ["AAPL", b"AAPL"])
def test_a_single_key_is_not_a_key_array(keys: object) -> None:
    with pytest.raises(TypeError, match="keys must be .*Wrap it in a list"):
        partition_ids(keys, 4)
    with pytest.raises(TypeError, match="uniques must be an array.*Wrap it in a list"):
        partition_ids_for_uniques(keys, 4)


def test_a_frame_is_not_a_key_column() -> None:
    with pytest.raises(TypeError, match=r"keys must be one column.*ticks\[column\]"):
        partition_ids(ticks_frame(), 4)


_CHILD = """
import json, sys
from mdwindow.hashing import partition_ids
keys = json.loads(sys.stdin.read())
print(json.dumps({
    hash: partition_ids(keys, 97, hash=hash).tolist() for hash in ("murmur3", "kafka")
}))
"""


@pytest.mark.parametrize("python_hash_seed", ["0", "1", "4242"])
def test_ids_are_the_same_in_another_process(python_hash_seed: str) -> None:
    keys = [f"SYM{i:04d}" for i in range(3000)] + ["Ä€", "", "AAPL"]
    env = dict(os.environ, PYTHONHASHSEED=python_hash_seed)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(PROJECT_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    child = subprocess.run(
        [sys.executable, "-c", _CHILD],
        input=json.dumps(keys),
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    from_child = json.loads(child.stdout)
    for hash in HASHES:
        assert from_child[hash] == partition_ids(keys, 97, hash=hash).tolist()


# --- hash_partition ----------------------------------------------------------


@pytest.mark.parametrize("partitions", [1, 2, 3, 16])
@pytest.mark.parametrize("hash", HASHES)
def test_hash_partition_keeps_every_row_once_in_order(partitions: int, hash: str) -> None:
    ticks = ticks_frame()
    parts = hash_partition(ticks, partitions=partitions, hash=hash)
    ids = partition_ids(ticks["symbol"], partitions, hash=hash)
    assert len(parts) == partitions
    for partition, part in enumerate(parts):
        pd.testing.assert_frame_equal(part, ticks[ids == partition])
    stacked = pd.concat(parts)
    assert len(stacked) == len(ticks)
    positions = np.concatenate([np.flatnonzero(ids == p) for p in range(partitions)])
    assert sorted(positions.tolist()) == list(range(len(ticks)))


def test_hash_partition_literal_two_partitions() -> None:
    # murmur3, 2 partitions: MSFT and TSLA -> 0; AAPL, AMZN and NVDA -> 1.
    left, right = hash_partition(ticks_frame(), partitions=2)
    assert list(zip(left.index, left["symbol"], left["price"], strict=True)) == [
        (3, "MSFT", 3.0),
        (0, "TSLA", 5.0),
        (7, "MSFT", 6.0),
    ]
    assert list(zip(right.index, right["symbol"], right["price"], strict=True)) == [
        (7, "NVDA", 1.0),
        (3, "AAPL", 2.0),
        (9, "AAPL", 4.0),
        (1, "AMZN", 7.0),
        (2, "NVDA", 8.0),
    ]


def test_hash_partition_empty_partitions_keep_columns_and_dtypes() -> None:
    ticks = ticks_frame()
    parts = hash_partition(ticks, partitions=64)
    assert len(parts) == 64
    empty = [part for part in parts if part.empty]
    assert len(empty) >= 64 - ticks["symbol"].nunique()
    for part in parts:
        assert part.columns.tolist() == ticks.columns.tolist()
        pd.testing.assert_series_equal(part.dtypes, ticks.dtypes)


def test_hash_partition_of_an_empty_frame() -> None:
    ticks = ticks_frame().iloc[:0]
    parts = hash_partition(ticks, partitions=3)
    assert len(parts) == 3
    for part in parts:
        pd.testing.assert_frame_equal(part, ticks)


def test_hash_partition_other_key_column_and_categorical() -> None:
    ticks = ticks_frame().rename(columns={"symbol": "ticker"})
    ticks["ticker"] = ticks["ticker"].astype("category")
    parts = hash_partition(ticks, key="ticker", partitions=4, hash="kafka")
    ids = partition_ids(ticks["ticker"].astype(object), 4, hash="kafka")
    for partition, part in enumerate(parts):
        pd.testing.assert_frame_equal(part, ticks[ids == partition])


def test_hash_partition_does_not_modify_its_input() -> None:
    ticks = ticks_frame()
    hash_partition(ticks, partitions=3)
    pd.testing.assert_frame_equal(ticks, ticks_frame())


def test_hash_partition_refuses_missing_keys() -> None:
    ticks = ticks_frame()
    # Label 3 is on two rows, so three rows lose their key.
    ticks.loc[ticks.index[[1, 4]], "symbol"] = None
    with pytest.raises(ValueError, match=r"3 of 8 rows have a missing key in column 'symbol'"):
        hash_partition(ticks, partitions=2)


def test_hash_partition_refuses_missing_keys_and_says_what_to_do() -> None:
    ticks = pd.DataFrame({"symbol": ["AAPL", None, "MSFT"]})
    with pytest.raises(ValueError, match=r"1 of 3 rows.*dropna.*fillna"):
        hash_partition(ticks, partitions=2)


def test_hash_partition_missing_column() -> None:
    with pytest.raises(KeyError, match=r"'ticker'.*'symbol', 'price', 'size', 'time'"):
        hash_partition(ticks_frame(), key="ticker")


def test_hash_partition_duplicate_key_column() -> None:
    ticks = pd.DataFrame([["AAPL", "MSFT"]], columns=["symbol", "symbol"])
    with pytest.raises(ValueError, match="'symbol' appears 2 times"):
        hash_partition(ticks)


def test_hash_partition_needs_a_frame() -> None:
    with pytest.raises(TypeError, match="ticks must be a DataFrame; got Series"):
        hash_partition(ticks_frame()["symbol"])  # type: ignore[arg-type]


# --- partition_balance -------------------------------------------------------


def test_partition_balance_literal() -> None:
    ticks = pd.DataFrame({"symbol": ["AAPL", "MSFT", "NVDA", "MSFT", "AAPL", None]})
    balance = partition_balance(ticks, partitions=2)
    expected = pd.DataFrame(
        {
            "partition": np.array([0, 1], dtype=np.int64),
            "rows": np.array([2, 3], dtype=np.int64),
            "keys": np.array([1, 2], dtype=np.int64),
            "share": [0.4, 0.6],
        }
    )
    pd.testing.assert_frame_equal(balance, expected)
    assert isinstance(balance.index, pd.RangeIndex)
    assert balance.attrs["max_mean_ratio"] == pytest.approx(3 / 2.5)
    assert balance.attrs["missing_keys"] == 1


@pytest.mark.parametrize("partitions", [1, 3, 8, 50])
@pytest.mark.parametrize("hash", HASHES)
def test_partition_balance_sums(partitions: int, hash: str) -> None:
    ticks = ticks_frame()
    balance = partition_balance(ticks, partitions=partitions, hash=hash)
    assert balance["partition"].tolist() == list(range(partitions))
    assert balance["rows"].sum() == len(ticks)
    assert balance["keys"].sum() == ticks["symbol"].nunique()
    assert balance["share"].sum() == pytest.approx(1.0)
    assert balance.dtypes.to_dict() == {
        "partition": np.dtype("int64"),
        "rows": np.dtype("int64"),
        "keys": np.dtype("int64"),
        "share": np.dtype("float64"),
    }
    parts = hash_partition(ticks, partitions=partitions, hash=hash)
    assert balance["rows"].tolist() == [len(part) for part in parts]
    assert balance["keys"].tolist() == [part["symbol"].nunique() for part in parts]
    rows = balance["rows"]
    assert balance.attrs["max_mean_ratio"] == pytest.approx(rows.max() / rows.mean())
    assert balance.attrs["missing_keys"] == 0


def test_partition_balance_of_an_empty_frame() -> None:
    balance = partition_balance(ticks_frame().iloc[:0], partitions=4)
    assert balance["rows"].tolist() == [0, 0, 0, 0]
    assert balance["keys"].tolist() == [0, 0, 0, 0]
    assert balance["share"].tolist() == [0.0, 0.0, 0.0, 0.0]
    assert balance["share"].dtype == np.float64
    assert np.isnan(balance.attrs["max_mean_ratio"])
    assert balance.attrs["missing_keys"] == 0


def test_partition_balance_all_keys_missing() -> None:
    balance = partition_balance(pd.DataFrame({"symbol": [None, None]}), partitions=2)
    assert balance["rows"].tolist() == [0, 0]
    assert balance["share"].tolist() == [0.0, 0.0]
    assert np.isnan(balance.attrs["max_mean_ratio"])
    assert balance.attrs["missing_keys"] == 2


def test_partition_balance_ignores_unused_categories() -> None:
    symbols = pd.Categorical(["AAPL", "AAPL"], categories=["AAPL", "MSFT", "NVDA", "TSLA"])
    balance = partition_balance(pd.DataFrame({"symbol": symbols}), partitions=2)
    assert balance["keys"].tolist() == [0, 1]
    assert balance["rows"].tolist() == [0, 2]


def test_partition_balance_missing_column() -> None:
    with pytest.raises(KeyError, match=r"partition_balance: key column 'ticker'.*'symbol'"):
        partition_balance(ticks_frame(), key="ticker")


# --- bad arguments ---------------------------------------------------------


def _call(function: str, **kwargs: object) -> object:
    ticks = ticks_frame()
    calls = {
        "partition_ids": lambda: partition_ids(ticks["symbol"], **kwargs),
        "partition_ids_for_uniques": lambda: partition_ids_for_uniques(["AAPL"], **kwargs),
        "hash_partition": lambda: hash_partition(ticks, **kwargs),
        "partition_balance": lambda: partition_balance(ticks, **kwargs),
    }
    return calls[function]()


FUNCTIONS = ["partition_ids", "partition_ids_for_uniques", "hash_partition", "partition_balance"]


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize(
    ("partitions", "error", "shown"),
    [
        (0, ValueError, "got 0"),
        (-3, ValueError, "got -3"),
        (2.0, TypeError, "got float 2.0"),
        ("8", TypeError, "got str '8'"),
        (True, TypeError, "got bool True"),
        (None, TypeError, "got NoneType None"),
    ],
)
def test_bad_partitions(function: str, partitions: object, error: type, shown: str) -> None:
    with pytest.raises(error, match="partitions must be an int >= 1") as raised:
        _call(function, partitions=partitions)
    assert shown in str(raised.value)
    assert "e.g. partitions=8" in str(raised.value)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_unknown_hash(function: str) -> None:
    with pytest.raises(ValueError, match="hash must be one of 'murmur3', 'kafka'; got 'md5'"):
        _call(function, partitions=2, hash="md5")


@pytest.mark.parametrize("function", FUNCTIONS)
def test_kafka_refuses_a_seed(function: str) -> None:
    with pytest.raises(ValueError, match=r"seed must be 0.*hash='kafka'; got 5.*fixed seed"):
        _call(function, partitions=2, hash="kafka", seed=5)


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize(
    ("seed", "error", "shown"),
    [
        (-1, ValueError, "got -1"),
        (2**32, ValueError, f"got {2**32}"),
        (1.5, TypeError, "got float 1.5"),
        (True, TypeError, "got bool True"),
    ],
)
def test_bad_seed(function: str, seed: object, error: type, shown: str) -> None:
    with pytest.raises(error, match=r"seed must be an int in \[0, 2\*\*32\)") as raised:
        _call(function, partitions=2, seed=seed)
    assert shown in str(raised.value)


def test_largest_seed_is_accepted() -> None:
    expected = mmh3.hash(b"AAPL", 2**32 - 1, signed=False) % 3
    assert partition_ids(["AAPL"], 3, seed=2**32 - 1).tolist() == [expected]


# --- properties --------------------------------------------------------------

keys_strategy = st.lists(st.text(max_size=12), max_size=60)


@settings(max_examples=200, deadline=None)
@given(keys=keys_strategy, partitions=st.integers(1, 64), seed=st.integers(0, 2**32 - 1))
def test_murmur3_ids_equal_a_per_row_loop(keys: list[str], partitions: int, seed: int) -> None:
    expected = [mmh3.hash(key.encode("utf-8"), seed, signed=False) % partitions for key in keys]
    ids = partition_ids(keys, partitions, seed=seed)
    assert ids.dtype == np.int64
    assert ids.tolist() == expected
    assert ((ids >= 0) & (ids < partitions)).all()


@settings(max_examples=200, deadline=None)
@given(keys=keys_strategy, partitions=st.integers(1, 64))
def test_kafka_ids_equal_a_per_row_loop(keys: list[str], partitions: int) -> None:
    expected = [(murmur2(key.encode("utf-8")) & 0x7FFFFFFF) % partitions for key in keys]
    ids = partition_ids(pd.Series(keys, dtype=object), partitions, hash="kafka")
    assert ids.tolist() == expected
    assert ((ids >= 0) & (ids < partitions)).all()


@settings(max_examples=100, deadline=None)
@given(
    symbols=st.lists(st.sampled_from(["AAPL", "MSFT", "NVDA", "TSLA", "AMZN", "META"])),
    partitions=st.integers(1, 10),
)
def test_hash_partition_is_a_partition_of_the_rows(symbols: list[str], partitions: int) -> None:
    ticks = pd.DataFrame(
        {"symbol": symbols, "price": np.arange(len(symbols), dtype=float)},
        index=np.arange(len(symbols))[::-1] % 3,
    )
    parts = hash_partition(ticks, partitions=partitions)
    assert len(parts) == partitions
    prices = np.sort(np.concatenate([part["price"].to_numpy() for part in parts]))
    assert prices.tolist() == ticks["price"].tolist()
    for part in parts:
        assert part["price"].is_monotonic_increasing
    balance = partition_balance(ticks, partitions=partitions)
    assert balance["rows"].tolist() == [len(part) for part in parts]
