"""The one JSON encoder: exact decimals on the wire, a stable text form in the state store."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from twinfield.domain import exact_json
from twinfield.domain.twinfield_model import DebitCredit

VALUE = {"zeta": [Decimal("121.00"), Decimal("0.1"), Decimal("-1E+2")], "alpha": {"naïve": "Café", "n": 3},
         "when": dt.date(2026, 12, 3), "side": DebitCredit.DEBIT, "ok": True, "none": None}


def test_on_the_wire_decimals_are_numbers_digit_for_digit():
    text = exact_json.dumps(VALUE)
    assert '"zeta":[121.00,0.1,-100]' in text  # never through float (0.1 stays 0.1, trailing zeros stay)
    assert '"na\\u00efve":"Caf\\u00e9"' in text and '"when":"2026-12-03"' in text and '"side":"debit"' in text
    back = exact_json.loads(text)
    assert back["zeta"] == [Decimal("121.00"), Decimal("0.1"), Decimal("-100")]
    assert isinstance(back["zeta"][1], Decimal)


def test_the_stored_form_is_the_one_earlier_versions_hashed():
    # Documents' content hashes are taken over this text: it must stay byte for byte what it was.
    def earlier(value):
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, dt.date):
            return value.isoformat()
        return value.value

    assert exact_json.dumps(VALUE, canonical=True) == json.dumps(VALUE, default=earlier, sort_keys=True,
                                                                 ensure_ascii=False)


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity")])
def test_amounts_that_are_not_numbers_are_refused(bad):
    with pytest.raises(ValueError, match="not a finite amount"):
        exact_json.dumps({"amount": bad})
    with pytest.raises(ValueError, match="not a finite amount"):
        exact_json.dumps({"amount": bad}, canonical=True)
    with pytest.raises(ValueError, match="is not a JSON number"):
        exact_json.loads('{"amount": NaN}')
