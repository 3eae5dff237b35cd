"""A counter's catalogue as a printable page, in French (GET /counters/{id}/catalogue.html): what
a France Services agent prints or shows a visitor. The counter (address, hours, phone, e-mail),
then by domain each service listed there now: its mission, how to refer a person, what it
commits to. Plain HTML and CSS (A4 print rules), no JavaScript, every text escaped. Built from the
catalogue's JSON view (handlers.counter_catalogue), so both always say the same."""

from datetime import date
from html import escape

from werkzeug.wrappers import Response

from spc.shared.core.french import DAYS_FR, MONTHS_FR, PRINCIPLES_FR  # noqa: F401  (the page's words)

FORMATS_FR = {
    "fixe": "accueil fixe",
    "fixe_antennes": "accueil fixe avec antennes",
    "multisites": "multisite",
    "bus": "bus France services",
    "itinerante": "France services itinérante",
}
TYPES_FR = {"principal": "structure principale", "antenne": "antenne"}
OTHER_DOMAIN = "Autres services"
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self' 'unsafe-inline'; font-src 'self'; img-src 'self' data:",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

CSS = """
@page { size: A4; margin: 12mm 12mm 14mm; }
* { box-sizing: border-box; }
body { font-family: Marianne, "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 10.5pt; line-height: 1.35;
       color: #161616; margin: 0 auto; max-width: 200mm; padding: 6mm 8mm; background: #fff; }
header { border-bottom: 3px solid #000091; padding-bottom: 3mm; margin-bottom: 4mm; }
.kicker { color: #000091; font-weight: bold; text-transform: uppercase; font-size: 8.5pt; margin: 0;
          letter-spacing: .04em; }
h1 { font-size: 17pt; margin: 1mm 0 1.5mm; }
h2 { font-size: 12.5pt; color: #000091; border-bottom: 1px solid #000091; margin: 5mm 0 2mm; padding-bottom: .5mm; }
h3 { font-size: 11pt; margin: 0 0 1mm; }
h4 { font-size: 9pt; text-transform: uppercase; letter-spacing: .03em; color: #3a3a3a; margin: 1.5mm 0 .5mm; }
p { margin: 0 0 1mm; }
.counter { display: flex; gap: 6mm; flex-wrap: wrap; }
.counter .where { flex: 1 1 70mm; }
.hours { border-collapse: collapse; font-size: 9.5pt; }
.hours th { text-align: left; font-weight: normal; padding: 0 4mm 0 0; }
.hours td { padding: 0; }
.closed { color: #666; }
.note { font-style: italic; }
.service { border-left: 3px solid #cacafb; padding: 1mm 0 1mm 3mm; margin: 0 0 3mm; }
.refer { background: #f5f5fe; padding: 1mm 2mm; margin: 1mm 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .3mm 3mm; margin: 0; font-size: 9pt; }
dt { font-weight: bold; }
dd { margin: 0; }
footer { border-top: 1px solid #999; margin-top: 5mm; padding-top: 2mm; font-size: 9pt; }
a { color: #000091; }
@media print {
  body { max-width: none; padding: 0; font-size: 9.5pt; }
  a { color: inherit; text-decoration: none; }
  .service { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
}
"""


def as_response(catalogue, today=None):
    """The page as an HTTP answer (text/html; no script may run, nothing is fetched)."""
    return Response(render(catalogue, today), mimetype="text/html", headers=HEADERS)


def render(catalogue, today=None):
    """The whole page, from the catalogue's JSON view."""
    counter, services = catalogue["counter"], catalogue["services"]
    today = today or date.today()
    sections = "".join(_domain(name, listed) for name, listed in by_domain(services))
    body = sections or "<p>Aucun service n'est proposé à ce guichet pour le moment.</p>"
    return (
        f'<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Services proposés — {e(counter['name'])}</title>"
        # the State design system (DSFR, shared/web/pages.py), served by distribution at /public/dsfr;
        # the page's own rules after it: A4 print, a compact layout an agent hands over
        f'<link rel="stylesheet" href="/public/dsfr/dsfr.min.css"><style>{CSS}</style></head>\n'
        f"<body>{_counter(counter)}\n<main>{body}</main>\n"
        f"<footer><p>Un service ne tient pas ses engagements ? Dites-le à l'agent France services : "
        f"il transmet votre signalement aux contrôleurs du pacte.</p>"
        f"<p>{len(services)} service{'s' if len(services) > 1 else ''} — état au {_date(today)}.</p>"
        f"</footer></body></html>\n"
    )


def by_domain(services):
    """[(domain heading, services)], domains in alphabetical order, "Autres services" last; a
    service is shown once, under its first domain (the others are named with it)."""
    groups = {}
    for service in services:
        domains = service.get("domains") or []
        groups.setdefault(_heading(domains[0]) if domains else OTHER_DOMAIN, []).append(service)
    return sorted(groups.items(), key=lambda kv: (kv[0] == OTHER_DOMAIN, kv[0].casefold()))


def e(text):
    return escape(str(text), quote=True)


def _heading(domain):
    text = " ".join(domain.replace("_", " ").split())
    return text[:1].upper() + text[1:]


def _counter(c):
    kind = ", ".join(x for x in (TYPES_FR.get(c.get("type")), FORMATS_FR.get(c.get("format"))) if x)
    lines = [
        f"<p>{e(c['address'])}</p>" if c.get("address") else "",
        f"<p>Téléphone : {e(c['phone'])}</p>" if c.get("phone") else "",
        f"<p>Courriel : {e(c['email'])}</p>" if c.get("email") else "",
        f"<p>France services — {e(kind)}</p>" if kind else "",
        "" if c.get("open", True) else "<p><strong>Ce guichet est fermé.</strong></p>",
    ]
    note = f'<p class="note">{e(c["note"])}</p>' if c.get("note") else ""
    return (
        f'<header><p class="kicker">France services · services publics citoyens</p>'
        f'<h1>{e(c["name"])}</h1><div class="counter"><div class="where">{"".join(lines)}</div>'
        f"<div><h4>Horaires d'ouverture</h4>{_hours(c.get('hours'))}{note}</div></div></header>"
    )


def _hours(hours):
    if hours is None:
        return "<p>Non communiqués.</p>"
    rows = []
    for day in DAYS_FR:
        slots = hours.get(day)
        if slots or day != "dimanche":
            cell = ", ".join(_slot(s) for s in slots) if slots else '<span class="closed">fermé</span>'
            rows.append(f"<tr><th>{day.capitalize()}</th><td>{cell}</td></tr>")
    return f'<table class="hours">{"".join(rows)}</table>'


def _slot(slot):
    """ "09:00-12:30" → "9 h – 12 h 30"."""
    return " – ".join(_time(t) for t in slot.split("-", 1))


def _time(hhmm):
    hours, _, minutes = hhmm.partition(":")
    return e(f"{int(hours)} h" + (f" {minutes}" if minutes not in ("", "00") else "")) if hours.isdigit() else e(hhmm)


def _domain(name, services):
    return f"<section><h2>{e(name)}</h2>{''.join(_service(s) for s in services)}</section>"


def _service(s):
    others = (s.get("domains") or [])[1:]
    also = f'<p class="closed">Aussi : {e(", ".join(_heading(d) for d in others))}</p>' if others else ""
    mission = f"<p>{e(s['mission'])}</p>" if s.get("mission") else ""
    refer = [
        f"<p>{e(s['referral'])}</p>" if s.get("referral") else "",
        f'<p>Contact : <a href="mailto:{e(s["contact_email"])}">{e(s["contact_email"])}</a></p>'
        if s.get("contact_email")
        else "",
    ]
    refer_block = (
        f'<div class="refer fr-callout"><h4 class="fr-callout__title">Orienter une personne</h4>{"".join(refer)}</div>'
        if any(refer)
        else ""
    )
    return (
        f'<article class="service"><h3>{e(s["name"])}</h3>{also}{mission}{refer_block}'
        f"{_commitments(s.get('commitments') or [])}</article>"
    )


def _commitments(commitments):
    if not commitments:
        return ""
    order = list(PRINCIPLES_FR)
    rows = "".join(
        f"<dt>{e(PRINCIPLES_FR.get(c['principle'], c['principle']))}</dt>"
        f"<dd>{e(c['text']) if c.get('text') else 'engagement pris, sans précision'}</dd>"
        for c in sorted(commitments, key=lambda c: order.index(c["principle"]) if c["principle"] in order else len(order))
    )
    return f"<h4>Ses engagements</h4><dl>{rows}</dl>"


def _date(day):
    return f"{day.day}{'er' if day.day == 1 else ''} {MONTHS_FR[day.month - 1]} {day.year}"
