"""Coupon benchmarks: unique code generation on PostgreSQL.

- ``generate``: 1,000,000 unique codes (10 random characters) into a fresh unique pool with
  ``campaigns.coupons.services.coupon_codes_generate``: NumPy draws the codes from
  ``os.urandom`` in chunks of 250,000, each chunk is COPYed into ``campaigns_coupon`` (with
  all its indexes and foreign keys) and committed. The reference, in the same run, is what
  one would write by hand: ``secrets.token_bytes`` mapped onto the same alphabet with
  ``bytes.translate``, a Python set for uniqueness, and one COPY into a fresh table with a
  primary key and a unique index on the code.

Checks (the run stops if one fails), for the product and the reference: exactly N rows,
N distinct codes, every code of the pool's length and alphabet. Every run starts from an
empty pool (the previous run's codes are deleted and the table vacuumed, untimed). The
suite needs no customer data: ``bench/run.py --suite coupons`` works on any database.
The bench pools, their codes and the reference table are removed afterwards.
"""

import secrets

from django.db import connection, transaction
from django.utils import timezone

from bench.harness import Measurement, percentile, suite_run, timed, vacuum

CODES = 1_000_000
LENGTH = 10
REPEAT = 3
TARGET = "≤ 20 s"
REFERENCE_TABLE = "bench_coupon_reference"
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
PATTERN = f"^[2-9A-HJ-NP-Z]{{{LENGTH}}}$"


def _one(statement: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchone()


def _check(table: str, where: str, params: list) -> None:
    total, distinct, shaped = _one(
        f"SELECT count(*), count(DISTINCT code), count(*) FILTER (WHERE code ~ %s) FROM {table} WHERE {where}",
        [PATTERN, *params],
    )
    if not total == distinct == shaped == CODES:
        raise SystemExit(f"{table}: {total:,} codes, {distinct:,} distinct, {shaped:,} well formed; wanted {CODES:,}")


class _Product:
    """A fresh pool per run; the previous run's pool and codes are removed first."""

    def __init__(self) -> None:
        self.pool_id: int | None = None

    def clean(self) -> None:
        from campaigns.models import CouponPool

        if self.pool_id is not None:
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM campaigns_coupon WHERE pool_id = %s", [self.pool_id])
            CouponPool.objects.filter(pk=self.pool_id).delete()
            self.pool_id = None
            vacuum("campaigns_coupon")

    def setup(self) -> None:
        from campaigns.coupons.services import coupon_pool_create

        self.clean()
        pool = coupon_pool_create(
            name="bench: 1M unique codes", kind="unique", discount_kind="percent", discount_value=10, code_length=LENGTH
        )
        self.pool_id = pool.pk

    def run(self) -> None:
        from campaigns.coupons.services import coupon_codes_generate

        made = coupon_codes_generate(pool_id=self.pool_id, count=CODES)
        if made != CODES:
            raise SystemExit(f"coupon_codes_generate made {made:,} codes, not {CODES:,}")

    def check(self) -> None:
        _check("campaigns_coupon", "pool_id = %s", [self.pool_id])


_TRANSLATE = bytes.maketrans(bytes(range(256)), bytes(ord(ALPHABET[b & 31]) for b in range(256)))


def reference_setup() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {REFERENCE_TABLE}")
        cursor.execute(
            f"CREATE TABLE {REFERENCE_TABLE} (id bigserial PRIMARY KEY, pool_id integer NOT NULL, "
            "code varchar(64) NOT NULL UNIQUE, created_at timestamptz NOT NULL)"
        )


def reference_generate() -> None:
    """The hand-written way: random bytes → alphabet, a set, one COPY."""
    codes: set[bytes] = set()
    while len(codes) < CODES:
        raw = secrets.token_bytes((CODES - len(codes)) * LENGTH).translate(_TRANSLATE)
        codes.update(raw[i : i + LENGTH] for i in range(0, len(raw), LENGTH))
    stamp = timezone.now().isoformat().encode()
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {REFERENCE_TABLE} (pool_id, code, created_at) FROM STDIN") as copy,
    ):
        copy.write(b"".join(b"1\t" + code + b"\t" + stamp + b"\n" for code in codes))


def bench_generate(repeat: int = REPEAT) -> list[Measurement]:
    product = _Product()
    product_seconds, reference_seconds = [], []
    try:
        for _ in range(repeat):  # interleaved, so both see the same machine load
            product_seconds += timed(product.run, 1, setup=product.setup)
            product.check()
            reference_seconds += timed(reference_generate, 1, setup=reference_setup)
            _check(REFERENCE_TABLE, "true", [])
    finally:
        product.clean()
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {REFERENCE_TABLE}")
    indexes = _one(
        "SELECT string_agg(indexname, ', ' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'campaigns_coupon'"
    )[0]
    pairs = ", ".join(f"{p:.1f} / {r:.1f}" for p, r in zip(product_seconds, reference_seconds, strict=True))
    notes = (
        f"{CODES:,} codes of {LENGTH} characters per run, {repeat} runs each, interleaved; product: NumPy codes from "
        f"os.urandom, COPY in chunks of 250,000 into campaigns_coupon (indexes: {indexes}; foreign keys to pool, "
        f"customer and message), a commit per chunk; reference: secrets.token_bytes + bytes.translate, a Python set, "
        f"one COPY into a table with a primary key and a unique code index; every run checked: {CODES:,} distinct "
        f"codes of the alphabet; reference p95 {percentile(reference_seconds, 95):,.1f} s; runs (product / "
        f"reference, s): {pairs}"
    )
    return [
        Measurement(
            name=f"generate {CODES:,} unique coupon codes (coupon_codes_generate)",
            target=TARGET,
            product_seconds=product_seconds,
            reference_seconds=reference_seconds,
            items=CODES,
            unit="codes",
            notes=notes,
        )
    ]


BENCHES = {"generate": bench_generate}


def run(context: dict, only: list[str] | None = None) -> None:
    suite_run("coupons", BENCHES, context, only)
