"""The documentation site: the command-line page is generated from the commands and current, the API page
covers every public name, the README stays short and its links resolve."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import click
import pytest

import deepprior
from deepprior.cli import cli

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def cli_docs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_cli_docs", ROOT / "scripts" / "make_cli_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_command_line_page_equals_what_the_commands_render(cli_docs) -> None:
    committed = (DOCS / "reference" / "cli.md").read_text()
    assert cli_docs.render() == committed, "stale: run .venv/bin/python scripts/make_cli_docs.py"


def test_every_option_of_every_command_is_on_the_page_with_its_default_and_choices(cli_docs) -> None:
    page = (DOCS / "reference" / "cli.md").read_text()
    ctx = cli.make_context("deepprior", [], resilient_parsing=True)
    commands = []
    for name in cli.list_commands(ctx):
        command = cli.get_command(ctx, name)
        assert command is not None
        commands.append((name, command))
        if isinstance(command, click.Group):  # deepprior bench TABLE
            sub = command.make_context(name, [], parent=ctx, resilient_parsing=True)
            commands += [(f"{name} {n}", command.get_command(sub, n)) for n in command.list_commands(sub)]
    assert any(name.startswith("bench ") for name, _ in commands)
    for name, command in commands:
        section = page.split(f"## `deepprior {name}`\n", 1)[1].split("\n## `deepprior ", 1)[0]
        for param in command.params:
            if isinstance(param, click.Option) and param.name not in cli_docs.COMMON and not param.hidden:
                row = next((line for line in section.splitlines() if line.startswith(f"| `{param.opts[0]}`")), None)
                assert row is not None, (name, param.opts)
                if isinstance(param.type, click.Choice):
                    assert all(f"`{c}`" in row for c in param.type.choices), row
                if param.show_default and param.default not in (None, False):
                    shown = param.opts[0] if param.is_flag else param.default
                    assert f"`{shown}`" in row, row


def test_a_changed_option_makes_the_page_stale(cli_docs, monkeypatch) -> None:
    ctx = cli.make_context("deepprior", [], resilient_parsing=True)
    command = cli.get_command(ctx, "denoise")
    assert command is not None
    overlap = next(p for p in command.params if p.name == "overlap")
    monkeypatch.setattr(overlap, "default", 24)
    assert "| `--overlap` | integer ≥ 0 ≤ 65536 | `24` |" in cli_docs.render()


def test_the_api_page_documents_every_public_name() -> None:
    page = (DOCS / "reference" / "api.md").read_text()
    documented = {line.split()[1].rsplit(".", 1)[-1] for line in page.splitlines() if line.startswith("::: ")}
    assert set(deepprior.__all__) <= documented, set(deepprior.__all__) - documented
    for line in page.splitlines():
        if line.startswith("::: "):
            module, name = line.split()[1].rsplit(".", 1)
            assert hasattr(importlib.import_module(module), name), line


def test_every_page_is_in_the_navigation() -> None:
    nav = (ROOT / "mkdocs.yml").read_text()
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md") if "fragments" not in p.parts}
    listed = set(re.findall(r":\s*([\w/.-]+\.md)\s*$", nav, flags=re.M))
    assert pages == listed, pages ^ listed


def test_the_readme_is_short_starts_with_the_two_commands_and_its_links_resolve() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) < 200
    first = readme.split("```sh\n", 1)[1].split("```", 1)[0].splitlines()
    assert [line.split()[:2] for line in first] == [["make", "demo"], ["make", "test"]]
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme):
        if "://" not in target:
            assert (ROOT / target).exists(), target


@pytest.mark.skipif(shutil.which("mkdocs", path=str(Path(sys.executable).parent)) is None,
                    reason="mkdocs is not installed (the docs extra)")
def test_the_site_builds_strict(tmp_path: Path) -> None:
    mkdocs = Path(sys.executable).parent / "mkdocs"
    done = subprocess.run([str(mkdocs), "build", "--strict", "--quiet", "--site-dir", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, env={"NO_MKDOCS_2_WARNING": "1",
                                                                          "PATH": "/usr/bin:/bin"}, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "site" / "reference" / "api" / "index.html").read_text().count('id="deepprior.') >= 20
