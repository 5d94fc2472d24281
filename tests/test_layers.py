"""The structure the project promises: layers without circles, small modules, registries pinned to the CLI
and the docs' settings page."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "deepprior"
GUIDE = ROOT / "docs" / "guide"


def test_no_import_cycle_anywhere_in_the_package():
    script = runpy.run_path(str(ROOT / "scripts" / "import_cycles.py"))
    cycles = [c for c in script["strongly_connected"](script["import_graph"]()) if len(c) > 1]
    assert cycles == []


def test_modules_stay_small_and_the_api_thin():
    sizes = {p.relative_to(SRC).as_posix(): len(p.read_text().splitlines()) for p in SRC.rglob("*.py")}
    assert sizes["api.py"] < 300
    assert {name: n for name, n in sizes.items() if n > 400} == {}  # issue #30: no module over 400 lines


def _command(name: str) -> click.Command:
    from deepprior.cli import cli

    command = cli.get_command(click.Context(cli), name)
    assert command is not None, name
    return command


def _dests(command: click.Command) -> set[str]:
    return {p.name for p in command.params if p.name is not None}


def test_every_task_is_a_command_with_its_options_and_the_shared_settings():
    from deepprior.cli.batch import BATCH_KEYS
    from deepprior.restore import Settings
    from deepprior.tasks import TASKS

    shared = set(Settings.__annotations__) - {"callbacks", "tile_map", "cancel"}  # Python only
    for task in TASKS.values():
        dests = _dests(_command(task.name))
        assert {o.name for o in task.options} <= dests, task.name
        assert shared <= dests, (task.name, shared - dests)
        extra = dests - shared - {o.name for o in task.options} - set(task.inputs)
        allowed = {"inputs", "output", "report", "overwrite", "log_level", "verbose", *BATCH_KEYS}
        assert extra <= allowed, (task.name, extra)


def test_cli_choices_come_from_the_registries():
    from deepprior.fit.stopping import stop_names
    from deepprior.nets import NETWORKS
    from deepprior.presets import PRESET_NAMES

    params = {p.name: p for p in _command("denoise").params}
    assert list(params["net"].type.choices) == list(NETWORKS)  # type: ignore[attr-defined]
    assert list(params["stop"].type.choices) == stop_names()  # type: ignore[attr-defined]
    assert list(params["preset"].type.choices) == list(PRESET_NAMES)  # type: ignore[attr-defined]


def _docs_table(page: str, heading: str) -> list[list[str]]:
    section = (GUIDE / page).read_text().split(heading, 1)[1]
    start = next(i for i, line in enumerate(section.splitlines()) if line.startswith("|"))
    rows = []
    for line in section.splitlines()[start:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line.strip("|"))])
    return rows[2:]


def test_the_docs_table_of_settings_maps_every_flag_to_its_keyword():
    from deepprior.restore import Settings

    rows = _docs_table("options.md", "# What every restoration command accepts")
    flags = {f for row in rows for f in re.findall(r"`(--[a-z-]+)", row[0])}
    keywords = {k for row in rows for k in re.findall(r"`([a-z_]+)=", row[1])}
    params = {p.name: p for p in _command("denoise").params if isinstance(p, click.Option)}
    for name, param in params.items():
        if name in Settings.__annotations__:
            assert name in keywords, name
            assert any(f in flags for f in param.opts if f.startswith("--")), name


def test_the_docs_preset_table_names_every_preset_and_task():
    from deepprior.presets import PRESET_NAMES
    from deepprior.tasks import TASKS

    text = "\n".join(" ".join(r) for r in _docs_table("presets.md", "# Presets"))
    for name in PRESET_NAMES:
        assert f"`{name}`" in text, name
    for task in TASKS:
        assert task in text, task


def test_the_docs_stop_rules_are_the_registry():
    from deepprior.fit.stopping import stop_names

    rows = _docs_table("stopping.md", "# Stopping rules (`--stop`)")
    assert [re.findall(r"`([a-z-]+)`", r[0])[0] for r in rows] == stop_names()
