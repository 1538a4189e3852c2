"""What the bank-file parser tests share: files damaged at random, and statements compared without their
line numbers."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import strategies as st

from billops.payments.statements.parsed import ParsedStatement, StatementRejected


def damaged(good: bytes) -> st.SearchStrategy[bytes]:
    """The file with a few characters replaced, removed or added, as a bad transfer or a hand edit does."""
    edits = st.tuples(
        st.sampled_from(["replace", "remove", "add"]),
        st.integers(0, len(good) - 1),
        st.sampled_from(list(b"0123456789,/:?+-CDRNTZSV \r\n{}.A")),
    )

    def apply(changes: list[tuple[str, int, int]]) -> bytes:
        data = bytearray(good)
        for change, at, byte in changes:
            at = min(at, len(data) - 1)
            if change == "replace":
                data[at] = byte
            elif change == "remove":
                del data[at]
            else:
                data.insert(at, byte)
        return bytes(data)

    return st.lists(edits, min_size=1, max_size=4).map(apply)


def refused_with_its_line(error: StatementRejected) -> bool:
    # only problems of a whole statement or file have no line
    return error.line is not None or "out of balance" in error.message or error.message == "the file is empty"


def without_line_numbers(statements: list[ParsedStatement]) -> list[ParsedStatement]:
    return [replace(s, lines=[replace(line, line=0) for line in s.lines]) for s in statements]
