"""Object pages and pictures, read as an auditor: labelled fields and tables (never a JSON dump), links to what
each names, flow sets in words, and the matrix, diagram and trend computed by jobs, never on a request."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from plantgate.db import accounts, revisions
from tests.web.conftest import SITE, WebSite

AUDITOR = "a.auditor"


def main(response: httpx.Response) -> str:
    return response.text[response.text.index("<main"):]


def wait_ready(client: TestClient, path: str, pending: str = 'id="pictures-pending"') -> httpx.Response:
    """The page once the job it waits for has stored its result (the page itself never computes it)."""
    for _ in range(1200):
        response = client.get(path)
        assert response.status_code == 200, response.text
        if pending not in response.text and 'id="checking"' not in response.text:
            return response
        time.sleep(0.1)
    raise AssertionError(f"{path} stayed pending")


def test_zone_asset_and_conduit_pages_are_labelled_values_with_links(web: WebSite) -> None:
    client = web.client(AUDITOR)
    zone = client.get(f"/sites/{SITE}/zones/ops")
    assert zone.status_code == 200
    assert '<dl class="fields">' in zone.text and "{&#34;" not in main(zone) and '{"' not in main(zone)
    assert f'href="/sites/{SITE}/conduits/C-01-hist-replication"' in zone.text  # a zone links to its conduits
    assert f'href="/sites/{SITE}/assets/ops-historian"' in zone.text
    assert f'href="/sites/{SITE}/matrix/ops/idmz"' in zone.text
    asset = client.get(f"/sites/{SITE}/assets/ops-historian")
    assert asset.status_code == 200 and "10.30.0.10" in asset.text
    assert f'href="/sites/{SITE}/conduits/C-01-hist-replication"' in asset.text
    conduit = client.get(f"/sites/{SITE}/conduits/C-06-remote-jump")
    assert conduit.status_code == 200
    assert "<pre>" not in conduit.text and "business_reason" not in main(conduit)  # no JSON dump any more
    assert "TCP port 3389 (RDP), from 10.10.8.0/24 (256 addresses) to Remote access jump host (172.16.35.30)" \
        in conduit.text  # the conduit in words, its size a detail
    assert re.search(rf'href="/sites/{SITE}/firewalls/fw-it-dmz/config#L52"', conduit.text)  # rule -> its line
    assert client.get(f"/sites/{SITE}/zones/nowhere").status_code == 404
    assert client.get(f"/sites/{SITE}/assets/nothing").status_code == 404


def test_firewall_page_lists_rules_in_order_with_lint_and_config_lines(web: WebSite) -> None:
    client = web.client(AUDITOR)
    wait_ready(client, f"/sites/{SITE}/findings")  # the check run carries the lint results
    page = wait_ready(client, f"/sites/{SITE}/firewalls/fw-ape1808")
    assert 'id="coverage"' in page.text
    assert "Overly broad permit" in page.text  # PG-LINT-005 on the rule it names
    filters = page.text.split('<section class="filter">')[1:]
    assert filters
    for section in filters:  # each filter's rules as the device applies them: in config order
        lines = [int(n) for n in re.findall(rf'href="/sites/{SITE}/firewalls/fw-ape1808/config#L(\d+)"><code>',
                                            section)]
        assert lines and lines == sorted(lines)
    config = client.get(f"/sites/{SITE}/firewalls/fw-ape1808/config")
    assert config.status_code == 200
    text = (web.folder / "firewalls" / "fw-ape1808.set").read_text().splitlines()
    assert f'<tr id="L{len(text)}">' in config.text
    assert client.get(f"/sites/{SITE}/firewalls/fw-nothing").status_code == 404


def test_config_text_is_escaped(web: WebSite, tmp_path: Path) -> None:
    folder = tmp_path / "treaty"
    shutil.copytree(web.folder, folder)
    config = folder / "firewalls" / "fw-dmz-ot.iptables"
    config.write_text(config.read_text().replace("*filter\n", "*filter\n# <script>alert(1)</script>\n", 1))
    with web.sessions.begin() as session:
        revisions.import_folder(session, folder, slug=SITE, actor="test")
    page = web.client(AUDITOR).get(f"/sites/{SITE}/firewalls/fw-dmz-ot/config")
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_a_finding_page_links_its_evidence_and_subjects(web: WebSite) -> None:
    client = web.client(AUDITOR)
    findings = wait_ready(client, f"/sites/{SITE}/findings?rule=PG-LINT-005")
    fingerprint = re.search(rf'href="/sites/{SITE}/findings/([0-9a-f]+)"', findings.text)
    assert fingerprint
    page = client.get(f"/sites/{SITE}/findings/{fingerprint.group(1)}")
    assert page.status_code == 200 and '<dl class="fields">' in page.text
    assert re.search(rf'href="/sites/{SITE}/firewalls/fw-[a-z0-9-]+/config#L\d+"', page.text)  # evidence -> line
    assert re.search(rf'href="/sites/{SITE}/firewalls/fw-[a-z0-9-]+"', page.text)  # subject -> its page
    assert client.get(f"/sites/{SITE}/findings/0000000000000000").status_code == 404


def test_matrix_pair_and_diagram_come_from_the_job(web: WebSite) -> None:
    client = web.client(AUDITOR)
    first = client.get(f"/sites/{SITE}/matrix")
    assert first.status_code == 200
    matrix = wait_ready(client, f"/sites/{SITE}/matrix")
    cell = re.search(r'id="cell-idmz-sup" href="([^"]+)">\s*<strong>([^<]+)</strong>', matrix.text)
    assert cell and "unregistered exposure" in cell.group(2)  # the verdict in words, not colour alone
    assert 'class="cell verdict-unregistered-exposure"' in matrix.text
    pair = client.get(cell.group(1))
    assert pair.status_code == 200 and "idmz &rarr; sup" in pair.text
    assert re.search(r'<code class="witness">[^<]+</code>', pair.text)  # a witness packet
    assert re.search(rf'href="/sites/{SITE}/firewalls/[a-z0-9-]+/config#L\d+"', pair.text)  # and its rule's line
    end_to_end = client.get(f"/sites/{SITE}/matrix?view=end-to-end")
    assert "End to end" in end_to_end.text and 'id="per-hop"' in end_to_end.text
    diagram = wait_ready(client, f"/sites/{SITE}/diagram")
    svg = diagram.text[diagram.text.index("<svg"):diagram.text.index("</svg>")]
    assert f'href="/sites/{SITE}/zones/ops"' in svg and f'href="/sites/{SITE}/conduits/C-06-remote-jump"' in svg
    assert "<script" not in svg and "onclick" not in svg.lower()
    assert client.get(f"/sites/{SITE}/matrix/ops/nowhere").status_code == 404


def test_trends_chart_findings_by_severity_over_revisions(web: WebSite, tmp_path: Path) -> None:
    client = web.client(AUDITOR)
    wait_ready(client, f"/sites/{SITE}/findings")
    folder = tmp_path / "treaty"
    shutil.copytree(web.folder, folder)
    conduits = folder / "conduits.yaml"  # revision 2 drops a conduit: its flows become unregistered exposure
    text = conduits.read_text()
    start = text.index("  - id: C-06-remote-jump")
    conduits.write_text(text[:start] + text[text.index("  - id:", start + 5):])
    with web.sessions.begin() as session:
        revisions.import_folder(session, folder, slug=SITE, actor="test")
    wait_ready(client, f"/sites/{SITE}/findings")
    page = client.get(f"/sites/{SITE}/trends")
    assert page.status_code == 200
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page.text and "<polyline" in page.text
    rows = re.findall(r'<tr><th scope="row"><a href="/sites/bayport/revisions/\d+">r(\d+)</a></th><td>[^<]+</td>'
                      r'((?:<td>\d+</td>)+)</tr>', page.text)
    assert [number for number, _ in rows] == ["1", "2"]
    totals = [sum(int(n) for n in re.findall(r"\d+", counts)) for _, counts in rows]
    assert totals[1] != totals[0]


def test_the_new_pages_answer_no_one_without_a_role_at_the_site(web: WebSite) -> None:
    with web.sessions.begin() as session:
        accounts.create_user(session, "outsider", "correct horse battery staple", actor="test")
    client = web.client("outsider")
    for page in ("/zones/ops", "/assets/ops-historian", "/firewalls/fw-dmz-ot", "/firewalls/fw-dmz-ot/config",
                 "/findings/0000000000000000", "/matrix", "/matrix/ops/idmz", "/diagram", "/trends", "/revisions",
                 "/revisions/1"):
        assert client.get(f"/sites/{SITE}{page}").status_code == 404, page
