"""Benchmarks: the Deep Image Prior paper's tables, with classical baselines, from one command."""

from __future__ import annotations

from .harness import BenchConfig, find_data, run_table, to_markdown, write_outputs

__all__ = ["BenchConfig", "find_data", "run_table", "to_markdown", "write_outputs"]
