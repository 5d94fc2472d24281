"""The parts of ``benchmarks/make_docs.py``: result loaders, table builders and the named values of the docs."""
