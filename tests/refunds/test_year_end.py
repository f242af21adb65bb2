"""The announced programme's application window (seed 000: 12月21日-1月20日) crosses the turn of
the year 2021/2022: its days are Shenzhen days, both ends included."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine

from certhall.errors import RuleViolation
from certhall.refunds.models import Programme
from certhall.refunds.services import require_window
from certhall.rules import SHANGHAI

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("moment", "open_"),
    [
        (datetime(2021, 12, 20, 23, 59, 59, tzinfo=SHANGHAI), False),
        (datetime(2021, 12, 21, 0, 0, tzinfo=SHANGHAI), True),  # 2021-12-20 16:00 UTC
        (datetime(2021, 12, 31, 23, 59, tzinfo=SHANGHAI), True),
        (datetime(2022, 1, 1, 0, 0, tzinfo=SHANGHAI), True),  # 元旦, still 2021-12-31 in UTC
        (datetime(2022, 1, 20, 23, 59, 59, tzinfo=SHANGHAI), True),  # the last day, to its end
        (datetime(2022, 1, 21, 0, 0, 30, tzinfo=SHANGHAI), False),  # 2022-01-20 in UTC
    ],
)
def test_the_window_across_the_turn_of_the_year(
    programme: Programme, moment: datetime, open_: bool
) -> None:
    with time_machine.travel(moment, tick=False):
        if open_:
            require_window(programme)
        else:
            with pytest.raises(RuleViolation) as closed:
                require_window(programme)
            assert "2021年12月21日" in closed.value.message
            assert "2022年1月20日" in closed.value.message
