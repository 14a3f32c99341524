"""The docs: the README's links, paths and commands work on this checkout; each fact has one home.

No build: these read the Markdown files and the Makefile (well under a second).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from bad_inputs import CASES

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
# A code span that names a file or folder of the repository (no placeholder, no glob).
REPO_PATH = re.compile(
    r"(?:docs|examples|models|src|tests|macros|bench|seeds|analyses|\.ci)/[\w./-]*"
)
MAKE_TARGET = re.compile(r"^([a-z][\w-]*):", re.MULTILINE)
MAKE_COMMAND = re.compile(r"(?:^|`)make ([a-z][\w-]*)", re.MULTILINE)  # in code only
GENERATED = re.compile(r"<!--[^>]*\bgenerated\b", re.IGNORECASE)
README_MAX_LINES = 200
# Another page may cite a case of the bad-input catalogue or two as an example; more is a copy.
MAX_CASES_CITED_ELSEWHERE = 3


def markdown_files(root: Path) -> list[Path]:
    """The Markdown files of the checkout (tracked or new, not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.md"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return sorted(root / name for name in set(listed) if (root / name).is_file())


@pytest.fixture(scope="module")
def pages(repo_root: Path) -> dict[Path, str]:
    return {path: path.read_text() for path in markdown_files(repo_root)}


def test_relative_links_resolve(pages: dict[Path, str], repo_root: Path) -> None:
    broken = []
    for path, text in pages.items():
        for target in LINK.findall(text):
            if re.match(r"[a-z]+:|#", target):
                continue  # a URL or an anchor in the same page
            if not (path.parent / target.split("#")[0]).exists():
                broken.append(f"{path.relative_to(repo_root)}: {target}")
    assert not broken, f"links to files that do not exist: {broken}"


@pytest.mark.parametrize("page", ["README.md", "docs/layout.md"])
def test_named_repository_paths_exist(repo_root: Path, page: str) -> None:
    text = (repo_root / page).read_text()
    paths = {span for span in CODE_SPAN.findall(text) if REPO_PATH.fullmatch(span)}
    assert len(paths) >= 5, f"{page} names almost no paths: {paths}"
    missing = sorted(span for span in paths if not (repo_root / span).exists())
    assert not missing, f"{page} names paths that do not exist: {missing}"


def test_readme_make_commands_are_makefile_targets(repo_root: Path) -> None:
    targets = set(MAKE_TARGET.findall((repo_root / "Makefile").read_text()))
    commands = set(MAKE_COMMAND.findall((repo_root / "README.md").read_text()))
    assert {"build", "test"} <= commands
    assert commands <= targets, f"not Makefile targets: {commands - targets}"


def test_readme_stays_a_front_page(repo_root: Path) -> None:
    lines = (repo_root / "README.md").read_text().count("\n")
    assert lines <= README_MAX_LINES, (
        f"README.md has {lines} lines (at most {README_MAX_LINES}): move details to a page of docs/"
    )


def test_generated_pages_have_one_home(pages: dict[Path, str], repo_root: Path) -> None:
    generated = {path for path, text in pages.items() if GENERATED.search(text)}
    assert repo_root / "docs" / "troubleshooting.md" in generated
    assert repo_root / "README.md" not in generated, "the README holds a generated block"
    copies = []
    for source in generated:
        lines = {
            line.strip()
            for line in pages[source].splitlines()
            if len(line.strip()) >= 60 and not line.lstrip().startswith(("#", "<!--", "|---"))
        }
        for path, text in pages.items():
            if path == source:
                continue
            # Whole lines: a generated row or item copied elsewhere (a message quoted inside
            # a longer sentence is not a copy).
            repeated = sorted(lines & {other.strip() for other in text.splitlines()})
            if repeated:
                copies.append(f"{path.relative_to(repo_root)} repeats {source.name}: {repeated[0]}")
    assert not copies, copies


def test_bad_input_catalogue_is_listed_once(pages: dict[Path, str], repo_root: Path) -> None:
    home = repo_root / "docs" / "troubleshooting.md"
    assert all(f"`{case.id}`" in pages[home] for case in CASES)
    for path, text in pages.items():
        if path == home:
            continue
        cited = [case.id for case in CASES if case.id in text]
        assert len(cited) <= MAX_CASES_CITED_ELSEWHERE, (
            f"{path.relative_to(repo_root)} lists {len(cited)} cases of the bad-input catalogue "
            f"(e.g. {cited[:3]}): link docs/troubleshooting.md instead"
        )
