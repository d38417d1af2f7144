"""The petition domain of Doorstep: org tree, roles, rota, calendar and routing, built on `engine/`.

This module holds what every domain module shares: the layer's exception base and the reader for the
YAML data files under `workflows/data/`, which remembers line numbers so that errors say where.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).parent / "data"


class DomainError(Exception):
    """Base of every error the domain layer raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a data file: where it is and what to change."""

    source: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class DataFileError(DomainError):
    """A data file (org import, deadlines, calendar, routing) is invalid; `problems` lists every fault."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class LineDict(dict[Any, Any]):
    """A YAML mapping that remembers its own line and the line of each key."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line = 0
        self.key_lines: dict[Any, int] = {}

    def line_of(self, key: Any) -> int:
        """Return the line of `key`, or of the mapping itself when the key is absent."""
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A YAML sequence that remembers its own line and the line of each item."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line = 0
        self.item_lines: list[int] = []

    def line_of(self, index: int) -> int:
        """Return the line of item `index`."""
        return self.item_lines[index] if index < len(self.item_lines) else self.line


class ProblemLog:
    """Collects the problems found while checking one data file, then raises them together."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def add(self, line: int | None, field: str, message: str) -> None:
        """Record one problem at `line` in `field`."""
        self.problems.append(Problem(self.source, line, field, message))

    def mapping(self, value: Any, line: int | None, field: str, allowed: tuple[str, ...]) -> LineDict | None:
        """Return `value` if it is a mapping with only `allowed` keys (recording problems), else None."""
        if not isinstance(value, LineDict):
            self.add(line, field, f"expected a mapping with {', '.join(allowed)}")
            return None
        for key in value:
            if key not in allowed:
                self.add(
                    value.line_of(key),
                    _join(field, str(key)),
                    f"unknown field (expected one of {', '.join(allowed)})",
                )
        return value

    def raise_if_any(self) -> None:
        """Raise a DataFileError listing every recorded problem in line order, if there is one."""
        if self.problems:
            raise DataFileError(sorted(self.problems, key=lambda problem: problem.line or 0))


def _join(field: str, key: str) -> str:
    return f"{field}.{key}" if field else key


class _LineLoader(yaml.SafeLoader):
    """A safe loader whose mappings and sequences carry line numbers and refuse duplicate keys."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    mapping = LineDict()
    mapping.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise yaml.MarkedYAMLError(
                "while reading a mapping", node.start_mark, f"duplicate key {key!r}", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = key_node.start_mark.line + 1
    return mapping


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    items = LineList(loader.construct_object(child, deep=True) for child in node.value)
    items.line = node.start_mark.line + 1
    items.item_lines = [child.start_mark.line + 1 for child in node.value]
    return items


def _construct_timestamp(loader: _LineLoader, node: yaml.ScalarNode) -> Any:
    """Read a date or timestamp; an impossible one (2030-13-01) stays text, for the checks to report."""
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def read_data_text(text: str, source: str) -> Any:
    """Parse YAML `text` into LineDict/LineList values; syntax errors become a DataFileError."""
    try:
        return yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise DataFileError([Problem(source, line, "", f"not valid YAML: {exc.problem}")]) from exc
    except yaml.YAMLError as exc:
        raise DataFileError([Problem(source, None, "", f"not valid YAML: {exc}")]) from exc


def read_data_file(path: Path | str) -> Any:
    """Read a YAML data file with line numbers; a missing file becomes a DataFileError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataFileError([Problem(str(path), None, "", f"cannot read: {exc.strerror}")]) from exc
    return read_data_text(text, str(path))
