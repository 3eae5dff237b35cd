"""A number from the environment, read one way by every setting (shared/core/settings.py): the
runtime's seconds (spc/runtime/config.py), the retention periods, audit's checkpoint period."""

import pytest

from spc.runtime.config import ConfigError, Settings
from spc.shared.core.settings import SettingError, positive_number
from spc.shared.sql.retention import Retention, RetentionError


@pytest.mark.parametrize("environ, expected", [({}, 7.0), ({"X": ""}, 7.0), ({"X": "60"}, 60.0), ({"X": "0.5"}, 0.5)])
def test_unset_or_empty_is_the_default_else_the_number(environ, expected):
    assert positive_number(environ, "X", 7) == expected


@pytest.mark.parametrize("raw", ["0", "-5", "soon", "nan", "inf", "-inf"])
def test_anything_but_a_finite_number_above_zero_is_refused_naming_the_variable(raw):
    with pytest.raises(SettingError, match=rf"^X must be (a number of seconds|above 0) \(got '{raw}'\)$"):
        positive_number({"X": raw}, "X", 7, "seconds")


def test_each_caller_gets_its_own_kind_of_error():
    with pytest.raises(ConfigError, match="SPC_PRUNE_SECONDS must be a number of seconds"):
        Settings("amqp://", False, {"SPC_PRUNE_SECONDS": "often"}).seconds("SPC_PRUNE_SECONDS", 600)
    with pytest.raises(RetentionError, match="SPC_INBOX_RETENTION_DAYS must be above 0"):
        Retention.from_environ({"SPC_INBOX_RETENTION_DAYS": "0"})
    assert issubclass(RetentionError, ValueError)
