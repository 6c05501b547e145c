"""Random coupon codes, made in bulk with NumPy (no Django models here).

A code is an optional prefix followed by ``length`` symbols of ALPHABET: digits and upper
case letters without the look-alikes 0/O and 1/I, so a code read aloud or typed from a
printout still works. The alphabet has 32 symbols, so the low five bits of a random byte
pick a symbol with no bias; the bytes come from the operating system's CSPRNG
(``os.urandom``), so codes cannot be predicted from codes seen before.

Codes are returned as a NumPy array of fixed-width byte strings (``dtype "S<width>"``),
sorted and without duplicates, which the services copy into the database as they are.
"""

import os
import re
from collections.abc import Callable

import numpy as np

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
MIN_LENGTH = 6
MAX_LENGTH = 32
MAX_PREFIX = 16
KEY_SYMBOLS = 12  # 60 bits: fits a uint64
CODE_CHARS = re.compile(r"^[A-Z0-9][A-Z0-9_-]*$")

_SYMBOLS = np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)
assert len(_SYMBOLS) == 32  # byte & 31 must cover the alphabet exactly (no modulo bias)

RandomBytes = Callable[[int], bytes]


def code_normalise(text: str) -> str:
    """The form codes are stored and matched in: trimmed, upper case."""
    return (text or "").strip().upper()


def prefix_valid(prefix: str) -> bool:
    """A prefix is empty, or up to MAX_PREFIX letters, digits, '-' or '_' (ASCII)."""
    return prefix == "" or (len(prefix) <= MAX_PREFIX and bool(CODE_CHARS.match(prefix)) and prefix.isascii())


def _keys(values: np.ndarray) -> np.ndarray:
    """Each code's first KEY_SYMBOLS symbols as one integer (5 bits each, first symbol most
    significant), so that integer order is the codes' order (ALPHABET is in ASCII order)."""
    keys = np.zeros(len(values), dtype=np.uint64)
    for column in range(min(values.shape[1], KEY_SYMBOLS)):  # a loop over positions, not codes
        keys = (keys << np.uint64(5)) | values[:, column].astype(np.uint64)
    return keys


def codes_random(
    count: int, *, length: int = 10, prefix: str = "", random_bytes: RandomBytes = os.urandom
) -> np.ndarray:
    """``count`` distinct random codes, ``prefix`` + ``length`` symbols each, in order.

    Made a batch at a time: one call to the random source for all codes, duplicates
    dropped by their integer key (codes longer than KEY_SYMBOLS are told apart by their
    first KEY_SYMBOLS symbols, which can only drop a code too many, never keep a duplicate),
    and a further round for the few dropped."""
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        raise ValueError(f"code length must be {MIN_LENGTH}..{MAX_LENGTH}, got {length}")
    if not prefix_valid(prefix):
        raise ValueError(f"invalid code prefix {prefix!r}")
    values = np.empty((0, length), dtype=np.uint8)
    while len(values) < count:
        missing = count - len(values)
        drawn = (np.frombuffer(random_bytes(missing * length), dtype=np.uint8) & 31).reshape(missing, length)
        values = np.concatenate([values, drawn]) if len(values) else drawn
        _, first = np.unique(_keys(values), return_index=True)
        values = values[first]
    width = len(prefix) + length
    rows = np.empty((count, width), dtype=np.uint8)
    rows[:, : len(prefix)] = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    rows[:, len(prefix) :] = _SYMBOLS[values]
    return rows.view(f"S{width}").ravel()


def codes_copy_text(codes: np.ndarray, *, before: bytes = b"", after: bytes = b"") -> bytes:
    """The codes one per line (PostgreSQL COPY text format), each line ``before`` + code +
    ``after`` (other columns, tab-separated). Built without a Python loop: every line has
    the same width, so the constant columns are set once and the bytes taken."""
    width = codes.dtype.itemsize
    line = len(before) + width + len(after) + 1
    rows = np.empty((len(codes), line), dtype=np.uint8)
    rows[:, : len(before)] = np.frombuffer(before, dtype=np.uint8)
    rows[:, len(before) : len(before) + width] = codes.view(np.uint8).reshape(len(codes), width)
    rows[:, len(before) + width : -1] = np.frombuffer(after, dtype=np.uint8)
    rows[:, -1] = ord("\n")
    return rows.tobytes()
