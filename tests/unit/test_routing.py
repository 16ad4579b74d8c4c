from __future__ import annotations

import pytest

from switchboard.domain.routing import RoutingTable, UnknownCarrier


def table() -> RoutingTable:
    return RoutingTable(
        default="sandbox",
        by_sender={"+12025550142": "acme", "MyBrand": "euro"},
        by_prefix={"+44": "uk", "+447": "uk-mobile", "+1": "acme"},
    )


@pytest.mark.parametrize(
    ("sender", "destination", "carrier"),
    [
        ("+12025550142", "+447911123456", "acme"),  # sender route wins over prefixes
        ("MyBrand", "+13125550100", "euro"),
        ("+18445550142", "+447911123456", "uk-mobile"),  # longest prefix
        ("+18445550142", "+442079460000", "uk"),
        ("+18445550142", "+13125550100", "acme"),
        ("+18445550142", "+33612345678", "sandbox"),  # default
    ],
)
def test_carrier_for(sender: str, destination: str, carrier: str) -> None:
    assert table().carrier_for(sender, destination) == carrier


def test_check_names_unknown_carriers() -> None:
    table().check({"sandbox", "acme", "euro", "uk", "uk-mobile"})
    with pytest.raises(UnknownCarrier, match="uk-mobile"):
        table().check({"sandbox", "acme", "euro", "uk"})
