"""Parse Terraform files with python-hcl2 into one small, format-independent model.

Two libraries install the same `hcl2` module: python-hcl2 (>= 7: string literals keep
their quotes, blocks carry `__is_block__`) and bc-python-hcl2, which checkov depends
on (every attribute wrapped in a one-element list). Whichever was installed last wins,
so this module reads both and hands the tests the same `Block` tree either way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import hcl2

# Keys the parsers add that are not part of the configuration.
_MARKERS = {"__is_block__", "__start_line__", "__end_line__", "__comments__", "__inline_comments__"}

# Arguments every resource, data source or module block may have, whatever its schema.
META_ARGUMENTS = {"count", "for_each", "depends_on", "provider", "lifecycle", "provisioner", "connection"}


@dataclass
class Block:
    """One HCL block: `type "label" ... { attrs; nested blocks }`."""

    type: str
    labels: tuple[str, ...] = ()
    attrs: dict[str, Any] = field(default_factory=dict)
    blocks: list["Block"] = field(default_factory=list)
    file: Path | None = None
    dynamic: bool = False  # produced by a `dynamic "<type>" { content { ... } }` block
    for_each: Any = None  # that dynamic block's for_each expression, as written

    def children(self, type_: str) -> list["Block"]:
        return [b for b in self.blocks if b.type == type_]

    def child(self, type_: str) -> "Block":
        found = self.children(type_)
        assert len(found) == 1, f"expected exactly one {type_!r} block in {self.describe()}, found {len(found)}"
        return found[0]

    def describe(self) -> str:
        where = f" ({self.file})" if self.file else ""
        return " ".join([self.type, *(f'"{label}"' for label in self.labels)]) + where


def _is_new_format(raw: Any) -> bool:
    if isinstance(raw, dict):
        return "__is_block__" in raw or any(_is_new_format(v) for v in raw.values())
    if isinstance(raw, list):
        return any(_is_new_format(v) for v in raw)
    return False


def _unquote(value: Any) -> Any:
    """python-hcl2 >= 7 keeps the quotes of string literals: '"email"' -> 'email'."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if isinstance(value, list):
        return [_unquote(v) for v in value]
    if isinstance(value, dict):
        return {_unquote(k): _unquote(v) for k, v in value.items() if k not in _MARKERS}
    return value


class _Reader:
    def __init__(self, new_format: bool, file: Path):
        self.new = new_format
        self.file = file

    # -- classification ---------------------------------------------------------------
    def _looks_like_body(self, d: Any) -> bool:
        if not isinstance(d, dict):
            return False
        if self.new:
            return d.get("__is_block__") is True
        return all(isinstance(v, list) or k in _MARKERS for k, v in d.items())

    def _labelled(self, d: Any) -> tuple[str, dict] | None:
        """`{"label": {body}}`: the shape of a labelled nested block such as dynamic."""
        if isinstance(d, dict):
            keys = [k for k in d if k not in _MARKERS]
            if len(keys) == 1 and self._looks_like_body(d[keys[0]]):
                return _unquote(keys[0]), d[keys[0]]
        return None

    # -- conversion --------------------------------------------------------------------
    def body(self, type_: str, labels: tuple[str, ...], raw: dict) -> Block:
        block = Block(type=type_, labels=labels, file=self.file)
        for key, value in raw.items():
            if key in _MARKERS:
                continue
            name = _unquote(key)
            if name == "dynamic" and isinstance(value, list):
                for item in value:
                    lab = self._labelled(item)
                    assert lab, f"unreadable dynamic block in {block.describe()}"
                    dyn_type, dyn_body = lab
                    dyn = self.body("dynamic", (dyn_type,), dyn_body)
                    contents = dyn.children("content")
                    content = contents[0] if contents else Block(type="content", file=self.file)
                    block.blocks.append(
                        Block(
                            type=dyn_type,
                            attrs=content.attrs,
                            blocks=content.blocks,
                            file=self.file,
                            dynamic=True,
                            for_each=dyn.attrs.get("for_each"),
                        )
                    )
                continue
            if isinstance(value, list) and value and all(self._looks_like_body(v) for v in value):
                for item in value:
                    block.blocks.append(self.body(name, (), item))
                continue
            if isinstance(value, list) and value and all(self._labelled(v) for v in value):
                # labelled nested blocks other than dynamic (rare in resources)
                for item in value:
                    label, sub = self._labelled(item)
                    block.blocks.append(self.body(name, (label,), sub))
                continue
            if self.new:
                block.attrs[name] = _unquote(value)
            else:
                assert isinstance(value, list) and len(value) == 1, (
                    f"unexpected attribute shape for {name!r} in {block.describe()}: {value!r}"
                )
                block.attrs[name] = value[0]
        return block

    def top(self, raw: dict) -> list[Block]:
        out: list[Block] = []
        label_counts = {"resource": 2, "data": 2, "variable": 1, "output": 1, "provider": 1, "module": 1}
        for kind, entries in raw.items():
            if kind in _MARKERS:
                continue
            for entry in entries:
                if kind in label_counts:
                    out.extend(self._labelled_top(kind, label_counts[kind], entry, ()))
                else:  # terraform, locals, moved, import, check ...
                    out.append(self.body(kind, (), entry))
        return out

    def _labelled_top(self, kind: str, depth: int, entry: dict, labels: tuple[str, ...]) -> Iterator[Block]:
        for key, value in entry.items():
            if key in _MARKERS:
                continue
            here = labels + (_unquote(key),)
            if depth == 1:
                yield self.body(kind, here, value)
            else:
                yield from self._labelled_top(kind, depth - 1, value, here)


def load_file(path: Path) -> list[Block]:
    raw = hcl2.loads(path.read_text())
    return _Reader(_is_new_format(raw), path).top(raw)


@dataclass
class Config:
    """Every top-level block of the .tf files in one directory (a Terraform module)."""

    directory: Path
    blocks: list[Block]

    def of(self, kind: str) -> list[Block]:
        return [b for b in self.blocks if b.type == kind]

    def resources(self, type_: str | None = None) -> list[Block]:
        return [b for b in self.of("resource") if type_ is None or b.labels[0] == type_]

    def data(self, type_: str | None = None) -> list[Block]:
        return [b for b in self.of("data") if type_ is None or b.labels[0] == type_]

    def resource(self, type_: str, name: str) -> Block:
        found = [b for b in self.resources(type_) if b.labels[1] == name]
        assert len(found) == 1, f"{type_}.{name} not found exactly once in {self.directory}"
        return found[0]

    def datum(self, type_: str, name: str) -> Block:
        found = [b for b in self.data(type_) if b.labels[1] == name]
        assert len(found) == 1, f"data.{type_}.{name} not found exactly once in {self.directory}"
        return found[0]

    def variables(self) -> dict[str, Block]:
        return {b.labels[0]: b for b in self.of("variable")}

    def locals(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for b in self.of("locals"):
            out.update(b.attrs)
        return out

    def modules(self) -> dict[str, Block]:
        return {b.labels[0]: b for b in self.of("module")}


def load_dir(directory: Path) -> Config:
    blocks: list[Block] = []
    for path in sorted(directory.glob("*.tf")):
        blocks.extend(load_file(path))
    return Config(directory, blocks)


_REF = re.compile(r"\$\{(var|local)\.([A-Za-z0-9_-]+)\}")


def substitute(value: Any, bindings: dict[str, dict[str, Any]], rounds: int = 10) -> Any:
    """Replace `${var.x}` and `${local.x}` by their bound string values, repeatedly.

    Only plain references are replaced; anything else (functions, conditionals) stays
    as written, so a test comparing the result with a literal fails loudly on it.
    """
    if isinstance(value, list):
        return [substitute(v, bindings, rounds) for v in value]
    if not isinstance(value, str):
        return value
    for _ in range(rounds):
        def repl(m: re.Match) -> str:
            bound = bindings.get(m.group(1), {}).get(m.group(2))
            return bound if isinstance(bound, str) else m.group(0)

        new = _REF.sub(repl, value)
        if new == value:
            break
        value = new
    return value


def unwrap_ref(value: Any) -> str | None:
    """'${aws_s3_bucket.avatars.arn}' -> 'aws_s3_bucket.avatars.arn' (a whole-value reference)."""
    if isinstance(value, str):
        m = re.fullmatch(r"\$\{([^${}]+)\}", value)
        if m:
            return m.group(1).strip()
    return None
