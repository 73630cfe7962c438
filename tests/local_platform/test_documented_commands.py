"""Every `energy-platform ...` command shown in README.md and docs/*.md parses as written.

The commands are taken from the documents themselves (fenced code blocks and inline code spans), so a command a user
copies from the documentation is exactly the one tested. `[...]` marks an optional part: the command is parsed
without it and with it. `--help` exits 0 after printing help; any other exit is argparse refusing the words.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from local_platform.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PROGRAM = re.compile(r"(?:\.venv/bin/)?energy-platform\b")
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
INLINE = re.compile(r"(?<!`)`((?:\.venv/bin/)?energy-platform\b[^`]*)`(?!`)")
OPTIONAL = re.compile(r"\s*\[([^\[\]]*)\]")


def fenced_commands(text: str) -> list[str]:
    """Command lines in code blocks: continuations joined, a trailing `# comment` dropped."""
    found = []
    for block in FENCE.findall(text):
        for line in block.replace("\\\n", " ").splitlines():
            match = PROGRAM.search(line)
            if match:
                found.append(re.split(r"\s+#\s", line[match.start() :])[0].strip())
    return found


def inline_commands(text: str) -> list[str]:
    outside_fences = FENCE.sub("", text)
    return [" ".join(span.split()) for span in INLINE.findall(outside_fences)]


def documented_commands() -> list[tuple[str, str]]:
    commands = []
    for document in DOCUMENTS:
        text = document.read_text(encoding="utf-8")
        for command in fenced_commands(text) + inline_commands(text):
            words = shlex.split(command)[1:]
            if words:  # the bare program name in prose is not a command
                commands.append((document.relative_to(ROOT).as_posix(), command))
    return commands


def variants(command: str) -> list[list[str]]:
    """The command without its optional parts, and with them (brackets removed)."""
    without = OPTIONAL.sub("", command)
    with_all = OPTIONAL.sub(lambda m: " " + m.group(1), command)
    return [shlex.split(form)[1:] for form in dict.fromkeys([without, with_all])]


COMMANDS = documented_commands()


def test_the_documents_show_commands():
    """The extraction sees what it checks: the commands the issue named, and enough of them."""
    shown = {command for _, command in COMMANDS}
    assert "energy-platform sources check config/sources/acme_load.yml --config-root config --raw-root landing" in shown
    assert "energy-platform sources list --config-root config" in shown
    assert len(COMMANDS) >= 20, COMMANDS
    assert {document for document, _ in COMMANDS} >= {"README.md", "docs/lakehouse.md", "docs/snowflake.md"}


@pytest.mark.parametrize(("document", "command"), COMMANDS, ids=[f"{d}: {c}" for d, c in COMMANDS])
def test_documented_command_parses(document, command, capsys):
    for words in variants(command):
        try:
            args = build_parser().parse_args(words)
        except SystemExit as exit_:
            assert exit_.code == 0, f"{document}: `{command}` is refused: {capsys.readouterr().err.strip()}"
            assert "--help" in words or "-h" in words
            continue
        assert callable(args.func), f"{document}: `{command}` names no runnable command"


def test_config_root_accepted_before_and_after_the_action():
    parser = build_parser()
    after = parser.parse_args(["sources", "check", "d.yml", "--config-root", "config", "--raw-root", "landing"])
    before = parser.parse_args(["sources", "--config-root", "config", "check", "d.yml", "--raw-root", "landing"])
    neither = parser.parse_args(["sources", "check", "d.yml"])
    listing = parser.parse_args(["sources", "list", "--config-root", "config"])
    assert after.config_root == before.config_root == listing.config_root == "config"
    assert neither.config_root is None
    assert (after.definition, after.raw_root) == ("d.yml", "landing")


def test_every_command_module_is_listed():
    """The CLI lists its command modules by hand; a module left out of the list would be a command nobody can run."""
    from local_platform import cli, commands

    modules = {p.stem for p in Path(commands.__file__).parent.glob("*.py") if p.stem != "__init__"}
    assert {m.__name__.rsplit(".", 1)[1] for m in cli.COMMANDS} == modules
    shown = build_parser()._subparsers._group_actions[0].choices
    assert set(shown) == modules


def test_no_documentation_line_is_longer_than_the_limit():
    """README.md and docs/*.md keep to DOCS_LINE_LIMIT characters a line, generated parts (the quarantine reasons)
    included."""
    from databricks_jobs.tables import DOCS_LINE_LIMIT

    long = [
        f"{document.relative_to(ROOT).as_posix()}:{number}: {len(line)} characters"
        for document in DOCUMENTS
        for number, line in enumerate(document.read_text(encoding="utf-8").splitlines(), start=1)
        if len(line) > DOCS_LINE_LIMIT
    ]
    assert long == []


def test_upgrade_refuses_lake_only_with_warehouse_only(capsys):
    """Both would leave both sides alone and exit 0, as if the upgrade had run."""
    with pytest.raises(SystemExit) as refused:
        build_parser().parse_args(["upgrade", "--lake-only", "--warehouse-only"])
    assert refused.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
    assert build_parser().parse_args(["upgrade", "--lake-only"]).lake_only is True
