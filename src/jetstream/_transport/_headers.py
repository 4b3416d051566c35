"""NATS message headers: case-insensitive, multi-valued, in their original order."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TypeVar, overload

_PREFIX = b"NATS/1.0"
_T = TypeVar("_T")


class MultiValueDict(dict[str, str]):
    """A plain header dict (first value per name, as nats-py expects) that also remembers every
    (name, value) pair. nats-py serialises headers through ``.items()``, so repeats are sent too."""

    __slots__ = ("pairs",)

    def __init__(self, first: Mapping[str, str], pairs: list[tuple[str, str]]) -> None:
        super().__init__(first)
        self.pairs = pairs

    def items(self) -> Iterator[tuple[str, str]]:  # type: ignore[override]
        return iter(self.pairs)


class Headers(Mapping[str, str]):
    """Read-only, case-insensitive headers. ``h["X"]`` / ``h.get("x")`` give the first value,
    ``h.get_all("x")`` every value; iteration yields each name once, as first spelled."""

    __slots__ = ("_index", "_items")

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: list[tuple[str, str]] = list(items)
        self._index: dict[str, list[str]] | None = None

    @classmethod
    def parse(cls, raw: bytes) -> Headers:
        """Headers from the raw NATS form ``NATS/1.0[ status]\\r\\nName: value\\r\\n...\\r\\n\\r\\n``
        (as in `StoredMessage.hdrs`). A status line becomes ``Status`` and ``Description``."""
        if not raw:
            return cls()
        lines = raw.decode("utf-8", "replace").split("\r\n")
        items: list[tuple[str, str]] = []
        first = lines[0]
        if first.startswith(_PREFIX.decode()):
            status = first[len(_PREFIX) :].strip()
            if status:
                code, _, description = status.partition(" ")
                items.append(("Status", code))
                if description:
                    items.append(("Description", description))
        for line in lines[1:]:
            if not line:
                continue
            name, sep, value = line.partition(":")
            if sep:
                items.append((name.strip(), value.strip()))
        return cls(items)

    @classmethod
    def of(cls, mapping: Mapping[str, str | list[str]] | None) -> Headers:
        """Headers from a mapping whose values are a string or a list of strings."""
        if not mapping:
            return cls()
        if isinstance(mapping, MultiValueDict):
            return cls(mapping.pairs)
        if isinstance(mapping, Headers):
            return cls(mapping.items_all())
        items: list[tuple[str, str]] = []
        for name, value in mapping.items():
            if isinstance(value, str):
                items.append((name, value))
            else:
                items.extend((name, v) for v in value)
        return cls(items)

    def _lookup(self) -> dict[str, list[str]]:
        index = self._index
        if index is None:
            index = {}
            for name, value in self._items:
                index.setdefault(name.lower(), []).append(value)
            self._index = index
        return index

    def __getitem__(self, name: str) -> str:
        return self._lookup()[name.lower()][0]

    @overload
    def get(self, name: str, /) -> str | None: ...
    @overload
    def get(self, name: str, default: str, /) -> str: ...
    @overload
    def get(self, name: str, default: _T, /) -> str | _T: ...

    def get(self, name: str, default: object = None, /) -> object:
        """The first value of header `name` (any case), or `default`."""
        values = self._lookup().get(name.lower())
        return values[0] if values else default

    def get_all(self, name: str) -> list[str]:
        """Every value of header ``name`` (case-insensitive), in order; empty when it is absent."""
        return list(self._lookup().get(name.lower(), ()))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._lookup()

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for name, _ in self._items:
            key = name.lower()
            if key not in seen:
                seen.add(key)
                yield name

    def __len__(self) -> int:
        return len(self._lookup())

    def items_all(self) -> list[tuple[str, str]]:
        """Every (name, value) pair, repeated names included, in order."""
        return list(self._items)

    def to_dict(self) -> dict[str, str]:
        """A dict for nats-py's ``headers=``: first value per name, every pair still sent."""
        first: dict[str, str] = {}
        for name, value in self._items:
            first.setdefault(name, value)
        return MultiValueDict(first, list(self._items)) if len(first) < len(self._items) else first

    def encode(self) -> bytes:
        """The raw NATS form (without a status line)."""
        body = "".join(f"{name}: {value}\r\n" for name, value in self._items)
        return f"NATS/1.0\r\n{body}\r\n".encode()

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self._lookup() == other._lookup()
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]
