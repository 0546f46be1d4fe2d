"""The run report (issue 18): numbers computed from a run's portfolio documents, drawn as a
self-contained HTML page (Vega-Lite charts) or written as a Markdown summary.

`build` is pure (documents in, a `Report` out); `html` and `markdown` render one. Nothing
here is imported by a plain run: the commands import it when a report is asked for.
"""
