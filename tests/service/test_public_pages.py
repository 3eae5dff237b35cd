"""The public pages (shared/web/pages.py, services/registry/pages.py, services/funding/pages.py): no
token, French, the State design system, no JavaScript; read in Debian's headless Chromium as a
visitor would (the DOM's text, a screenshot, a PDF), checked by axe-core (tests/assets, MPL 2.0)
with no violation at WCAG 2.1 A and AA, the level RGAA builds on. Cached like the public API
(ETag), and a suspension shows within a second.

SPC_PAGES_SCREENSHOTS=docs writes the screenshots there (docs/page-*.png, committed)."""

import json
import os
import re
import shutil
import subprocess
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from spc.generate.examples import request_example
from tests.support import wait_for
from tests.faults import story

CHROMIUM = shutil.which("chromium")
AXE = Path(__file__).resolve().parent.parent / "assets" / "axe.min.js"
needs_chromium = pytest.mark.skipif(
    not CHROMIUM and os.environ.get("CI") != "true",
    reason="Debian's chromium is not installed (.ci/run installs it; in CI, its absence is a failure)",
)


def chromium(*args, cwd):
    assert CHROMIUM, "chromium is not installed: .ci/run installs Debian's package"
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--user-data-dir={cwd / 'profile'}",
        *args,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=cwd)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def axe_violations(url, html, tmp_path):
    """axe-core run on the page as served (a copy with its <base> on the service and axe added:
    the page itself has no script), in Chromium; the violations at WCAG 2.1 A/AA."""
    probe = tmp_path / "axe.html"
    page = html.replace("<head>", f'<head><base href="{url}">', 1)
    page = page.replace(
        "</body>",
        f"""<script>{AXE.read_text(encoding="utf-8")}</script>
<script>axe.run(document, {{runOnly: {{type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}}})
.then(r => {{ const p = document.createElement("pre"); p.id = "axe-result";
  p.textContent = JSON.stringify(r.violations.map(v => ({{id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(" ") + " " + n.failureSummary)}}))); document.body.appendChild(p); }})
.catch(e => {{ const p = document.createElement("pre"); p.id = "axe-result"; p.textContent = "ERROR " + e;
  document.body.appendChild(p); }});</script></body>""",
        1,
    )
    probe.write_text(page, encoding="utf-8")
    dom = chromium("--virtual-time-budget=15000", "--dump-dom", probe.as_uri(), cwd=tmp_path)
    found = re.search(r'<pre id="axe-result">(.*?)</pre>', dom, re.S)
    assert found, "axe-core did not report (its script did not run)"
    text = found.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert not text.startswith("ERROR"), text
    return json.loads(text)


def visible_text(dom):
    import html

    text = re.sub(r"<[^>]+>", " ", re.sub(r"<(style|script|svg)[^>]*>.*?</\1>", "", dom, flags=re.S))
    return re.sub(r"\s+", " ", html.unescape(text))


@needs_chromium
def test_public_pages_are_french_dsfr_accessible_cached_and_say_a_suspension_within_a_second(cluster_factory, amqp_uri, tmp_path):
    _, spc = cluster_factory()
    sid = spc.ok("POST", "registry", "/services", "registrar", request_example("registry", "register"))["id"]
    spc.ok("POST", "registry", f"/services/{sid}/approve", "registrar")
    prog = spc.ok("POST", "funding", "/programmes", "funding_officer", request_example("funding", "create_programme"))
    wait_for("funding", lambda: spc.ok("GET", "funding", f"/services/{sid}/funding")["status"] == "active")
    today = date.today()
    grant = spc.ok(
        "POST",
        "funding",
        "/grants",
        "funding_officer",
        {
            "programme_id": prog["id"],
            "service_id": sid,
            "tranches": [
                {"amount_cents": 1_200_000, "due_date": (today - timedelta(days=60)).isoformat(), "milestone": "ouverture"},
                {"amount_cents": 1_200_000, "due_date": (today + timedelta(days=120)).isoformat(), "milestone": "bilan"},
                {"amount_cents": 1_200_000, "due_date": (today + timedelta(days=300)).isoformat(), "milestone": "fin"},
            ],
        },
    )
    spc.ok("POST", "funding", f"/tranches/{grant['tranches'][0]['id']}/release", "funding_officer")
    counter = "FS-35-0042"
    story.counters(amqp_uri, specs=((counter, "35", "35238"),))
    wait_for(
        "listed",
        lambda: (
            spc.call("GET", "distribution", f"/counters/{counter}/catalogue").status_code == 200
            and spc.ok("GET", "distribution", f"/counters/{counter}/catalogue")["services"]
        ),
    )
    ports = spc.ports
    pages = {
        "services": f"http://127.0.0.1:{ports['registry']}/public/pages/services?departement=35",
        "service": f"http://127.0.0.1:{ports['registry']}/public/pages/services/{sid}",
        "money": f"http://127.0.0.1:{ports['funding']}/public/pages/services/{sid}/funding",
    }
    catalogue = f"http://127.0.0.1:{ports['distribution']}/counters/{counter}/catalogue.html"  # an agent's page
    import requests

    for url in pages.values():
        answer = requests.get(url, timeout=10)
        assert answer.status_code == 200 and answer.headers["Content-Type"] == "text/html; charset=utf-8", answer.text
        assert answer.headers["Cache-Control"] == "public, max-age=1" and answer.headers["ETag"]
        again = requests.get(url, headers={"If-None-Match": answer.headers["ETag"]}, timeout=10)
        assert again.status_code == 304 and not again.content
        assert "<script" not in answer.text and 'lang="fr"' in answer.text and "/public/dsfr/dsfr.min.css" in answer.text
    css = requests.get(f"http://127.0.0.1:{ports['registry']}/public/dsfr/dsfr.min.css", timeout=10)
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css") and len(css.content) > 100_000
    assert (
        requests.get(f"http://127.0.0.1:{ports['funding']}/public/dsfr/fonts/Marianne-Regular.woff2", timeout=10).headers[
            "Content-Type"
        ]
        == "font/woff2"
    )
    outside = requests.get(f"http://127.0.0.1:{ports['registry']}/public/dsfr/..%2F..%2Fpyproject.toml", timeout=10)
    assert outside.status_code == 404 and outside.json()["error"]["code"] == "asset_not_found"
    odd = requests.get(f"http://127.0.0.1:{ports['registry']}/public/dsfr/%C3%9Cne%0A%02", timeout=10)  # a line break
    assert odd.status_code == 404 and odd.json()["error"]["code"] == "asset_not_found", odd.text

    texts = {name: visible_text(chromium("--dump-dom", url, cwd=tmp_path)) for name, url in pages.items()}
    assert "Crèche parentale Les Petits Pas" in texts["services"] and "Petite enfance" in texts["services"]
    assert "Ouverte 50 semaines par an" in texts["service"]
    assert "Ce service respecte son pacte de service public" in texts["service"]
    assert "Égalité d'accès" in texts["service"] and "Ille-et-Vilaine (35)" in texts["service"]
    assert "Versé 12 000,00 €" in texts["money"] and "Attribué 36 000,00 €" in texts["money"]
    assert "Ville de Rennes" not in texts["money"]  # (the funder is the programme's: its own JSON)
    assert "Frise des tranches" in chromium("--dump-dom", pages["money"], cwd=tmp_path)

    shots = Path(os.environ.get("SPC_PAGES_SCREENSHOTS") or tmp_path).resolve()
    for name, url in pages.items():
        shot = shots / f"page-{name}.png"
        chromium(f"--screenshot={shot}", "--window-size=1100,1600", "--hide-scrollbars", url, cwd=tmp_path)
        assert shot.stat().st_size > 20_000, f"{shot}: too small to show a page"
        pdf = tmp_path / f"page-{name}.pdf"
        chromium(f"--print-to-pdf={pdf}", "--no-pdf-header-footer", url, cwd=tmp_path)
        assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 10_000
        violations = axe_violations(url, requests.get(url, timeout=10).text, tmp_path)
        assert violations == [], json.dumps(violations, ensure_ascii=False, indent=1)
    # the counter's catalogue (an agent's printable page) on the same design system
    agent_page = requests.get(catalogue, headers={"Authorization": f"Bearer {spc.tokens['viewer']}"}, timeout=10)
    assert agent_page.status_code == 200 and "/public/dsfr/dsfr.min.css" in agent_page.text
    violations = axe_violations(catalogue, agent_page.text, tmp_path)
    assert violations == [], json.dumps(violations, ensure_ascii=False, indent=1)

    # a suspension: the service's page says so within a second (no copy kept past max-age=1)
    story.violation(amqp_uri, sid)
    wait_for("suspended", lambda: spc.ok("GET", "registry", f"/services/{sid}")["status"] == "suspended")
    started = time.monotonic()
    page = wait_for(
        "the page to say it",
        lambda: (lambda t: t if "Ce service est suspendu depuis le" in t else None)(
            requests.get(pages["service"], timeout=10).text
        ),
        timeout=5,
        interval=0.05,
    )
    assert time.monotonic() - started < 1.0
    assert "« Ni publicité ni revente de données »" in page
    money = wait_for(
        "funding frozen",
        lambda: (lambda t: t if "Financement gelé" in t else None)(requests.get(pages["money"], timeout=10).text),
    )
    assert "Gelé" in money
