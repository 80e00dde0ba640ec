"""New-credit settings (config_credits.py): defaults, each problem named once, the two amounts consistent."""
from decimal import Decimal

import pytest

from config import ConfigError, Settings
from tests.unit.test_config import LIVE


def test_defaults_poll_every_five_minutes_and_propose_in_the_notify_channel():
    s = Settings.from_env(LIVE, dotenv_path=None)
    assert s.qbo_cdc_poll_seconds == 300.0 and s.qbo_webhook_verifier_token == ""
    assert s.proposal_channel == "C0NOTIFY" and s.auto_apply_max == 0 and s.dual_approval_above is None


def test_set_values_and_the_verifier_token_stays_out_of_repr():
    s = Settings.from_env({**LIVE, "QBO_WEBHOOK_VERIFIER_TOKEN": "verif-secret-42", "QBO_CDC_POLL_SECONDS": "0",
                           "PROPOSALS_CHANNEL": "C0PROPOSE", "AUTO_APPLY_MAX": "25", "DUAL_APPROVAL_ABOVE": "5000.00"},
                          dotenv_path=None)
    assert s.qbo_cdc_poll_seconds == 0 and s.proposal_channel == "C0PROPOSE"
    assert s.auto_apply_max == Decimal("25") and s.dual_approval_above == Decimal("5000.00")
    assert "verif-secret-42" not in repr(s)


@pytest.mark.parametrize("env, problem", [
    ({"QBO_CDC_POLL_SECONDS": "soon"}, "QBO_CDC_POLL_SECONDS must be a number of seconds"),
    ({"QBO_CDC_POLL_SECONDS": "-1"}, "QBO_CDC_POLL_SECONDS must be 0 (off) or more"),
    ({"PROPOSALS_CHANNEL": "#credits"}, "PROPOSALS_CHANNEL must be a channel id"),
    ({"AUTO_APPLY_MAX": "$25"}, "AUTO_APPLY_MAX must be an amount like 250"),
    ({"AUTO_APPLY_MAX": "25.001"}, "AUTO_APPLY_MAX must be an amount of at least 0 with at most 2 decimals"),
    ({"DUAL_APPROVAL_ABOVE": "-5"}, "DUAL_APPROVAL_ABOVE must be an amount of at least 0"),
    ({"AUTO_APPLY_MAX": "600", "DUAL_APPROVAL_ABOVE": "500"}, "AUTO_APPLY_MAX (600) is above DUAL_APPROVAL_ABOVE"),
])
def test_each_problem_is_one_line(env, problem):
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({**LIVE, **env}, dotenv_path=None)
    assert [p for p in refused.value.problems if problem in p] and len(refused.value.problems) == 1
