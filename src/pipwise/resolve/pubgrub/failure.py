"""Explanations of failed solves: the derivation graph linearised into numbered lines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic

from .incompatibility import (
    PLAIN,
    Conflict,
    DependsOn,
    Describer,
    ExternalCause,
    Incompatibility,
    NoVersions,
    Requested,
    UnavailableVersion,
    describe,
    describe_pair,
)
from .term import K, Term

__all__ = ["Explanation", "Line", "SolverFailure", "explain", "fact_to_json"]


@dataclass(frozen=True, slots=True)
class Line(Generic[K]):
    """One sentence of an explanation, with what it refers to.

    `facts` are the external facts the sentence cites (requirements, dependency edges
    with their specifier labels, missing or unavailable versions); `refs` are the
    numbers of earlier lines it relies on; `terms` are the terms of the conclusion it
    reaches (empty for the final "cannot be satisfied").
    """

    text: str
    number: int | None = None
    refs: tuple[int, ...] = ()
    facts: tuple[ExternalCause[K], ...] = ()
    terms: tuple[Term[K], ...] = ()
    #: True when the line starts a new chain of reasoning (shown after a blank line).
    new_paragraph: bool = False

    @property
    def edges(self) -> tuple[DependsOn[K], ...]:
        """The dependency edges the line cites."""
        return tuple(fact for fact in self.facts if isinstance(fact, DependsOn))

    @property
    def packages(self) -> tuple[K, ...]:
        """Every package the line mentions, in order of first mention."""
        seen: dict[K, None] = {}
        for fact in self.facts:
            if isinstance(fact, DependsOn):
                seen.setdefault(fact.depender)
            seen.setdefault(fact.package)
        for term in self.terms:
            seen.setdefault(term.package)
        return tuple(seen)

    def to_json(self) -> dict[str, Any]:
        """The line as JSON-ready data (packages are written with ``str``)."""
        return {
            "text": self.text,
            "number": self.number,
            "refs": list(self.refs),
            "facts": [fact_to_json(fact) for fact in self.facts],
            "terms": [
                {
                    "package": str(term.package),
                    "versions": str(term.versions),
                    "matching": [str(version) for version in term.versions],
                    "positive": term.positive,
                }
                for term in self.terms
            ],
            "new_paragraph": self.new_paragraph,
        }


@dataclass(frozen=True, slots=True)
class Explanation(Generic[K]):
    """Why a request cannot be satisfied, as data and as text (`render`)."""

    lines: tuple[Line[K], ...]

    @property
    def facts(self) -> tuple[ExternalCause[K], ...]:
        """Every external fact cited, in order, without repeats."""
        seen: dict[ExternalCause[K], None] = {}
        for line in self.lines:
            for fact in line.facts:
                seen.setdefault(fact)
        return tuple(seen)

    @property
    def packages(self) -> tuple[K, ...]:
        """Every package mentioned, in order of first mention."""
        seen: dict[K, None] = {}
        for line in self.lines:
            for package in line.packages:
                seen.setdefault(package)
        return tuple(seen)

    def to_json(self) -> list[dict[str, Any]]:
        """The lines as JSON-ready data."""
        return [line.to_json() for line in self.lines]

    def render(self) -> str:
        """Plain text: one sentence a line, ``(n)`` before lines referred to later."""
        numbers = [line.number for line in self.lines if line.number is not None]
        width = len(f"({max(numbers)}) ") if numbers else 0
        out: list[str] = []
        for line in self.lines:
            if line.new_paragraph and out:
                out.append("")
            prefix = f"({line.number})" if line.number is not None else ""
            out.append(prefix.ljust(width) + line.text)
        return "\n".join(out)

    def __str__(self) -> str:
        return self.render()


#: Each external fact's ``kind`` in JSON, and the attributes written for it.
_JSON_FIELDS: dict[type, tuple[str, tuple[str, ...]]] = {
    Requested: ("requested", ("package", "versions", "label")),
    DependsOn: ("depends-on", ("depender", "depender_version", "package", "versions", "label")),
    NoVersions: ("no-versions", ("package", "versions", "not_found")),
    UnavailableVersion: ("unavailable", ("package", "version", "reason")),
}


def fact_to_json(fact: ExternalCause[K]) -> dict[str, Any]:
    """An external fact as JSON-ready data, with a ``kind`` telling which fact it is
    (packages, versions and version sets are written with ``str``)."""
    kind, names = _JSON_FIELDS[type(fact)]
    data: dict[str, Any] = {"kind": kind}
    for name in names:
        value = getattr(fact, name)
        data[name] = value if value is None or isinstance(value, (bool, str)) else str(value)
    return data


class SolverFailure(Exception, Generic[K]):
    """No selection satisfies the request; `explanation` says why."""

    def __init__(self, incompatibility: Incompatibility[K]) -> None:
        self.incompatibility = incompatibility
        self.explanation: Explanation[K] = explain(incompatibility)
        super().__init__(self.explanation.render())


def explain(incompatibility: Incompatibility[K], describer: Describer[K] = PLAIN) -> Explanation[K]:
    """Linearise the derivation graph of `incompatibility` (normally the empty one), in
    the words of `describer`.

    This is the algorithm of pub's ``doc/solver.md``, "Error Reporting": a depth-first
    walk writing one line per derived incompatibility, numbering only the lines that
    are referred to again, and collapsing linear chains.
    """
    return _Writer(incompatibility, describer).write()


class _Writer(Generic[K]):
    def __init__(self, root: Incompatibility[K], describer: Describer[K]) -> None:
        self._root = root
        self._describer = describer
        self._derivations: dict[Incompatibility[K], int] = {}
        self._numbers: dict[Incompatibility[K], int] = {}
        self._lines: list[Line[K]] = []
        self._paragraph = False

    def write(self) -> Explanation[K]:
        root = self._root
        if not isinstance(root.cause, Conflict):
            text = f"Because {self._describe(root)}, the request cannot be satisfied."
            return Explanation((Line(text, facts=(root.cause,), terms=root.terms),))
        self._count(root)
        self._visit(root)
        return Explanation(tuple(self._lines))

    def _count(self, root: Incompatibility[K]) -> None:
        # Iterative, so that long derivation chains do not hit the recursion limit.
        stack = [root]
        while stack:
            incompatibility = stack.pop()
            seen = self._derivations.get(incompatibility)
            self._derivations[incompatibility] = 1 if seen is None else seen + 1
            cause = incompatibility.cause
            if seen is None and isinstance(cause, Conflict):
                stack.append(cause.other)
                stack.append(cause.conflict)

    def _visit(self, incompatibility: Incompatibility[K], *, conclusion: bool = False) -> None:
        numbered = conclusion or self._derivations[incompatibility] > 1
        conjunction = "So," if conclusion or incompatibility is self._root else "And"
        statement = self._describe(incompatibility)
        cause = incompatibility.cause
        assert isinstance(cause, Conflict)
        first, second = cause.conflict, cause.other
        first_derived = isinstance(first.cause, Conflict)
        second_derived = isinstance(second.cause, Conflict)

        def write(text: str, *mentioned: Incompatibility[K]) -> None:
            self._write(incompatibility, text, numbered, mentioned)

        if first_derived and second_derived:
            first_line = self._numbers.get(first)
            second_line = self._numbers.get(second)
            if first_line is not None and second_line is not None:
                pair = self._pair(first, second, first_line, second_line)
                write(f"Because {pair}, {statement}.", first, second)
            elif first_line is not None or second_line is not None:
                with_line, without_line = (
                    (first, second) if first_line is not None else (second, first)
                )
                self._visit(without_line)
                line = self._numbers[with_line]
                write(
                    f"{conjunction} because {self._describe(with_line)} ({line}), {statement}.",
                    with_line,
                )
            else:
                first_simple = self._single_line(first)
                second_simple = self._single_line(second)
                if first_simple or second_simple:
                    # The simple one takes one line, so the complex one needs no number.
                    complex_, simple = (first, second) if second_simple else (second, first)
                    self._visit(complex_)
                    self._visit(simple)
                    write(f"Thus, {statement}.")
                else:
                    self._visit(first, conclusion=True)
                    self._paragraph = True
                    self._visit(second)
                    line = self._numbers[first]
                    write(
                        f"{conjunction} because {self._describe(first)} ({line}), {statement}.",
                        first,
                    )
        elif first_derived or second_derived:
            derived, external = (first, second) if first_derived else (second, first)
            derived_line = self._numbers.get(derived)
            if derived_line is not None:
                pair = self._pair(external, derived, None, derived_line)
                write(f"Because {pair}, {statement}.", external, derived)
            elif self._collapsible(derived):
                inner = derived.cause
                assert isinstance(inner, Conflict)
                if isinstance(inner.conflict.cause, Conflict):
                    inner_derived, inner_external = inner.conflict, inner.other
                else:
                    inner_derived, inner_external = inner.other, inner.conflict
                self._visit(inner_derived)
                pair = self._pair(inner_external, external)
                write(f"{conjunction} because {pair}, {statement}.", inner_external, external)
            else:
                self._visit(derived)
                write(f"{conjunction} because {self._describe(external)}, {statement}.", external)
        else:
            pair = self._pair(first, second)
            write(f"Because {pair}, {statement}.", first, second)

    def _describe(self, incompatibility: Incompatibility[K]) -> str:
        return describe(incompatibility, self._describer)

    def _pair(
        self,
        first: Incompatibility[K],
        second: Incompatibility[K],
        first_line: int | None = None,
        second_line: int | None = None,
    ) -> str:
        return describe_pair(first, second, first_line, second_line, self._describer)

    def _single_line(self, incompatibility: Incompatibility[K]) -> bool:
        """True when both causes are external, so one line explains it."""
        cause = incompatibility.cause
        assert isinstance(cause, Conflict)
        return not cause.conflict.is_derived and not cause.other.is_derived

    def _collapsible(self, incompatibility: Incompatibility[K]) -> bool:
        """True when a derived incompatibility can be skipped in a linear chain."""
        if self._derivations[incompatibility] > 1:
            return False
        cause = incompatibility.cause
        assert isinstance(cause, Conflict)
        if cause.conflict.is_derived == cause.other.is_derived:
            return False
        complex_ = cause.conflict if cause.conflict.is_derived else cause.other
        return complex_ not in self._numbers

    def _write(
        self,
        incompatibility: Incompatibility[K],
        text: str,
        numbered: bool,
        mentioned: tuple[Incompatibility[K], ...],
    ) -> None:
        facts: list[ExternalCause[K]] = []
        refs: list[int] = []
        for other in mentioned:
            if isinstance(other.cause, Conflict):
                number = self._numbers.get(other)
                if number is not None:
                    refs.append(number)
            else:
                facts.append(other.cause)
        number = None
        if numbered:
            number = len(self._numbers) + 1
            self._numbers[incompatibility] = number
        self._lines.append(
            Line(
                text,
                number=number,
                refs=tuple(refs),
                facts=tuple(facts),
                terms=incompatibility.terms,
                new_paragraph=self._paragraph,
            )
        )
        self._paragraph = False
