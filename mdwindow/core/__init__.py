"""The core of mdwindow: the semantics and the compiled passes.

Everything that decides what happens to a row lives here, and the front
doors (``tumbling_windows``, ``Windower``, ``sweep``, the tuner, the Dask
backend, the stream, the command line) only call it:

- :mod:`~mdwindow.core.rules`: the row rules (window start, watermark,
  judgement, close level, saturating arithmetic, status codes), the one
  place they are written down;
- :mod:`~mdwindow.core.options`: the options record and its validators;
- :mod:`~mdwindow.core.prepare`: a chunk in, one normalised chunk out;
- :mod:`~mdwindow.core.engine`: one step ``(state, chunk) -> (output, state)``
  (:mod:`~mdwindow.core.final` and :mod:`~mdwindow.core.updates` for the two
  emit modes, their compiled passes in :mod:`~mdwindow.core.final_pass` and
  :mod:`~mdwindow.core.kernels`);
- :mod:`~mdwindow.core.keys`, :mod:`~mdwindow.core.panes`,
  :mod:`~mdwindow.core.frames`, :mod:`~mdwindow.core.aggregate`,
  :mod:`~mdwindow.core.state`, :mod:`~mdwindow.core.times`: the pieces the
  engine is made of.

The names these modules export without a leading underscore are the core's
declared internals: the package's other modules may import them; nothing
outside the package should.
"""
