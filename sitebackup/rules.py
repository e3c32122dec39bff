"""Include/exclude rules with gitignore semantics (pure: no I/O).

How a file is decided (also in docs/rules.md):

1. Exclude patterns come from three places, read in this order as one gitignore list, so a
   later line overrides an earlier one (``!pattern`` re-includes): the app setting
   ``BACKUP_EXCLUDE``, the ``.backupignore`` file at the root of the tree, the request's
   ``exclude`` list.
2. A directory that the exclude list matches is not entered at all (the walk prunes it), so,
   as in git, nothing below it can be re-included by a later ``!`` line.
3. When the request has an ``include`` list, a file is backed up only when that list (read
   with the same gitignore syntax, ``!`` included) matches it; the exclude list then removes
   files from what is left. Include patterns never prune a directory.

Patterns are matched against the path relative to the root with '/' separators; a
directory is tested as ``path/`` so that directory-only patterns (``cache/``) apply.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pathspec

from sitebackup.errors import RuleError, echo

IGNORE_FILE = ".backupignore"
# Where a pattern came from, as reports and errors name it.
SOURCE_SETTING = "setting BACKUP_EXCLUDE"
SOURCE_FILE = IGNORE_FILE
SOURCE_REQUEST = "request exclude"
SOURCE_INCLUDE = "request include"
# Bounds that keep a request, the orchestration input and the reports small.
MAX_PATTERNS = 1000
MAX_PATTERN_LENGTH = 1000
MAX_IGNORE_FILE_BYTES = 256 * 1024
# The per-rule report lists at most this many rules (the totals stay exact).
MAX_RULES_REPORTED = 50


@dataclass(frozen=True)
class Rule:
    pattern: str
    source: str
    line: int | None = None  # the line in .backupignore

    def where(self) -> str:
        return f"{self.source} line {self.line}" if self.line else self.source


def check_patterns(value: Any, source: str) -> tuple[str, ...]:
    """A request's or setting's pattern list as strings; RuleError names a bad one."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise RuleError(f"{source} must be a list of patterns (strings)")
    if len(value) > MAX_PATTERNS:
        raise RuleError(f"{source} has {len(value)} patterns; at most {MAX_PATTERNS} are allowed")
    patterns = []
    for item in value:
        if not isinstance(item, str):
            raise RuleError(f"{source}: every pattern must be a string, got {echo(item)}")
        patterns.append(item)
    rules = [Rule(pattern, source) for pattern in patterns]
    _compile(rules, source)
    return tuple(patterns)


def parse_setting(value: str) -> tuple[str, ...]:
    """``BACKUP_EXCLUDE``: a JSON array of patterns, or patterns separated by commas."""
    text = value.strip()
    if not text:
        return ()
    if text.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RuleError(
                f"{SOURCE_SETTING} looks like a JSON array but is not valid JSON ({exc.msg})"
            ) from None
        return check_patterns(items, SOURCE_SETTING)
    return check_patterns(
        [item.strip() for item in text.split(",") if item.strip()], SOURCE_SETTING
    )


def parse_ignore_file(data: bytes) -> list[Rule]:
    """The rules of a ``.backupignore`` file (gitignore file syntax: '#' comments, blanks)."""
    if len(data) > MAX_IGNORE_FILE_BYTES:
        raise RuleError(
            f"{IGNORE_FILE} is larger than {MAX_IGNORE_FILE_BYTES // 1024} KiB; keep it to "
            "the patterns"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RuleError(f"{IGNORE_FILE} is not UTF-8 text") from None
    rules = []
    for number, line in enumerate(text.splitlines(), start=1):
        # As git: trailing spaces are dropped unless escaped; blank lines and '#' lines skip.
        stripped = line.rstrip("\r")
        if not stripped.strip() or stripped.startswith("#"):
            continue
        rules.append(Rule(stripped, SOURCE_FILE, number))
    _compile(rules, IGNORE_FILE)
    return rules


def _compile(rules: Sequence[Rule], what: str) -> pathspec.GitIgnoreSpec:
    for rule in rules:
        if len(rule.pattern) > MAX_PATTERN_LENGTH:
            raise RuleError(
                f"{rule.where()}: the pattern {echo(rule.pattern[:80])}... is longer than "
                f"{MAX_PATTERN_LENGTH} characters"
            )
        if "\x00" in rule.pattern:
            raise RuleError(f"{rule.where()}: the pattern {echo(rule.pattern)} contains NUL")
        try:
            pathspec.GitIgnoreSpec.from_lines([rule.pattern])
        except (ValueError, TypeError) as exc:  # pathspec's pattern error is a ValueError
            raise RuleError(
                f"{rule.where()}: {echo(rule.pattern)} is not a valid gitignore pattern ({exc})"
            ) from None
    return pathspec.GitIgnoreSpec.from_lines([rule.pattern for rule in rules])


@dataclass
class _Count:
    files: int = 0
    dirs: int = 0


@dataclass
class RuleSet:
    """The compiled rules of one backup, counting what each rule decided."""

    excludes: list[Rule] = field(default_factory=list)
    includes: list[Rule] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._exclude_spec = _compile(self.excludes, "the exclude rules")
        self._include_spec = _compile(self.includes, "the include rules")
        self._counts: dict[int, _Count] = {}
        self._not_included = 0
        self.excluded_files = 0
        self.excluded_dirs = 0

    @classmethod
    def build(
        cls,
        defaults: Iterable[str] = (),
        ignore_file: Iterable[Rule] = (),
        exclude: Iterable[str] = (),
        include: Iterable[str] = (),
    ) -> RuleSet:
        excludes = [
            *(Rule(pattern, SOURCE_SETTING) for pattern in defaults),
            *ignore_file,
            *(Rule(pattern, SOURCE_REQUEST) for pattern in exclude),
        ]
        return cls(excludes, [Rule(pattern, SOURCE_INCLUDE) for pattern in include])

    @property
    def empty(self) -> bool:
        return not self.excludes and not self.includes

    def _deciding_exclude(self, path: str) -> int | None:
        result = self._exclude_spec.check_file(path)
        return result.index if result.include else None

    def dir_excluded(self, rel_dir: str) -> bool:
        """True when the walk must not enter ``rel_dir`` (counted as one excluded directory)."""
        if not self.excludes:
            return False
        index = self._deciding_exclude(rel_dir.rstrip("/") + "/")
        if index is None:
            return False
        self._counts.setdefault(index, _Count()).dirs += 1
        self.excluded_dirs += 1
        return True

    def file_excluded(self, rel_path: str) -> bool:
        """True when the file is left out (counted under the rule that decided)."""
        if self.includes and not self._include_spec.match_file(rel_path):
            self._not_included += 1
            self.excluded_files += 1
            return True
        if not self.excludes:
            return False
        index = self._deciding_exclude(rel_path)
        if index is None:
            return False
        self._counts.setdefault(index, _Count()).files += 1
        self.excluded_files += 1
        return True

    def report(self) -> dict[str, Any]:
        """What the rules did: totals, and the rules that matched, most files first."""
        matched = [
            {
                "pattern": self.excludes[index].pattern,
                "source": self.excludes[index].where(),
                "files": count.files,
                "dirs": count.dirs,
            }
            for index, count in self._counts.items()
        ]
        if self._not_included:
            matched.append(
                {
                    "pattern": "(not matched by the include list)",
                    "source": SOURCE_INCLUDE,
                    "files": self._not_included,
                    "dirs": 0,
                }
            )
        matched.sort(key=lambda item: (-item["files"], -item["dirs"], item["pattern"]))
        return {
            "rulesTotal": len(self.excludes) + len(self.includes),
            "rulesMatched": len(matched),
            "excludedFiles": self.excluded_files,
            "excludedDirs": self.excluded_dirs,
            "matched": matched[:MAX_RULES_REPORTED],
        }


def empty_report() -> dict[str, Any]:
    return RuleSet().report()
