"""Window values: percentiles count every value, zeros and negatives included."""

from __future__ import annotations

from logpipe.engine.windows import BucketValues

SECOND = 1_000_000_000


def test_p50_of_nine_zeros_and_one_hundred_is_zero() -> None:
    values = BucketValues(bucket=SECOND, quantiles=True)
    for n, value in enumerate([0.0] * 9 + [100.0]):
        values.add(n * SECOND // 10, value)
    assert values.aggregate(SECOND, SECOND, "p50") == (0.0, 10)


def test_negative_values_take_their_place_in_the_percentiles() -> None:
    values = BucketValues(bucket=SECOND, quantiles=True)
    for n, value in enumerate([-50.0, -50.0, -50.0, 10.0]):
        values.add(n, value)
    low, count = values.aggregate(SECOND, SECOND, "p50")
    assert count == 4
    assert low is not None
    assert abs(low + 50) <= 0.5
