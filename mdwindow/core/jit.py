"""The numba decorators of the engine's compiled passes."""

from __future__ import annotations

from numba import njit

#: For helpers that take arrays and allocate nothing. Compiled with the
#: numba runtime, every call of such a helper from a loop increments and
#: decrements each array's reference count (atomic operations), which costs
#: more than the helper's own work; without the runtime those calls are
#: plain function calls that LLVM can inline.
nrt_free = njit(cache=True, _nrt=False, nogil=True)
#: The same, inlined into the caller by numba (no call, no argument copies).
nrt_free_inline = njit(cache=True, _nrt=False, nogil=True, inline="always")
