"""Code generation without the database: alphabet, length, prefix, uniqueness, randomness."""

import itertools

import numpy as np
import pytest

from campaigns.coupons.codes import ALPHABET, codes_copy_text, codes_random

AMBIGUOUS = set("01IO")  # digit 0 and 1 against the letters O and I


def as_text(codes) -> list[str]:
    return [code.decode("ascii") for code in codes.tolist()]


def test_alphabet_has_32_unambiguous_symbols_in_ascii_order():
    assert len(ALPHABET) == len(set(ALPHABET)) == 32
    assert not AMBIGUOUS & set(ALPHABET)
    assert list(ALPHABET) == sorted(ALPHABET)


@pytest.mark.parametrize(("length", "prefix"), [(6, ""), (10, ""), (12, "VIP-"), (20, "SPRING_"), (32, "")])
def test_codes_have_the_prefix_the_length_and_only_alphabet_symbols(length, prefix):
    codes = as_text(codes_random(5_000, length=length, prefix=prefix))
    assert len(codes) == 5_000
    assert all(code.startswith(prefix) and len(code) == len(prefix) + length for code in codes)
    assert set("".join(code[len(prefix) :] for code in codes)) <= set(ALPHABET)


def test_a_batch_has_no_duplicates_and_is_sorted():
    codes = as_text(codes_random(200_000, length=6))
    assert len(set(codes)) == len(codes)
    assert codes == sorted(codes)


def test_duplicates_drawn_by_the_random_source_are_replaced():
    """A source that repeats itself: the first round yields few distinct codes, later rounds
    top the batch up to the exact count."""
    counter = itertools.count()

    def poor_source(size: int) -> bytes:
        round_ = next(counter)
        # Round 0: every code the same; later rounds: real randomness.
        return bytes(size) if round_ == 0 else np.random.default_rng(round_).bytes(size)

    codes = as_text(codes_random(1_000, length=8, random_bytes=poor_source))
    assert len(codes) == len(set(codes)) == 1_000
    assert "22222222" in codes  # byte 0 → the first symbol


def test_symbols_are_uniform_at_every_position():
    """Chi-square of symbol counts against the uniform distribution, per position and
    overall; 61.1 is the 99.9th percentile of chi-square with 31 degrees of freedom."""
    length = 8
    codes = codes_random(64_000, length=length)
    symbols = np.frombuffer(codes.tobytes(), dtype=np.uint8).reshape(-1, length)
    for position in range(length):
        counts = np.array([(symbols[:, position] == ord(s)).sum() for s in ALPHABET])
        expected = len(codes) / 32
        chi_square = ((counts - expected) ** 2 / expected).sum()
        assert chi_square < 61.1, (position, chi_square)


def test_neighbouring_symbols_are_independent():
    """Pairs of consecutive symbols are uniform over the 1024 pairs (no structure between
    positions): chi-square with 1023 degrees of freedom stays under its 99.9th percentile."""
    codes = codes_random(100_000, length=10)
    symbols = np.frombuffer(codes.tobytes(), dtype=np.uint8).reshape(-1, 10)
    index = {ord(s): i for i, s in enumerate(ALPHABET)}
    lookup = np.zeros(256, dtype=np.int64)
    for byte, i in index.items():
        lookup[byte] = i
    pairs = lookup[symbols[:, 3]] * 32 + lookup[symbols[:, 4]]
    counts = np.bincount(pairs, minlength=1024)
    expected = len(codes) / 1024
    assert ((counts - expected) ** 2 / expected).sum() < 1168.0


def test_copy_text_is_one_code_per_line():
    codes = codes_random(3, length=6, prefix="X")
    assert codes_copy_text(codes).decode().split("\n") == [*as_text(codes), ""]


@pytest.mark.parametrize(("length", "prefix"), [(5, ""), (33, ""), (10, "bad prefix"), (10, "X" * 17)])
def test_bad_length_or_prefix_is_refused(length, prefix):
    with pytest.raises(ValueError):
        codes_random(1, length=length, prefix=prefix)
