"""Read the worked examples of the notes in docs/ so tests can compare them with the library.

A worked example is a fenced block preceded by the marker ``<!-- worked-example: NAME -->``.
Inside, ``name = values`` starts an entry; lines without ``=`` continue the previous one;
brackets are decoration and ``#`` starts a comment. Each number keeps the precision it was
printed with: a value matches when it rounds to the printed digits.
"""
import functools
import re
from pathlib import Path

import numpy as np

DOCS = Path(__file__).resolve().parents[2] / "docs"

_MARKER = re.compile(r"<!--\s*worked-example:\s*([\w-]+)\s*-->\s*\n```[^\n]*\n(.*?)```", re.S)
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


class Entry:
    """The numbers of one ``name = ...`` line (flattened) and the half-unit of their last digit."""

    def __init__(self, tokens):
        self.values = np.array([float(t) for t in tokens])
        self.tolerances = np.array([_half_last_digit(t) for t in tokens])


def _half_last_digit(token):
    mantissa, _, exponent = token.lower().partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return 0.5 * 10.0 ** (int(exponent or 0) - decimals)


def parse_block(text):
    """{name: Entry} of one block's text."""
    tokens, order = {}, []
    current = None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0]
        if "=" in line:
            current, line = (s.strip() for s in line.split("=", 1))
            if current in tokens:
                raise ValueError(f"worked example: {current!r} is defined twice")
            tokens[current] = []
            order.append(current)
        if line.strip():
            if current is None:
                raise ValueError(f"worked example: numbers before any 'name =' line: {raw!r}")
            tokens[current].extend(_NUMBER.findall(line))
    return {name: Entry(tokens[name]) for name in order}


def parse_markdown(text):
    """{example name: {entry name: Entry}} of every marked block in ``text``."""
    examples = {}
    for name, body in _MARKER.findall(text):
        if name in examples:
            raise ValueError(f"worked example {name!r} appears twice")
        examples[name] = parse_block(body)
    return examples


@functools.lru_cache(maxsize=None)
def all_examples():
    """{example name: (note file name, {entry: Entry})} over docs/*.md."""
    found = {}
    for path in sorted(DOCS.glob("*.md")):
        for name, entries in parse_markdown(path.read_text(encoding="utf-8")).items():
            if name in found:
                raise ValueError(f"worked example {name!r} is in both {found[name][0]} and {path.name}")
            found[name] = (path.name, entries)
    return found


def mismatches(entry, computed):
    """Human-readable differences between a doc entry and a computed array ([] when they agree)."""
    computed = np.asarray(computed, dtype=np.float64).ravel()
    if computed.size != entry.values.size:
        return [f"the note prints {entry.values.size} numbers, the library gives {computed.size}"]
    bad = np.abs(computed - entry.values) > entry.tolerances * (1 + 1e-9) + 1e-12
    return [f"[{i}] note {float(entry.values[i])!r}, library {float(computed[i])!r}" for i in np.flatnonzero(bad)]


def check(example, entry_name, computed):
    """Assert that ``computed`` matches entry ``entry_name`` of worked example ``example``."""
    note, entries = all_examples()[example]
    assert entry_name in entries, f"docs/{note}, example {example!r}: no entry {entry_name!r}"
    problems = mismatches(entries[entry_name], computed)
    assert not problems, f"docs/{note}, example {example!r}, {entry_name}: " + "; ".join(problems)
