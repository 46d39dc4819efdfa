"""The notes in docs/ link to the code that implements them, and the links hold: every
relative link resolves, and a link titled with a function or class name points at a file
that defines it."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
NAME = re.compile(r"`(?:[\w]+\.)*(\w+)`")        # `nn.ReLU` -> ReLU, `im2col` -> im2col


# learning_section.md and errors.md are pasted into the root README: their links start from the repository root
README_SECTIONS = ("learning_section.md", "errors.md")
BASE = {name: ROOT for name in README_SECTIONS}


def links():
    for note in sorted(DOCS.glob("*.md")):
        for text, target in LINK.findall(note.read_text(encoding="utf-8")):
            if not re.match(r"[a-z]+:", target) and not target.startswith("#"):
                yield pytest.param(note, text, target, id=f"{note.name}->{target}")


@pytest.mark.parametrize("note, text, target", list(links()))
def test_relative_link_resolves_and_names_what_the_file_defines(note, text, target):
    path = (BASE.get(note.name, note.parent) / target.split("#")[0]).resolve()
    assert path.exists(), f"{note.name}: link [{text}]({target}) points at a missing file"
    if path.suffix == ".py":
        source = path.read_text(encoding="utf-8")
        if path.name == "__init__.py":
            return                                     # a package link: nothing to look up
        for name in NAME.findall(text):
            assert re.search(rf"^\s*(def|class) {name}\b", source, re.M), \
                f"{note.name}: [{text}]({target}) but {path.relative_to(ROOT)} defines no {name}"


def test_every_op_note_links_to_its_implementation_and_is_in_the_index():
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    notes = [p for p in DOCS.glob("*.md") if p.name not in ("README.md",) + README_SECTIONS]
    assert len(notes) >= 10
    for note in notes:
        assert f"({note.name})" in index, f"docs/README.md does not list {note.name}"
        targets = [t for _, t in LINK.findall(note.read_text(encoding="utf-8"))]
        assert any(t.startswith("../minicnn/") and t.endswith(".py") for t in targets), \
            f"{note.name} has no link to the code that implements it"


def test_pictures_in_the_notes_exist_and_stay_small():
    for note in DOCS.glob("*.md"):
        for _, target in re.findall(r"!\[([^\]]*)\]\(([^)\s]+)\)", note.read_text(encoding="utf-8")):
            path = BASE.get(note.name, note.parent) / target
            assert path.is_file(), f"{note.name}: picture {target} is missing"
            assert path.stat().st_size < 100_000, f"{target} is {path.stat().st_size} bytes; keep pictures < 100 KB"
