import calendar

import pytest
from ledger.dates import day_of_year, days_in_month, is_leap


@pytest.mark.parametrize("year", range(1890, 2111))
def test_is_leap(year):
    assert is_leap(year) == calendar.isleap(year)


@pytest.mark.parametrize("month", range(1, 13))
@pytest.mark.parametrize("year", [1999, 2000, 2023, 2024])
def test_days_in_month(year, month):
    assert days_in_month(year, month) == calendar.monthrange(year, month)[1]


@pytest.mark.parametrize("day", range(1, 366, 3))
def test_day_of_year_2023(day):
    month = next(m for m in range(1, 13) if day_of_year(2023, m + 1, 1) > day) if day < 335 else 12
    first = day_of_year(2023, month, 1)
    assert 0 <= day - first < calendar.monthrange(2023, month)[1]
