"""The worked examples of docs/semantics.md, run as doctests.

An example is a fenced ```python block whose first line is a ``>>>`` prompt;
other code blocks (formulas, shell lines) are text. The examples run in
document order in one namespace, as the cells of a notebook do, so a block may
use names an earlier block defined. Each output must match exactly (``...``
stands for any text), so the page cannot drift from what the code prints.
"""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pandas as pd

DOC = Path(__file__).resolve().parent.parent / "docs" / "semantics.md"
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)

# The page shows frames as pandas prints them outside a terminal; pinning the
# display options keeps the outputs the same whatever terminal runs pytest.
DISPLAY = ("display.width", 80, "display.max_columns", 20, "display.max_rows", 60)


def example_blocks(text: str) -> list[tuple[int, str]]:
    """The example blocks of a markdown text: (line of the block's first line, source)."""
    blocks = []
    for match in FENCE.finditer(text):
        body = match.group(1)
        if body.lstrip().startswith(">>>"):
            blocks.append((text.count("\n", 0, match.start(1)), body))
    return blocks


def test_semantics_examples_print_what_the_page_says():
    text = DOC.read_text(encoding="utf-8")
    blocks = example_blocks(text)
    # A change of fence style must not leave the page unchecked.
    assert len(blocks) >= 20, f"only {len(blocks)} example blocks found in {DOC}"

    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    namespace: dict = {"__name__": "docs_semantics"}
    report: list[str] = []
    examples = 0
    with pd.option_context(*DISPLAY):
        for lineno, body in blocks:
            name = f"{DOC.name}:{lineno + 1}"
            test = parser.get_doctest(body, namespace, name, str(DOC), lineno)
            examples += len(test.examples)
            runner.run(test, out=report.append, clear_globs=False)
            namespace.update(test.globs)  # DocTest copies its globals; carry them on
    failed, attempted = runner.summarize(verbose=False)
    assert attempted == examples
    assert failed == 0, "".join(report)
