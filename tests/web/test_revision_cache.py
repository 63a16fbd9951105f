"""The per-app cache of immutable revisions: one computation per key even under concurrent misses, bounded size."""

from __future__ import annotations

import threading
import time

from plantgate.web.revision_cache import RevisionCache, _Lru, filter_conduits
from tests.web.conftest import WebSite


def test_concurrent_misses_compute_once_and_the_cache_stays_bounded() -> None:
    cache: _Lru[int, str] = _Lru(capacity=2)
    calls: list[int] = []

    def make() -> str:
        calls.append(1)
        time.sleep(0.05)
        return "value"

    threads = [threading.Thread(target=cache.get_or_make, args=(1, make)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and cache[1] == "value"
    for key in (2, 3):
        cache.get_or_make(key, lambda: "other")
    assert list(cache) == [2, 3]  # the least recently used went first


def test_register_search_uses_the_precomputed_text_like_the_plain_search() -> None:
    conduits = [{"id": "C-1", "from_zone": "ops", "to_zone": "idmz", "business_reason": "Historian replication"},
                {"id": "C-2", "from_zone": "idmz", "to_zone": "enterprise", "owner": "m.okafor"}]
    haystacks = [" ".join(str(c.get(k, "")) for k in ("id", "business_reason", "owner", "description", "from_zone",
                                                      "to_zone", "services")).lower() for c in conduits]
    for q, zone in [("historian", ""), ("OKAFOR", ""), ("", "idmz"), ("c-", "enterprise"), ("nothing", "")]:
        assert filter_conduits(conduits, q, zone, haystacks) == filter_conduits(conduits, q, zone)
    assert [c["id"] for c in filter_conduits(conduits, "", "idmz", haystacks)] == ["C-1", "C-2"]


def test_a_config_upload_shares_the_decoded_document_of_the_revision_before(web: WebSite) -> None:
    """Its treaty text is the previous revision's: decoded once, while pages of the new revision read new files."""
    from plantgate.db.accounts import Role
    from tests.web.conftest import SITE
    from tests.web.test_api import token_for, uploaded

    client = web.client()
    headers = {"Authorization": f"Bearer {token_for(web, 'm.okafor', Role.IT_ENGINEER)}",
               "Content-Type": "text/plain"}
    config = (web.folder / "firewalls" / "fw-dmz-ot.iptables").read_text()
    body = uploaded(client, client.post(f"/api/v1/sites/{SITE}/firewalls/fw-dmz-ot/config",
                                        content=config.replace("--dport 5900", "--dport 5901"), headers=headers),
                    headers)
    assert body["state"] == "done" and body["revision"] == 2
    cache: RevisionCache = web.app.state.revisions
    with web.sessions() as session:
        first, second = cache.revision(session, 1), cache.revision(session, 2)
    assert (first.number, second.number) == (1, 2)
    assert second.document is first.document and second.haystacks is first.haystacks
    assert second.fragments is not first.fragments


def test_findings_stored_with_the_same_text_are_decoded_once_and_shared() -> None:
    """A config upload that changes no finding stores its new revision's findings text for text: one decoded list."""
    cache = RevisionCache()
    text = '[{"fingerprint": "a1", "severity": "high"}, {"fingerprint": "b2", "severity": "low"}]'
    first = cache._decoded_findings(text)
    assert first == [{"fingerprint": "a1", "severity": "high"}, {"fingerprint": "b2", "severity": "low"}]
    assert cache._decoded_findings(str(text)) is first
    assert cache._decoded_findings(text.replace("low", "medium")) is not first
