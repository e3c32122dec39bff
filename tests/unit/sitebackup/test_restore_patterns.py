"""The restore subset: paths and glob patterns, and the requests they refuse."""

from __future__ import annotations

import pytest

from sitebackup.restore import patterns

PATHS = ["index.html", "about/index.html", "img/logo.png", "img/2024/a.png", "notes.log"]


def chosen(*given: str) -> list[str]:
    match = patterns.matcher(patterns.check(list(given)))
    return [path for path in PATHS if match(path)]


def test_no_pattern_restores_everything() -> None:
    assert chosen() == PATHS


def test_one_file_one_folder_and_globs() -> None:
    assert chosen("/index.html") == ["index.html"]
    assert chosen("img/2024/a.png") == ["img/2024/a.png"]
    assert chosen("img/") == ["img/logo.png", "img/2024/a.png"]
    assert chosen("/img") == ["img/logo.png", "img/2024/a.png"]
    assert chosen("*.png") == ["img/logo.png", "img/2024/a.png"]
    assert chosen("index.html") == ["index.html", "about/index.html"]
    assert chosen("*", "!*.log") == PATHS[:4]


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("*.png", "list"),
        ([3], "string"),
        ([""], "empty"),
        (["a\x00"], "NUL"),
        (["../x"], "'..'"),
        (["[z-a]"], "not valid"),
        (["#comment"], "matches nothing"),
        (["x" * 2000], "longer"),
        (["a"] * 101, "more than"),
    ],
)
def test_bad_patterns_are_refused(given: object, reason: str) -> None:
    with pytest.raises(patterns.PatternError, match=reason):
        patterns.check(given)
