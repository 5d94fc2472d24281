"""docs/benchmarks.md is regenerated, byte for byte, from docs/fragments/ and the committed results."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "make_docs.py"


@pytest.fixture(scope="module")
def make_docs() -> ModuleType:
    """benchmarks/make_docs.py as a module (it puts benchmarks/ on sys.path for its parts; put back after)."""
    saved = list(sys.path)
    spec = importlib.util.spec_from_file_location("make_docs", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = saved
    return module


def test_regenerated_docs_equal_the_committed_file(make_docs):
    committed = (ROOT / "docs" / "benchmarks.md").read_bytes()
    regenerated = make_docs.render().encode("utf-8")
    assert regenerated == committed, make_docs.diff(committed.decode("utf-8"), regenerated.decode("utf-8"))


def test_unknown_placeholder_raises_naming_it(make_docs):
    with pytest.raises(make_docs.DocsError, match=r"frag\.md:2: .*unknown placeholder 'no_such_figure'"):
        make_docs.expand("Line one.\nA figure: {{ no_such_figure:.2f }} dB.\n", "frag.md")


def test_missing_results_file_raises_naming_it(make_docs):
    with pytest.raises(make_docs.DocsError, match=r"frag\.md:1: \{\{no_such_run\.md\}\}: results file missing: .*"
                                                  r"no_such_run\.md"):
        make_docs.expand("{{ no_such_run.md }}", "frag.md")


def test_json_placeholder_reads_a_field_and_formats_it(make_docs):
    ratio = "{{ speed_512_w48.json#rows.label=fast.ratio_to_reference:.2f }}"
    assert make_docs.expand(f"`fast` is {ratio}x", "frag.md") == "`fast` is 0.12x"
    with pytest.raises(make_docs.DocsError, match=r"rows\.label=nope"):
        make_docs.expand("{{ speed_512_w48.json#rows.label=nope.median_s }}", "frag.md")


def test_unmatched_braces_raise(make_docs):
    with pytest.raises(make_docs.DocsError, match="unmatched"):
        make_docs.expand("a {{ speed_512.md } b", "frag.md")


def test_check_exits_1_with_a_diff_when_the_docs_differ(make_docs, tmp_path, monkeypatch, capsys):
    stale = tmp_path / "benchmarks.md"
    stale.write_text(make_docs.render().replace("| fast | bf16 |", "| fast | bf16 (edited) |", 1), encoding="utf-8")
    monkeypatch.setattr(make_docs, "OUTPUT", stale)
    assert make_docs.main(["--check"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("--- docs/benchmarks.md (committed)") and "+| fast | bf16 |" in out
    assert "(edited)" in stale.read_text(encoding="utf-8")  # --check never writes


def test_script_checks_clean_without_importing_the_package():
    """Run as a script, --check passes, and neither deepprior nor torch is imported: the docs depend on the
    committed results only, not on the library (which may be mid-change)."""
    probe = (
        "import runpy, sys\n"
        f"sys.argv = [{str(SCRIPT)!r}, '--check']\n"
        "try:\n"
        f"    runpy.run_path({str(SCRIPT)!r}, run_name='__main__')\n"
        "except SystemExit as e:\n"
        "    code = e.code\n"
        "print(code, sorted(m for m in sys.modules if m.split('.')[0] in ('deepprior', 'torch')))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.stdout.strip() == "0 []", done.stdout + done.stderr
