"""``mdwindow recommend``: the lag and allowed lateness to pick for a tick file."""

from __future__ import annotations

import argparse
import inspect
import shlex
from pathlib import Path
from typing import Any

from mdwindow.cli.arguments import (
    FLAGS,
    CliError,
    add_window_options,
    duration,
    one_line,
    required_columns,
    time_columns,
    window_keywords,
    window_options,
)
from mdwindow.cli.files import check_input, read_whole, require
from mdwindow.core.specs import SCOPES
from mdwindow.plotting.style import duration_text
from mdwindow.recommend import OBJECTIVES, Recommendation, recommend
from mdwindow.recommend.result import latency_text

__all__ = ["NOT_TAKEN", "add_command", "share", "window_command"]

_DEFAULTS = inspect.signature(recommend).parameters
#: Window options that ``recommend`` does not take, and why.
NOT_TAKEN = {
    "lag": "recommend chooses the lag; give candidates with --lags",
    "allowed_lateness": "recommend chooses the lateness; give candidates with --latenesses",
    "agg": "recommend counts rows and windows, it aggregates nothing",
    "emit": "recommend measures the latency of final emission (emit 'final')",
    "price": "recommend aggregates nothing",
    "size": "recommend aggregates nothing",
}
#: Errors of ``recommend`` itself, by the argument they name, and its flag.
_OWN_FLAGS = {
    "max_drop_rate": "--max-drop-rate",
    "objective": "--objective",
    "lags": "--lags",
    "latenesses": "--latenesses",
}


def share(text: str) -> float:
    """argparse type: a share such as ``0.001`` or ``0.1%``.

    Examples
    --------
    >>> share("0.1%"), share("1e-3")
    (0.001, 0.001)
    """
    try:
        if text.endswith("%"):
            return float(text[:-1]) / 100
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"cannot read {text!r} as a share; give e.g. 0.001 or 0.1%"
        ) from None


def add_command(commands: Any) -> None:
    """Register ``recommend`` with the subcommands of the ``mdwindow`` parser."""
    parser = commands.add_parser(
        "recommend",
        help="recommend a lag and allowed lateness for a tick file",
        description=(
            "Judge a grid of lags and allowed latenesses over a Parquet or CSV tick file in "
            "one pass and print the pair with the smallest emission latency whose drop rate "
            "meets the target, what it costs, and the keys that force it. The window options "
            "are those of 'window' but for --lag, --lateness, --agg, --emit, --price-column "
            "and --size-column, which do not apply, and --scope, which defaults to "
            f"{_DEFAULTS['scope'].default!r} here."
        ),
        conflict_handler="resolve",
    )
    add_window_options(parser)
    # The same flags again, replacing those of the window options: the ones that do
    # not apply are hidden (and refused when given), the scope says its default here.
    for option in NOT_TAKEN:
        parser.add_argument(FLAGS[option], help=argparse.SUPPRESS)
    parser.add_argument(
        "--scope",
        choices=SCOPES,
        help="one watermark for all rows, per key, or per hash partition "
        f"(default {_DEFAULTS['scope'].default})",
    )
    parser.add_argument(
        "--max-drop-rate",
        type=share,
        help="the target: the largest share of valid rows that may be dropped, e.g. 0.001 or "
        f"0.1%% (default {_DEFAULTS['max_drop_rate'].default:g})",
    )
    parser.add_argument(
        "--objective",
        choices=OBJECTIVES,
        help="what the target bounds: dropped rows ('latency') or incomplete windows "
        f"('completeness') (default {_DEFAULTS['objective'].default})",
    )
    parser.add_argument(
        "--lags",
        type=duration,
        nargs="+",
        metavar="LAG",
        help="candidate lags (default: from the data)",
    )
    parser.add_argument(
        "--latenesses",
        type=duration,
        nargs="+",
        metavar="LATENESS",
        help="candidate allowed latenesses (default: from the data)",
    )
    parser.add_argument(
        "--frontier", action="store_true", help="also print the grid's Pareto frontier"
    )
    parser.add_argument("--plot", type=Path, help="save the frontier figure as this PNG")
    parser.set_defaults(func=_cmd_recommend)


def window_command(args: argparse.Namespace, keywords: dict[str, Any], rec: Recommendation) -> str:
    """The ``mdwindow window`` command line that windows the input with the recommendation."""
    words = ["mdwindow", "window", str(args.input)]
    chosen = {
        **keywords,
        "lag": duration_text(rec.lag),
        "allowed_lateness": duration_text(rec.allowed_lateness),
    }
    for option, flag in FLAGS.items():
        value = chosen.get(option)
        if value is True:
            words.append(flag)
        elif value is not None and value is not False:
            words += [flag, str(value)]
    return shlex.join([*words, "--out", "windows.parquet"])


def _frontier_table(rec: Recommendation) -> str:
    frontier = rec.grid[rec.grid["frontier"]].copy()
    frontier["wait"] = frontier["lag"] + frontier["lateness"]
    frontier = frontier.sort_values(["latency_median", "wait", "lateness"])
    table = frontier[["lag", "lateness", "drop_rate", "window_loss", "latency_median",
                      "latency_p99", "meets_target", "recommended"]]  # fmt: skip
    return table.to_string(
        index=False,
        formatters={
            "lag": duration_text,
            "lateness": duration_text,
            "drop_rate": "{:.4%}".format,
            "window_loss": "{:.4%}".format,
            "latency_median": latency_text,
            "latency_p99": latency_text,
            "recommended": lambda v: "<--" if v else "",
        },
    )


def _cmd_recommend(args: argparse.Namespace) -> int:
    fmt = check_input(args.input)
    keywords = window_keywords(args)
    for option, why in NOT_TAKEN.items():
        if option in keywords:
            raise CliError(f"{FLAGS[option]}: does not apply here; {why}")
    keywords.setdefault("scope", _DEFAULTS["scope"].default)
    cfg = window_options(keywords)
    require(args.input, fmt, required_columns(cfg, keywords))
    ticks = read_whole(args.input, fmt, time_columns(cfg))
    options = {k: v for k, v in keywords.items() if k not in ("spec", "offset", "emit_partial")}
    own = {name: getattr(args, name) for name in _OWN_FLAGS if getattr(args, name) is not None}
    try:
        rec = recommend(ticks, cfg.spec, **own, **options)
    except (TypeError, ValueError) as exc:
        text = one_line(exc)
        name, colon, rest = text.partition(": ")
        flag = _OWN_FLAGS.get(name)
        raise CliError(f"{flag}: {rest}" if colon and flag else text) from None
    print(f"{len(ticks):,} rows of {str(args.input)!r}")
    print(rec)
    if args.frontier:
        print("\nPareto frontier (no other point has both a smaller latency and a smaller loss):")
        print(_frontier_table(rec))
    print(f"\nto window with it:\n  {window_command(args, keywords, rec)}")
    if args.plot is not None:
        from matplotlib.figure import Figure

        figure = Figure(figsize=(7, 4.5), layout="constrained")
        rec.plot(ax=figure.add_subplot())
        figure.savefig(args.plot, dpi=120)
        print(f"wrote {args.plot}")
    return 0
