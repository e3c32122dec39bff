"""Which stored names a restore accepts, and the temporary names it uses."""

from __future__ import annotations

import pytest

from sitebackup.restore import names


@pytest.mark.parametrize(
    "name",
    ["index.html", "a/b/c.txt", "caf\u00e9/men\u00fc.html", ".hidden", "a b/c d", "x..y", "..."],
)
def test_ordinary_names_are_accepted(name: str) -> None:
    assert names.problem(name) is None
    assert "/".join(names.segments(name)) == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "empty"),
        ("../etc/passwd", "'..'"),
        ("a/../../b", "'..'"),
        ("a/..", "'..'"),
        ("/etc/passwd", "absolute"),
        ("a\\..\\b", "backslash"),
        ("a\x00b", "NUL"),
        ("a//b", "empty or '.'"),
        ("a/./b", "empty or '.'"),
        ("a/", "empty or '.'"),
        ("x" * 256, "longer than 255"),
        ("a/" + names.TEMP_PREFIX + "x", "reserved"),
        (42, "not text"),
    ],
)
def test_unsafe_names_are_refused_with_a_reason(name: object, reason: str) -> None:
    problem = names.problem(name)
    assert problem is not None and reason in problem


def test_temp_names_are_per_leaf_fixed_length_and_never_restorable() -> None:
    first, second = names.temp_name("a.txt"), names.temp_name("b.txt")
    assert first != second
    assert first == names.temp_name("a.txt")
    assert len(names.temp_name("x" * 255)) == len(first) <= names.MAX_SEGMENT_BYTES
    assert names.is_temp_name(first)
    assert names.problem(first) is not None
    assert not names.is_temp_name("a.txt")
