"""The change form: conduits filed from fields (no YAML), every problem next to its field with the values kept,
the form's own buttons (a row more, a register conduit loaded), and one check for the fields and the YAML."""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi.testclient import TestClient

from plantgate.db.tables import ChangeRequestRow
from tests.web.conftest import SITE, WebSite, post
from tests.web.test_changes import NEW_CONDUIT, candidate_opening, file_change

SYSLOG_FIELDS = {
    "c0-id": "C-20-ot-syslog-udp", "c0-from_zone": "ops", "c0-to_zone": "idmz", "c0-initiator": "from_zone",
    "c0-type": "filtering_firewall", "c0-sources": "10.30.0.22/32", "c0-destinations": "172.16.35.40/32",
    "c0-business_reason": "Legacy controllers log over UDP syslog to the DMZ collector.", "c0-owner": "r.alvarez",
    "c0-ot_approver": "r.alvarez", "c0-enforced_by": "fw-dmz-ot", "c0-s0-protocol": "udp", "c0-s0-ports": "514",
    "c0-s1-protocol": "",  # the blank service row the form always shows
}
"""NEW_CONDUIT of test_changes, typed into the form's fields."""


def change_fields(**extra: str) -> dict[str, str]:
    return {"title": "UDP syslog", "business_reason": "Needed for the controller logs.", "firewall": "fw-dmz-ot",
            "ot_approver": "r.alvarez", **extra}


def filed(response: httpx.Response) -> int:
    assert response.status_code == 303, response.text
    found = re.search(r"/changes/(\d+)$", response.headers["location"])
    assert found is not None
    return int(found.group(1))


def record(web: WebSite, change_id: int) -> dict[str, Any]:
    with web.sessions() as session:
        return dict(session.get_one(ChangeRequestRow, change_id).record)


def problem(page: str, field: str) -> str:
    """The message the page shows next to ``field`` ("" when there is none)."""
    found = re.search(rf'<span class="field-error" id="{re.escape(field)}-error">(.*?)</span>', page, re.S)
    return found.group(1) if found else ""


def test_a_conduit_filed_from_fields_is_the_one_the_yaml_files(web: WebSite) -> None:
    engineer = web.client("j.lindqvist")
    candidate = {"candidate": ("fw-dmz-ot.iptables", candidate_opening(web), "text/plain")}
    from_fields = filed(post(engineer, f"/sites/{SITE}/changes", {**change_fields(), **SYSLOG_FIELDS}, candidate))
    from_yaml = file_change(engineer, "UDP syslog", candidate_opening(web))
    fields, yaml = record(web, from_fields), record(web, from_yaml)
    assert fields["register_edit"] == yaml["register_edit"]  # ports as numbers, defaults filled alike
    assert fields["conduits"] == [{"conduit": "C-20-ot-syslog-udp", "action": "create"}]
    page = engineer.get(f"/sites/{SITE}/changes/{from_fields}").text
    assert "10.30.0.22" in page.split('id="opened-1"')[1]  # its impact, proved on the uploaded candidate


def test_every_problem_is_shown_next_to_its_field_with_the_values_kept(web: WebSite) -> None:
    engineer = web.client("j.lindqvist")
    bad = {**SYSLOG_FIELDS, "c0-from_zone": "", "c0-s0-ports": "514, 70000", "c0-sources": "no-such-host",
           "c0-review_by": "next spring", "c0-enforced_by": "fw-nowhere"}
    response = post(engineer, f"/sites/{SITE}/changes", {**change_fields(title=""), **bad})
    assert response.status_code == 400 and "text/html" in response.headers["content-type"]
    page = response.text
    assert problem(page, "title") == "a change needs a title (expected a short description)"
    assert problem(page, "c0-from_zone") == "required"
    assert "70000" in problem(page, "c0-s0-ports") and "port or port range" in problem(page, "c0-s0-ports")
    assert "neither an asset id nor a CIDR" in problem(page, "c0-sources")
    assert "date" in problem(page, "c0-review_by")
    assert "unknown firewall &#39;fw-nowhere&#39;" in problem(page, "c0-enforced_by")
    assert 'id="c0-s0-ports" value="514, 70000" aria-invalid="true" aria-describedby="c0-s0-ports-error"' in page
    assert 'value="Needed for the controller logs."' not in page  # a textarea keeps its text as content
    assert ">Needed for the controller logs.</textarea>" in page
    assert '<option value="udp" selected>' in page and 'id="form-errors" role="alert"' in page
    with web.sessions() as session:
        assert session.query(ChangeRequestRow).count() == 0


def test_a_new_row_may_not_take_a_register_id_and_removals_must_exist(web: WebSite) -> None:
    engineer = web.client("j.lindqvist")
    response = post(engineer, f"/sites/{SITE}/changes", {**change_fields(), **SYSLOG_FIELDS,
                                                         "c0-id": "C-08-time-sync", "remove": "C-99-gone"})
    assert response.status_code == 400
    assert "already in the register" in problem(response.text, "c0-id")
    assert "no conduit &#39;C-99-gone&#39; in the register" in problem(response.text, "remove")


def test_the_change_itself_needs_reason_approver_firewall_and_a_conduit(web: WebSite) -> None:
    engineer = web.client("j.lindqvist")
    response = post(engineer, f"/sites/{SITE}/changes", {"title": "t", "firewall": "fw-none",
                                                         "ot_approver": "j.lindqvist", "conduits": "C-nope"})
    assert response.status_code == 400
    page = response.text
    assert problem(page, "business_reason").startswith("a change states its business reason")
    assert problem(page, "firewall").startswith("unknown firewall &#39;fw-none&#39;")
    assert "is not an OT approver" in problem(page, "ot_approver") and "r.alvarez" in problem(page, "ot_approver")
    assert problem(page, "conduits").startswith("unknown conduit &#39;C-nope&#39;")
    nothing = post(engineer, f"/sites/{SITE}/changes", change_fields(business_reason=""))
    assert nothing.status_code == 400  # both at once: nothing is left for a second round
    assert problem(nothing.text, "conduits").startswith("the change names no conduit")
    assert problem(nothing.text, "business_reason").startswith("a change states its business reason")


def test_a_candidate_of_another_vendor_is_refused_at_the_upload(web: WebSite) -> None:
    engineer = web.client("j.lindqvist")
    asa = (web.folder / "firewalls" / "fw-it-dmz.asa").read_bytes()
    response = post(engineer, f"/sites/{SITE}/changes", {**change_fields(), **SYSLOG_FIELDS},
                    {"candidate": ("fw-it-dmz.asa", asa, "text/plain")})
    assert response.status_code == 400
    assert "fw-it-dmz.asa looks like a asa config, not iptables" in problem(response.text, "candidate")
    assert 'id="c0-id" value="C-20-ot-syslog-udp"' in response.text  # the rest is kept


def test_the_yaml_and_the_fields_are_one_or_the_other(web: WebSite) -> None:
    engineer = web.client("j.lindqvist")
    both = post(engineer, f"/sites/{SITE}/changes", {**change_fields(), **SYSLOG_FIELDS, "register_edit": NEW_CONDUIT})
    assert both.status_code == 400 and "both the conduit fields and the YAML" in problem(both.text, "register_edit")
    assert '<details id="advanced" open>' in both.text
    bad = NEW_CONDUIT.replace("from_zone: ops", "from_zone: nowhere")
    wrong = post(engineer, f"/sites/{SITE}/changes", {**change_fields(), "register_edit": bad})
    assert wrong.status_code == 400  # the same reference check as the fields, placed by line and column
    assert problem(wrong.text, "register_edit").startswith("line 4, column 5: unknown zone &#39;nowhere&#39;")


def test_a_row_more_and_a_register_conduit_loaded_keep_what_was_typed(web: WebSite) -> None:
    engineer = web.client("j.lindqvist")
    typed = {**change_fields(), **SYSLOG_FIELDS}
    more = post(engineer, f"/sites/{SITE}/changes", {**typed, "step": "add_row"},
                {"candidate": ("fw.iptables", candidate_opening(web), "text/plain")})
    assert more.status_code == 200
    assert 'id="c0-id" value="C-20-ot-syslog-udp"' in more.text and 'id="c1-id" value=""' in more.text
    assert "Choose fw.iptables again" in more.text  # a browser cannot be given the chosen file back
    loaded = post(engineer, f"/sites/{SITE}/changes", {**typed, "step": "load", "load": "C-08-time-sync"})
    assert loaded.status_code == 200
    assert 'name="c1-edits" value="C-08-time-sync"' in loaded.text
    assert 'id="c1-s0-ports" value="123"' in loaded.text and 'id="c1-id" value="C-08-time-sync" readonly' in loaded.text
    unknown = post(engineer, f"/sites/{SITE}/changes", {**typed, "step": "load", "load": "C-99"})
    assert unknown.status_code == 400 and "no conduit &#39;C-99&#39;" in problem(unknown.text, "load")
    conduit_page = engineer.get(f"/sites/{SITE}/changes/new?conduit=C-06-remote-jump")
    assert 'name="c0-edits" value="C-06-remote-jump"' in conduit_page.text


def test_an_edited_conduit_replaces_its_register_entry(web: WebSite) -> None:
    engineer = web.client("j.lindqvist")
    form = engineer.get(f"/sites/{SITE}/changes/new?conduit=C-08-time-sync").text
    row = {name: value for name, value in re.findall(r'name="(c0-[^"]+)"[^>]*? value="([^"]*)"', form)}
    assert row["c0-s0-ports"] == "123"
    row.update({"c0-s0-ports": "123, 124", "c0-enforced_by": "fw-dmz-ot", "c0-from_zone": "ops", "c0-to_zone": "idmz",
                "c0-ot_approver": "r.alvarez", "c0-initiator": "from_zone", "c0-type": "filtering_firewall",
                "c0-s0-protocol": "udp"})  # the selects, as the browser posts them
    change_id = filed(post(engineer, f"/sites/{SITE}/changes", {**change_fields(), **row}))
    edit = record(web, change_id)["register_edit"]["upsert"][0]
    assert edit["id"] == "C-08-time-sync" and edit["services"][0]["ports"] == [123, 124]
    assert edit["review_by"] == "2027-06-30" and record(web, change_id)["conduits"][0]["action"] == "alter"
    tampered = post(engineer, f"/sites/{SITE}/changes", {**change_fields(), **row, "c0-id": "C-08-renamed"})
    assert tampered.status_code == 400 and "its id cannot change" in problem(tampered.text, "c0-id")


def test_a_reviewer_without_the_role_gets_no_form(web: WebSite) -> None:
    client: TestClient = web.client("r.alvarez")
    assert client.get(f"/sites/{SITE}/changes/new").status_code == 403
    assert post(client, f"/sites/{SITE}/changes", {**change_fields(), **SYSLOG_FIELDS}).status_code == 403
