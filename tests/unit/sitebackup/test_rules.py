"""Include/exclude rules: gitignore semantics, sources and their order, counts, bad patterns."""

from __future__ import annotations

import pytest

from sitebackup import rules as r
from sitebackup.errors import RuleError


def kept(ruleset: r.RuleSet, paths: list[str]) -> list[str]:
    """The paths a walk would keep: a path under an excluded folder is never looked at."""
    result = []
    for path in paths:
        parts = path.split("/")
        if any(ruleset.dir_excluded("/".join(parts[:i])) for i in range(1, len(parts))):
            continue
        if not ruleset.file_excluded(path):
            result.append(path)
    return result


TREE = [
    "index.html",
    "app.log",
    "keep.log",
    ".env",
    "node_modules/lib/index.js",
    "src/node_modules/x.js",
    "build/out.js",
    "src/build/out.js",
    "cache",
    "src/cache/a.bin",
]


def test_gitignore_patterns_negation_anchoring_and_directory_only():
    ruleset = r.RuleSet.build(
        exclude=["node_modules/", "*.log", "!keep.log", ".env", "/build", "cache/"]
    )
    assert kept(ruleset, TREE) == [
        "index.html",
        "keep.log",
        "src/build/out.js",  # '/build' is anchored at the root
        "cache",  # 'cache/' matches folders only
    ]


def test_a_negation_cannot_reinclude_a_file_below_an_excluded_folder():
    ruleset = r.RuleSet.build(exclude=["logs/", "!logs/keep.log"])
    assert kept(ruleset, ["logs/keep.log", "logs/x.log", "a.txt"]) == ["a.txt"]


def test_later_sources_override_earlier_ones():
    # setting, then .backupignore, then the request: the request may re-include.
    ignore = r.parse_ignore_file(b"*.txt\n")
    ruleset = r.RuleSet.build(defaults=["*.md"], ignore_file=ignore, exclude=["!notes.txt"])
    assert kept(ruleset, ["a.md", "b.txt", "notes.txt", "c.html"]) == ["notes.txt", "c.html"]


def test_include_restricts_to_matching_files_then_excludes_remove():
    ruleset = r.RuleSet.build(include=["*.html", "assets/", "!assets/*.psd"], exclude=["draft*"])
    paths = ["index.html", "draft.html", "a.css", "assets/x.png", "assets/y.psd", "sub/p.html"]
    assert kept(ruleset, paths) == ["index.html", "assets/x.png", "sub/p.html"]


def test_the_report_counts_files_and_folders_per_deciding_rule():
    ruleset = r.RuleSet.build(
        defaults=["node_modules/"], exclude=["*.log", "!keep.log", "unused"], include=[]
    )
    kept(ruleset, TREE)
    report = ruleset.report()
    assert report["rulesTotal"] == 4
    assert report["excludedFiles"] == 1  # app.log
    assert report["excludedDirs"] == 2  # node_modules twice
    by_pattern = {item["pattern"]: item for item in report["matched"]}
    assert by_pattern["node_modules/"] == {
        "pattern": "node_modules/",
        "source": r.SOURCE_SETTING,
        "files": 0,
        "dirs": 2,
    }
    assert by_pattern["*.log"]["files"] == 1
    assert "unused" not in by_pattern and "!keep.log" not in by_pattern
    assert report["rulesMatched"] == 2


def test_files_outside_the_include_list_are_counted_as_excluded():
    ruleset = r.RuleSet.build(include=["*.html"])
    assert kept(ruleset, ["a.html", "b.css", "c.js"]) == ["a.html"]
    report = ruleset.report()
    assert report["excludedFiles"] == 2
    assert report["matched"][0]["source"] == r.SOURCE_INCLUDE


def test_ignore_file_syntax_comments_blank_lines_and_line_numbers():
    rules = r.parse_ignore_file(b"\xef\xbb\xbf# comment\n\n*.tmp\r\n  \n!a.tmp\n")
    assert [(rule.pattern, rule.line) for rule in rules] == [("*.tmp", 3), ("!a.tmp", 5)]


@pytest.mark.parametrize("bad", ["!", "\\"])
def test_a_bad_pattern_is_named_with_its_source(bad):
    with pytest.raises(RuleError) as caught:
        r.check_patterns(["ok", bad], "'exclude'")
    assert repr(bad) in str(caught.value) and "'exclude'" in str(caught.value)


def test_a_bad_line_in_the_ignore_file_names_the_line():
    with pytest.raises(RuleError, match=r"\.backupignore line 2: '!' is not a valid"):
        r.parse_ignore_file(b"*.log\n!\n")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("*.log", "must be a list"),
        ([1], "must be a string"),
        (["a\x00b"], "contains NUL"),
        (["x" * (r.MAX_PATTERN_LENGTH + 1)], "longer than"),
        (["a"] * (r.MAX_PATTERNS + 1), "at most"),
    ],
)
def test_pattern_lists_are_checked(value, message):
    with pytest.raises(RuleError, match=message):
        r.check_patterns(value, "'exclude'")


def test_the_setting_takes_commas_or_a_json_array():
    assert r.parse_setting(" node_modules/ , *.log ,") == ("node_modules/", "*.log")
    assert r.parse_setting('["a,b", "!c"]') == ("a,b", "!c")
    assert r.parse_setting("  ") == ()
    with pytest.raises(RuleError, match="not valid JSON"):
        r.parse_setting('["a",')


def test_an_ignore_file_that_is_not_utf8_or_too_large_is_refused():
    with pytest.raises(RuleError, match="not UTF-8"):
        r.parse_ignore_file(b"\xff\xfe*")
    with pytest.raises(RuleError, match="larger than"):
        r.parse_ignore_file(b"#" * (r.MAX_IGNORE_FILE_BYTES + 1))
