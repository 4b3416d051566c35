"""Problems found in the input, collected and reported together."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    file: str
    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}#{self.pointer}: {self.message}"


class InputError(Exception):
    """Raised once, at the end of a stage, with every problem that stage found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{len(problems)} problem(s) in the codegen input:\n{lines}")


@dataclass
class Problems:
    items: list[Problem] = field(default_factory=list)

    def add(self, file: str, pointer: str, message: str) -> None:
        self.items.append(Problem(file, pointer, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise InputError(self.items)
