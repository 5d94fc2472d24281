"""Every script in benchmarks/ and benchmarks/studies/ imports and answers ``--help``.

All in this one process (each script run by ``runpy`` with ``sys.argv`` and ``sys.path`` as ``python SCRIPT --help``
sets them), so torch is imported once. A script that cannot import fails here. Shell scripts are not run; the
script paths that they, the benchmarks README and the docs' fragments name must exist.
"""

from __future__ import annotations

import re
import runpy
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
FOLDERS = (BENCHMARKS, BENCHMARKS / "studies")
#: Helpers the scripts import; they run nothing.
MODULES = ("common.py", "_path.py")
PREFIX = str(BENCHMARKS) + "/"  # the folder of a module imported from there (sys.path holds resolved folders)
SCRIPTS = sorted(p for folder in FOLDERS for p in folder.glob("*.py") if p.name not in MODULES)


def _forget_benchmark_modules() -> None:
    """Drop the modules imported from benchmarks/ (``common``, ``docgen``, ``stop_eval``, ...), so that each
    script imports them afresh, from the ``sys.path`` it sets up itself."""
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and file.startswith(PREFIX):
            del sys.modules[name]


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``sys.path`` and ``sys.argv`` are put back after the test, and no module of benchmarks/ stays imported."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    _forget_benchmark_modules()
    yield
    _forget_benchmark_modules()


def test_the_scripts_are_found():
    names = {p.relative_to(BENCHMARKS).as_posix() for p in SCRIPTS}
    assert {"make_docs.py", "full_size.py", "stop_eval.py", "studies/lr_study.py"} <= names
    assert not any(p.name.startswith("test_") for p in SCRIPTS)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.relative_to(BENCHMARKS).as_posix())
def test_script_imports_and_answers_help(script: Path, fresh: None, capsys: pytest.CaptureFixture[str]):
    sys.path.insert(0, str(script.parent))  # as `python SCRIPT` does
    sys.argv = [str(script), "--help"]
    with pytest.raises(SystemExit) as stopped:
        runpy.run_path(str(script), run_name="__main__")
    assert stopped.value.code in (0, None)
    assert capsys.readouterr().out.startswith("usage:")


@pytest.mark.parametrize("module", ["common.py", "studies/_path.py"])
def test_helper_modules_import(module: str, fresh: None):
    sys.path.insert(0, str((BENCHMARKS / module).parent))
    runpy.run_path(str(BENCHMARKS / module), run_name="benchmark_helper")


def test_a_study_imports_the_shared_helpers(fresh: None):
    sys.path.insert(0, str(BENCHMARKS / "studies"))
    import _path  # noqa: F401
    import common
    from docgen.markdown import table

    assert Path(common.__file__).parent == BENCHMARKS
    assert table is common.markdown_table
    assert common.markdown_table(["a", "b"], [[1, ""]]) == "| a | b |\n|---|---|\n| 1 | |"
    assert common.script_name(str(BENCHMARKS / "studies" / "lr_study.py")) == "benchmarks/studies/lr_study.py"


def test_script_paths_named_in_scripts_and_docs_exist():
    """A script moved (a study to benchmarks/studies/) leaves no command naming its old path."""
    texts = [*BENCHMARKS.glob("*.sh"), *BENCHMARKS.glob("studies/*.sh"), BENCHMARKS / "README.md",
             *(ROOT / "docs" / "fragments").glob("*.md"), *SCRIPTS]
    named = {m for path in texts for m in re.findall(r"benchmarks/[\w/]+\.(?:py|sh)", path.read_text())}
    assert named, "no script path found: the pattern is stale"
    missing = sorted(n for n in named if not (ROOT / n).exists())
    assert not missing, f"named but not there: {missing}"
