"""``KeyTable``: stream-wide integer codes for the keys of a live stream.

Each distinct key is numbered once, when first seen; after that a key costs
one dictionary lookup. The engine is then given the first-seen object of
each key rather than the object each item carries (a decoded message brings
a fresh string every time), so it works on a few objects that stay in the
CPU cache.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mdwindow.core.keys import is_missing_key

__all__ = ["KeyTable", "is_missing_key"]

# What pandas infers for a column of str objects.
_STR = pd.Series(["key"]).dtype


class KeyTable:
    """Codes ``0, 1, ...`` for distinct keys in order of first sight; -1 for a missing key.

    Keys are told apart as a dict tells them apart (``1``, ``1.0`` and ``True``
    are one key, with the code of whichever came first); the engine then
    refuses a push whose keys are of several types.

    Examples
    --------
    >>> table = KeyTable()
    >>> table.codes(["MSFT", "AAPL", None, "MSFT"]).tolist()
    [0, 1, -1, 0]
    >>> table.objects(np.array([1, -1, 0])).tolist()
    ['AAPL', None, 'MSFT']
    """

    def __init__(self) -> None:
        self._code: dict[Any, int] = {}
        self._objects: list[Any] = []
        # The first-seen objects, grown by doubling; the last slot stays None so
        # that code -1 takes it.
        self._lookup = np.full(9, None, dtype=object)
        # While every key is a str: the keys as one Arrow array, for building
        # the engine's key column without pandas inferring it from objects.
        self._all_str = True
        self._arrow: Any = None

    def __len__(self) -> int:
        return len(self._objects)

    def codes(self, keys: list[Any]) -> np.ndarray:
        """The code of each key (int64), numbering keys never seen before."""
        found = list(map(self._code.get, keys))
        try:
            return np.array(found, dtype=np.int64)
        except TypeError:
            pass  # a None: a new or a missing key
        known = self._code
        for position, code in enumerate(found):
            if code is None:
                key = keys[position]
                code = known.get(key)
                found[position] = self._add(key) if code is None else code
        return np.array(found, dtype=np.int64)

    def codes_of_distinct(self, keys: Any) -> np.ndarray:
        """Codes of keys known to be distinct (such as ``pd.factorize`` uniques)."""
        return self.codes(list(keys))

    def key(self, code: int) -> Any:
        """The first-seen object of the key with this code (None for -1)."""
        return self._objects[code] if code >= 0 else None

    def objects(self, codes: np.ndarray) -> np.ndarray:
        """The first-seen object of each code, as an object array (None for -1)."""
        return self._lookup[codes]

    def column(self, codes: np.ndarray) -> Any:
        """The engine's key column for these codes: what pandas makes of their objects.

        When every key is a str this is pandas' Arrow-backed ``str`` array,
        taken straight from an Arrow array of the keys (pandas would otherwise
        read every object to find that out); else the object array.
        """
        if not self._all_str or not len(self._objects):
            return self.objects(codes)
        try:
            import pyarrow as pa
        except ImportError:  # pragma: no cover - pyarrow comes with pandas 3
            return self.objects(codes)
        arrow = self._arrow
        if arrow is None or len(arrow) < len(self._objects):
            fresh = pa.array(
                self._objects[0 if arrow is None else len(arrow) :], pa.large_string()
            )
            arrow = self._arrow = fresh if arrow is None else pa.concat_arrays([arrow, fresh])
        missing = codes < 0
        indices = pa.array(codes, mask=missing) if missing.any() else pa.array(codes)
        # The array's own constructor: pd.array would check every value again.
        return pd.arrays.ArrowStringArray(pa.chunked_array([arrow.take(indices)]), dtype=_STR)

    def object_list(self, codes: np.ndarray) -> list[Any]:
        """The first-seen object of each code, as a list (None for -1)."""
        return self._lookup[codes].tolist()

    def _add(self, key: Any) -> int:
        if is_missing_key(key):
            if key is None or key is pd.NA or key is pd.NaT:
                # Singletons: remembered; other NaNs are distinct objects, checked each time.
                self._code[key] = -1
            return -1
        code = self._code[key] = len(self._objects)
        if type(key) is not str:
            self._all_str = False
        self._objects.append(key)
        if code + 1 >= len(self._lookup):
            lookup = np.full(2 * len(self._lookup) - 1, None, dtype=object)
            lookup[:code] = self._lookup[:code]
            self._lookup = lookup
        self._lookup[code] = key
        return code
