"""What the subcommands share: one-line errors, duration arguments, the window options.

The window options of ``window``, ``report`` and ``demo`` are mapped to the
keywords of :meth:`mdwindow.core.options.WindowOptions.build` by one
function, :func:`window_keywords`; their flags have no defaults of their own
(argparse leaves them None), so the options record decides every default
and every check, and its errors are shown with the flag that set the option.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, NoReturn

from mdwindow.core.hashing import HASHES
from mdwindow.core.options import EMITS, OPTION_DEFAULTS, TIME_UNITS, WindowOptions
from mdwindow.core.specs import SCOPES
from mdwindow.core.times import to_nanos
from mdwindow.plotting.style import duration_text

__all__ = [
    "AGGREGATES",
    "FLAGS",
    "CliError",
    "Parser",
    "add_window_options",
    "duration",
    "one_line",
    "positive_int",
    "required_columns",
    "time_columns",
    "window_keywords",
    "window_options",
]

#: Each window option of ``WindowOptions.build`` and the flag that sets it.
FLAGS: dict[str, str] = {
    "spec": "--size",
    "offset": "--offset",
    "emit_partial": "--emit-partial",
    "lag": "--lag",
    "allowed_lateness": "--lateness",
    "scope": "--scope",
    "idle_timeout": "--idle-timeout",
    "time": "--time",
    "key": "--key",
    "agg": "--agg",
    "emit": "--emit",
    "arrival_time": "--arrival-time",
    "time_unit": "--time-unit",
    "partitions": "--partitions",
    "hash": "--hash",
    "seed": "--seed",
    "price": "--price-column",
    "size": "--size-column",
}
#: ``--agg`` choices and the ``agg=`` each stands for.
AGGREGATES: dict[str, str | None] = {"count": None, "ohlcv": "ohlcv"}
#: An option named at the start of an error of the options record, and its flag.
#: "size" there is the window size: the size column, always text here, is never refused.
_ERROR_FLAGS = {**FLAGS, "size": "--size"}
_FORMS = "use a number with a unit, e.g. '5s', '250ms', '1min'"


class CliError(Exception):
    """A problem to report in one line, without a traceback."""


class Parser(argparse.ArgumentParser):
    """argparse, but errors become :class:`CliError` (one line, status 2)."""

    def error(self, message: str) -> NoReturn:
        raise CliError(f"{message} (see '{self.prog} --help')")


def one_line(exc: BaseException) -> str:
    """The message of an exception on one line."""
    # KeyError's str() adds quotes around the message; take the message itself.
    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    return " ".join(text.split()) or type(exc).__name__


# --------------------------------------------------------------------------
# Argument types: text to the value the library takes, nothing more


def duration(text: str) -> str:
    """argparse type: a duration the library accepts, as given (``to_nanos`` decides).

    A bare number has no unit and is refused, as in Python (zero aside).

    Examples
    --------
    >>> duration("250ms")
    '250ms'
    """
    try:
        to_nanos(text, "duration")
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"cannot read {text!r} as a duration; {_FORMS}") from None
    return text


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1 (of an option the library does not take)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


# --------------------------------------------------------------------------
# The window options


def _default(option: str) -> str:
    """The default of an option as the help shows it."""
    value = OPTION_DEFAULTS[option]
    if option in ("offset", "lag", "allowed_lateness"):
        return duration_text(value)
    if option == "agg":
        return next(name for name, agg in AGGREGATES.items() if agg == value)
    return "none" if value is None else str(value)


def add_window_options(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The input and window options shared by ``window``, ``report`` and ``demo``."""
    parser.add_argument("input", metavar="INPUT", type=Path, help=".parquet, .pq or .csv")
    parser.add_argument("--size", required=True, type=duration, help="window size, e.g. 5s")
    parser.add_argument(
        "--offset", type=duration, help=f"window grid offset (default {_default('offset')})"
    )
    parser.add_argument("--lag", type=duration, help=f"watermark lag (default {_default('lag')})")
    parser.add_argument(
        "--lateness",
        type=duration,
        help=f"allowed lateness (default {_default('allowed_lateness')})",
    )
    parser.add_argument(
        "--scope",
        choices=SCOPES,
        help="one watermark for all rows, per key, or per hash partition "
        f"(default {_default('scope')})",
    )
    parser.add_argument("--key", help=f"key column (default {_default('key')})")
    parser.add_argument("--time", help=f"event-time column (default {_default('time')})")
    parser.add_argument(
        "--time-unit",
        choices=TIME_UNITS,
        help="unit of an integer event-time column (otherwise times are parsed as dates)",
    )
    parser.add_argument("--arrival-time", help="column giving the arrival order, e.g. recv_ts")
    parser.add_argument(
        "--agg",
        choices=tuple(AGGREGATES),
        help=f"aggregates: count only, or OHLCV and vwap (default {_default('agg')})",
    )
    parser.add_argument(
        "--price-column", help=f"price column for --agg ohlcv (default {_default('price')})"
    )
    parser.add_argument(
        "--size-column", help=f"size column for --agg ohlcv (default {_default('size')})"
    )
    parser.add_argument(
        "--emit",
        choices=EMITS,
        help="'final': each window once, when the watermark passes its end + lateness; "
        "'updates': an on-time pane when the watermark passes its end, then one per late row "
        f"(default {_default('emit')})",
    )
    parser.add_argument(
        "--partitions", type=int, help="hash partitions (needed by --scope partition)"
    )
    parser.add_argument("--hash", choices=HASHES, help=f"partitioner (default {_default('hash')})")
    parser.add_argument("--seed", type=int, help=f"murmur3 seed (default {_default('seed')})")
    parser.add_argument(
        "--idle-timeout",
        type=duration,
        help=f"idle keys/partitions timeout (default {_default('idle_timeout')})",
    )
    parser.add_argument(
        "--emit-partial",
        action="store_true",
        default=None,
        help="emit windows still open at the end (timing 'partial') instead of leaving "
        "them pending",
    )
    return parser


def window_keywords(args: argparse.Namespace) -> dict[str, Any]:
    """The window options given on the command line, as keywords of ``WindowOptions.build``.

    Options not given are left out: the options record gives their defaults.
    The same keywords are accepted by ``tumbling_windows``, ``Windower`` and
    ``write_report``.
    """
    keywords = {}
    for option, flag in FLAGS.items():
        value = getattr(args, flag[2:].replace("-", "_"), None)
        if value is not None:
            keywords[option] = AGGREGATES[value] if option == "agg" else value
    return keywords


def window_options(keywords: dict[str, Any]) -> WindowOptions:
    """The options record of :func:`window_keywords`; its errors name the flags."""
    try:
        return WindowOptions.build(**keywords)
    except (TypeError, ValueError) as exc:
        text = one_line(exc)
        name, colon, rest = text.partition(": ")
        flag = _ERROR_FLAGS.get(name)
        raise CliError(f"{flag}: {rest}" if colon and flag else text) from None


def time_columns(cfg: WindowOptions) -> dict[str, str]:
    """Columns to parse as date/times, by the flag that names them."""
    columns = {} if cfg.time_unit is not None else {cfg.time: FLAGS["time"]}
    if cfg.arrival_time is not None:
        columns[cfg.arrival_time] = FLAGS["arrival_time"]
    return columns


def required_columns(cfg: WindowOptions, keywords: dict[str, Any]) -> dict[str, str | None]:
    """Input columns the window options name, by flag (the aggregates' columns included)."""
    wanted: dict[str, str | None] = {
        FLAGS["time"]: cfg.time,
        FLAGS["key"]: cfg.key,
        FLAGS["arrival_time"]: cfg.arrival_time,
    }
    for option in ("price", "size"):
        column = keywords.get(option, OPTION_DEFAULTS[option])
        if column in cfg.plan.columns:
            wanted[FLAGS[option]] = column
    return wanted
