"""The engine against the row-by-row oracle of SPEC.md, on random inputs."""

from __future__ import annotations

from hypothesis import given

from mdwindow import tumbling_windows
from tests.compare import assert_matches_reference
from tests.reference import reference
from tests.strategies import options, tick_frames


@given(ticks=tick_frames(), opts=options())
def test_engine_equals_reference(ticks, opts):
    opts = dict(opts)
    spec = opts.pop("spec")
    expected = reference(ticks, spec, **opts)
    result = tumbling_windows(ticks, spec, **opts)
    assert_matches_reference(result, expected, ticks)
