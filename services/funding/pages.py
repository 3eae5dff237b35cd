"""Funding's public page: the money a service received, in French, on the State's design system
(shared/web/pages.py): awarded, received, frozen, cancelled, what is still to come, and a timeline of
its tranches drawn on the server as SVG (with the same facts in a table beside it, for screen
readers and print). Built from the public read API's view (public.py): both say the same."""

from datetime import date, datetime

from spc.shared.core.french import date_fr, euros
from spc.shared.web.http import PUBLIC, api
from spc.shared.web.pages import DesignSystemAssets, e, html_response, layout, public_url

from . import public

STATUS_FR = {"released": "versée", "scheduled": "à venir", "frozen": "gelée", "cancelled": "annulée"}
# fill, stroke (contrast at least 3:1 against white for the marks: WCAG 1.4.11)
COLOURS = {
    "released": ("#18753c", "#18753c"),
    "scheduled": ("#ffffff", "#000091"),
    "frozen": ("#b34000", "#b34000"),
    "cancelled": ("#ffffff", "#666666"),
}
WIDTH, HEIGHT, LEFT, RIGHT = 760, 150, 40, 40


def timeline_svg(tranches, today):
    """The tranches on a line of time, each a mark at its due date (filled: paid), today marked."""
    if not tranches:
        return ""
    days = [date.fromisoformat(t["due_date"]) for t in tranches] + [today]
    first, last = min(days), max(days)
    span = max((last - first).days, 1)

    def x(day):
        return LEFT + (WIDTH - LEFT - RIGHT) * (day - first).days / span

    marks = []
    for i, t in enumerate(sorted(tranches, key=lambda t: t["due_date"])):
        due = date.fromisoformat(t["due_date"])
        fill, stroke = COLOURS.get(t["status"], COLOURS["scheduled"])
        y = 60 if i % 2 == 0 else 100  # alternate rows: close dates stay readable
        marks.append(
            f'<line x1="{x(due):.1f}" y1="80" x2="{x(due):.1f}" y2="{y}" stroke="#666666"/>'
            f'<circle cx="{x(due):.1f}" cy="{y}" r="9" fill="{fill}" stroke="{stroke}" stroke-width="3"/>'
            f'<text x="{x(due):.1f}" y="{y - 16 if y < 80 else y + 26}" text-anchor="middle" '
            f'font-size="13" fill="#161616">{e(euros(t["amount_cents"]))}</text>'
        )
    desc = "; ".join(
        f"{euros(t['amount_cents'])} {STATUS_FR.get(t['status'], t['status'])}, échéance le "
        f"{date_fr(date.fromisoformat(t['due_date']))}"
        for t in tranches
    )
    return f"""<svg class="spc-timeline" role="img" aria-labelledby="frise-titre frise-desc" viewBox="0 0 {WIDTH} {HEIGHT}"
 width="{WIDTH}" height="{HEIGHT}" xmlns="http://www.w3.org/2000/svg">
<title id="frise-titre">Frise des tranches</title><desc id="frise-desc">{e(desc)}</desc>
<line x1="{LEFT}" y1="80" x2="{WIDTH - RIGHT}" y2="80" stroke="#161616" stroke-width="2"/>
<line x1="{x(today):.1f}" y1="20" x2="{x(today):.1f}" y2="140" stroke="#161616" stroke-dasharray="4 3"/>
<text x="{x(today):.1f}" y="14" text-anchor="middle" font-size="12" fill="#161616">aujourd'hui</text>
<text x="{LEFT}" y="{HEIGHT - 4}" font-size="12" fill="#161616">{e(date_fr(first))}</text>
<text x="{WIDTH - RIGHT}" y="{HEIGHT - 4}" text-anchor="end" font-size="12" fill="#161616">{e(date_fr(last))}</text>
{"".join(marks)}
</svg>"""


def _legend():
    return (
        '<ul class="fr-tags-group">'
        + "".join(
            f'<li><p class="fr-tag"><svg width="14" height="14" aria-hidden="true" focusable="false">'
            f'<circle cx="7" cy="7" r="5" fill="{fill}" stroke="{stroke}" stroke-width="2"/></svg>&nbsp;{e(label)}</p></li>'
            for status, label in STATUS_FR.items()
            for fill, stroke in [COLOURS[status]]
        )
        + "</ul>"
    )


def money_page(view, service_url, json_url, today=None):
    today = today or date.today()
    tranches = [t for g in view["grants"] for t in g["tranches"]]
    if view["frozen"]:
        since = view.get("status_since")
        when = f" depuis le {date_fr(datetime.fromisoformat(since).date())}" if since else ""
        state = (
            f'<div class="fr-alert fr-alert--error fr-mb-4w"><h2 class="fr-alert__title">Financement gelé{e(when)}</h2>'
            f"<p>Aucune tranche ne peut être versée tant que la situation du service n'est pas rétablie"
            f"{(' (' + e(view['reason']) + ')') if view.get('reason') else ''}.</p></div>"
        )
    elif view["status"] == "active":
        state = (
            '<div class="fr-alert fr-alert--success fr-mb-4w"><h2 class="fr-alert__title">Financement en cours</h2>'
            "<p>Les tranches sont versées à leur échéance, sur pièces justificatives.</p></div>"
        )
    else:
        state = (
            f'<div class="fr-alert fr-alert--info fr-mb-4w"><h2 class="fr-alert__title">Situation : '
            f"{e(view['status'])}</h2><p>Aucun versement n'est prévu.</p></div>"
        )
    figures = [
        ("Attribué", view["awarded_cents"]),
        ("Versé", view["released_cents"]),
        ("À venir", view["scheduled_cents"]),
        ("Gelé", view["frozen_cents"]),
        ("Annulé (rendu au programme)", view["cancelled_cents"]),
    ]
    totals = "".join(f'<tr><th scope="row">{e(label)}</th><td>{e(euros(cents))}</td></tr>' for label, cents in figures)
    rows = "".join(
        f"<tr><td>{e(date_fr(date.fromisoformat(t['due_date'])))}</td><td>{e(euros(t['amount_cents']))}</td>"
        f"<td>{e(STATUS_FR.get(t['status'], t['status']))}</td>"
        f"<td>{e(date_fr(datetime.fromisoformat(t['released_at']).date())) if t.get('released_at') else '—'}</td></tr>"
        for t in sorted(tranches, key=lambda t: t["due_date"])
    )
    body = f"""<h1>L'argent public reçu par ce service</h1>
<p><a class="fr-link" href="{e(service_url)}">La page du service : sa mission, ses engagements, sa situation</a></p>
{state}
<div class="fr-table fr-mb-4w"><table><caption>En résumé</caption>
<thead><tr><th scope="col">Montant</th><th scope="col">En euros</th></tr></thead><tbody>{totals}</tbody></table></div>
<h2>Les tranches dans le temps</h2>
{timeline_svg(tranches, today) or "<p>Aucune subvention attribuée pour l’instant.</p>"}
{_legend() if tranches else ""}
<div class="fr-table fr-mt-4w"><table><caption>Les tranches, une par ligne</caption>
<thead><tr><th scope="col">Échéance</th><th scope="col">Montant</th><th scope="col">État</th>
<th scope="col">Versée le</th></tr></thead><tbody>{rows or '<tr><td colspan="4">Aucune tranche.</td></tr>'}</tbody></table></div>
<p class="fr-text--sm fr-mt-4w">Les mêmes informations en données ouvertes : <a href="{e(json_url)}">{e(json_url)}</a></p>"""
    return layout(
        "L'argent public reçu par ce service",
        body,
        breadcrumb=[("Services", service_url.rsplit("/", 1)[0]), ("Le service", service_url), ("Son financement", "")],
        description="Ce que ce service a reçu d'argent public, tranche par tranche",
    )


class FundingPages(DesignSystemAssets):
    """Funding's public page (mixed into FundingService)."""

    @api(
        "GET",
        "/public/pages/services/<string:service_id>/funding",
        role=PUBLIC,
        media_type="text/html",
        summary="Public page: the money a service received, with a timeline of its tranches (French, DSFR)",
    )
    def money_page(self, call, service_id):
        view = public.public_funding(self.store.uow(), service_id)
        service_url = f"{public_url(self.config.get('ENV') or {}, 'registry', call.host)}/public/pages/services/{service_id}"
        return html_response(money_page(view, service_url, f"/public/services/{service_id}/funding"))
