"""`GET /messaging_optouts` filters and pages; auto-response config CRUD."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import telnyx
from telnyx.types import MessagingOptoutListResponse

from tests.harness import Server
from tests.receiving.conftest import Line, handset_sends, new_handset, open_line, raw

pytestmark = pytest.mark.timeout(30)


def test_optout_list_filters_and_pages(server: Server, client: telnyx.Telnyx) -> None:
    first, second = open_line(client), open_line(client)
    early = [new_handset() for _ in range(3)]
    for handset in early:
        handset_sends(client, handset, first.number, "STOP")
    time.sleep(0.05)
    middle = datetime.now(UTC)
    time.sleep(0.05)
    late = new_handset()
    handset_sends(client, late, first.number, "quit")
    handset_sends(client, late, second.number, "END")
    handset_sends(client, late, second.number, "END")  # already blocked: one rule

    page = client.messaging_optouts.list(filter={"messaging_profile_id": first.profile_id})
    items = list(page)
    assert all(isinstance(i, MessagingOptoutListResponse) for i in items)
    # Newest first.
    assert [(i.to, i.keyword) for i in items] == [
        (late, "QUIT"),
        *[(h, "STOP") for h in reversed(early)],
    ]
    assert {i.from_ for i in items} == {first.number}
    assert {i.messaging_profile_id for i in items} == {first.profile_id}

    second_only = list(
        client.messaging_optouts.list(filter={"messaging_profile_id": second.profile_id})
    )
    assert [(i.to, i.keyword) for i in second_only] == [(late, "END")]
    by_from = list(client.messaging_optouts.list(filter={"from": second.number}))
    assert [i.to for i in by_from] == [late]

    after = list(
        client.messaging_optouts.list(
            filter={"messaging_profile_id": first.profile_id}, created_at={"gte": middle}
        )
    )
    assert [i.to for i in after] == [late]
    before = list(
        client.messaging_optouts.list(
            filter={"messaging_profile_id": first.profile_id},
            created_at={"lte": middle.isoformat()},
        )
    )
    assert sorted(i.to for i in before) == sorted(early)
    nothing = client.messaging_optouts.list(
        filter={"messaging_profile_id": first.profile_id},
        created_at={"gte": datetime.now(UTC) + timedelta(days=1)},
    )
    assert nothing.data == [] and nothing.meta is not None and nothing.meta.total_pages == 0

    redacted = list(
        client.messaging_optouts.list(
            filter={"messaging_profile_id": second.profile_id}, redaction_enabled="TRUE"
        )
    )
    assert redacted[0].to == late[:2] + "*" * (len(late) - 6) + late[-4:]
    plain = client.messaging_optouts.list(
        filter={"messaging_profile_id": second.profile_id}, redaction_enabled="false"
    )
    assert plain.data[0].to == late

    # Pages of one: the SDK walks all four.
    paged = client.messaging_optouts.list(
        filter={"messaging_profile_id": first.profile_id}, page_size=1
    )
    assert paged.meta is not None
    assert (paged.meta.total_pages, paged.meta.total_results) == (4, 4)
    assert [i.to for i in paged] == [i.to for i in items]

    for params in (
        {"created_at[gte]": "last week"},
        {"redaction_enabled": "maybe"},
        {"page[size]": "251"},
    ):
        response = raw(server, "GET", "/messaging_optouts", params=params)
        assert response.status_code == 422, params
        assert response.headers["x-should-retry"] == "false"


def test_optouts_belong_to_their_account(server: Server, client: telnyx.Telnyx) -> None:
    other = server.client(server.new_account_key("optouts"))
    theirs = open_line(other)
    handset = new_handset()
    handset_sends(client, handset, theirs.number, "STOP")
    assert [i.to for i in other.messaging_optouts.list()] == [handset]
    assert handset not in [i.to for i in client.messaging_optouts.list(page_size=250)]
    mine = client.messaging_optouts.list(filter={"messaging_profile_id": theirs.profile_id})
    assert mine.data == []


def test_autoresp_config_crud(server: Server, client: telnyx.Telnyx, line: Line) -> None:
    configs = client.messaging_profiles.autoresp_configs
    empty = configs.list(line.profile_id)
    assert empty.data == []
    assert (empty.meta.page_number, empty.meta.total_pages, empty.meta.total_results) == (1, 1, 0)

    created = configs.create(
        line.profile_id,
        op="stop",
        keywords=["ARRET", "  fin "],
        country_code="FR",
        resp_text="Vous êtes désinscrit.",
    ).data
    assert created.op == "stop"
    assert created.keywords == ["ARRET", "fin"]
    assert created.country_code == "FR"
    assert created.resp_text == "Vous êtes désinscrit."
    assert created.created_at == created.updated_at

    other = configs.create(line.profile_id, op="info", keywords=["AIDE"], country_code="*").data
    assert other.resp_text is None

    fetched = configs.retrieve(created.id, profile_id=line.profile_id).data
    assert fetched == created

    listed = configs.list(line.profile_id)
    assert [c.id for c in listed.data] == [created.id, other.id]
    assert listed.meta.total_results == 2
    assert [c.id for c in configs.list(line.profile_id, country_code="FR").data] == [created.id]
    assert (
        configs.list(
            line.profile_id,
            created_at={"gte": (datetime.now(UTC) + timedelta(hours=1)).isoformat()},
        ).data
        == []
    )

    time.sleep(0.01)
    replaced = configs.update(
        created.id, profile_id=line.profile_id, op="start", keywords=["GO"], country_code="US"
    ).data
    assert (replaced.op, replaced.keywords, replaced.country_code, replaced.resp_text) == (
        "start",
        ["GO"],
        "US",
        None,  # PUT replaces: no resp_text sent, none kept
    )
    assert replaced.created_at == created.created_at
    assert replaced.updated_at > created.updated_at
    assert (
        configs.list(line.profile_id, updated_at={"gte": replaced.updated_at.isoformat()})
        .data[0]
        .id
        == created.id
    )

    assert configs.delete(created.id, profile_id=line.profile_id) == '"OK"'
    with pytest.raises(telnyx.NotFoundError):
        configs.retrieve(created.id, profile_id=line.profile_id)
    with pytest.raises(telnyx.NotFoundError):
        configs.delete(created.id, profile_id=line.profile_id)
    with pytest.raises(telnyx.NotFoundError):
        configs.list("00000000-0000-0000-0000-000000000000")
    with pytest.raises(telnyx.NotFoundError):
        configs.retrieve("not-a-uuid", profile_id=line.profile_id)

    # Another account's profile is not found, not shown.
    stranger = server.client(server.new_account_key("autoresp"))
    with pytest.raises(telnyx.NotFoundError):
        stranger.messaging_profiles.autoresp_configs.list(line.profile_id)

    path = f"/messaging_profiles/{line.profile_id}/autoresp_configs"
    for body in (
        {"op": "pause", "keywords": ["X"], "country_code": "US"},
        {"op": "stop", "keywords": [], "country_code": "US"},
        {"op": "stop", "keywords": ["  "], "country_code": "US"},
        {"op": "stop", "keywords": "STOP", "country_code": "US"},
        {"op": "stop", "keywords": ["X"], "country_code": "usa"},
        {"op": "stop", "keywords": ["X"]},
    ):
        response = raw(server, "POST", path, json=body)
        assert response.status_code == 422, (body, response.text)
    assert raw(server, "PUT", f"{path}/{other.id}", json={"op": "stop"}).status_code == 422


def test_deleting_a_profile_deletes_its_configs(server: Server, client: telnyx.Telnyx) -> None:
    profile = client.messaging_profiles.create(name="Short-lived", whitelisted_destinations=["US"])
    assert profile.data is not None and profile.data.id
    profile_id = profile.data.id
    client.messaging_profiles.autoresp_configs.create(
        profile_id, op="stop", keywords=["BYE"], country_code="US"
    )
    client.messaging_profiles.delete(profile_id)
    rows = server.query(
        "SELECT id FROM autoresp_configs WHERE messaging_profile_id = :p", p=profile_id
    )
    assert rows == []
