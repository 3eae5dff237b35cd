"""The registry's public pages, in French, on the State's design system (shared/web/pages.py): the
services under a pact, by département and domain, and each service's page — its mission, its
commitments, its standing in plain words (the principle at stake and since when, when
suspended), where it is presented, and links to its money (funding's page) and its JSON.
Built from the public read API's views (public.py): both always say the same."""

from datetime import date, datetime

from marshmallow import Schema, fields, validate

from spc.shared.core.french import PRINCIPLES_FR, date_fr
from spc.shared.core.geography import geography
from spc.shared.web.http import PUBLIC, api
from spc.shared.web.pages import DesignSystemAssets, e, html_response, layout, public_url

from . import public
from .exceptions import ServiceNotFound

STATUS_FR = {
    "active": ("Actif", "success"),
    "suspended": ("Suspendu", "error"),
    "expired": ("Pacte échu", "warning"),
    "revoked": ("Retiré", "error"),
}
LEGAL_FORMS_FR = {
    "association": "association",
    "cooperative": "coopérative",
    "scic": "SCIC",
    "company": "entreprise",
    "public_body": "organisme public",
    "foundation": "fondation",
}
PAGE = 500  # services on one page of a département


class ServicesPageQuery(Schema):
    departement = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^(2[AB]|[0-9]{2,3})$"),
        metadata={"description": "a département's INSEE code (35, 2A, 974): the services presented there"},
    )
    domaine = fields.String(
        load_default=None,
        validate=validate.Length(1, 100),
        metadata={"description": "only the services of this domain (as their pacts name it)"},
    )


def _department_name(code):
    found = geography().departments.get(code)
    return f"{found.name} ({code})" if found else code


def _when(wire):
    return date_fr(datetime.fromisoformat(wire).date()) if wire else None


def standing_fr(view):
    """The standing in the public's words."""
    status = view["status"]
    if status == "suspended":
        s = view["suspension"] or {}
        since = f" depuis le {_when(s.get('since'))}" if s.get("since") else ""
        principle = s.get("principle")
        cause = (
            f"un manquement au principe « {PRINCIPLES_FR.get(principle, principle)} » a été constaté"
            if principle
            else "un manquement au pacte a été constaté"
        )
        others = (s.get("open_violations") or 1) - 1
        more = f" (et {others} autre{'s' if others > 1 else ''})" if others > 0 else ""
        return (
            f"Ce service est suspendu{since} : {cause}{more}. Son financement est gelé et il n'est plus "
            "présenté dans les espaces France services, jusqu'à ce que l'État constate qu'il y a été remédié."
        )
    if status == "expired":
        ends = view["pact"].get("ends_on")
        end = f" le {date_fr(date.fromisoformat(ends))}" if ends else ""
        return f"Le pacte de ce service a pris fin{end} : il n'est plus financé ni présenté."
    if status == "revoked":
        return "Ce service a été retiré : son pacte est résilié."
    return (
        "Ce service respecte son pacte de service public : il est financé et présenté dans les espaces "
        "France services de son territoire."
    )


def _badge(status):
    label, kind = STATUS_FR.get(status, (status, "info"))
    return f'<p class="fr-badge fr-badge--{kind} fr-badge--no-icon">{e(label)}</p>'


def _where(view):
    t = view["territories"]
    if t.get("national"):
        return "dans toute la France"
    parts = [_department_name(d) for d in t.get("departments", [])]
    parts += [f"commune {c}" for c in t.get("communes", [])]
    parts += [f"région {r}" for r in t.get("regions", [])]
    return ", ".join(parts) or "—"


def services_page(views, departement=None, domaine=None, total=0):
    """The list: the form (no JavaScript: a GET form), then by domain, each service a card."""
    deps = sorted(geography().departments.values(), key=lambda d: d.code)
    options = "".join(
        f'<option value="{e(d.code)}"{" selected" if d.code == departement else ""}>{e(d.code)} — {e(d.name)}</option>'
        for d in deps
    )
    form = f"""<form method="get" action="/public/pages/services" class="fr-mb-4w">
<div class="fr-grid-row fr-grid-row--gutters fr-grid-row--bottom">
<div class="fr-col-12 fr-col-md-5"><div class="fr-select-group">
<label class="fr-label" for="departement">Département</label>
<select class="fr-select" id="departement" name="departement"><option value="">Tous</option>{options}</select>
</div></div>
<div class="fr-col-12 fr-col-md-5"><div class="fr-input-group">
<label class="fr-label" for="domaine">Domaine <span class="fr-hint-text">par exemple : petite enfance</span></label>
<input class="fr-input" type="text" id="domaine" name="domaine" value="{e(domaine or "")}">
</div></div>
<div class="fr-col-12 fr-col-md-2"><button class="fr-btn" type="submit">Afficher</button></div>
</div></form>"""
    by_domain = {}
    for view in views:
        domains = [d for d in view["domains"] if not domaine or d.lower() == domaine.lower()] or ([] if domaine else ["autres"])
        for d in domains:
            by_domain.setdefault(d, []).append(view)
    where = f" en {_department_name(departement)}" if departement else ""
    sections = []
    for d in sorted(by_domain, key=str.lower):
        cards = "".join(
            f"""<div class="fr-col-12 fr-col-md-6"><div class="fr-card fr-enlarge-link"><div class="fr-card__body">
<div class="fr-card__content"><h4 class="fr-card__title"><a href="/public/pages/services/{e(v["id"])}">{e(v["name"])}</a></h4>
<p class="fr-card__desc">{e(v["mission"])}</p>
<div class="fr-card__start">{_badge(v["status"])}</div>
<div class="fr-card__end"><p class="fr-card__detail">{e(_where(v))}</p></div>
</div></div></div></div>"""
            for v in sorted(by_domain[d], key=lambda v: v["name"].lower())
        )
        sections.append(
            f'<h3 class="fr-mt-4w">{e(d[:1].upper() + d[1:])}</h3><div class="fr-grid-row fr-grid-row--gutters">{cards}</div>'
        )
    count = len(views)
    shown = f"{count} service{'s' if count > 1 else ''}{where}" if count else f"Aucun service{where} pour l'instant"
    more = f" (les {PAGE} premiers sur {total})" if total > count else ""
    body = f"""<h1>Les services sous pacte de service public</h1>
<p class="fr-text--lead">Des associations, des coopératives et des collectivités rendent des services d'intérêt
général sous un pacte : l'État les enregistre, les finance, les présente dans les espaces France services et
vérifie qu'ils respectent les principes du service public.</p>
{form}
<h2>{e(shown)}{e(more)}</h2>
{"".join(sections)}"""
    return layout(
        "Les services sous pacte de service public",
        body,
        description="Les services sous pacte de service public, par département et par domaine",
    )


def service_page(view, money_url, json_url):
    """One service: standing first, then its mission, where, its commitments, its pact, its money."""
    alert_kind = {"active": "success", "suspended": "error"}.get(view["status"], "warning")
    commitments = "".join(
        f"<li><strong>{e(PRINCIPLES_FR.get(c['principle'], c['principle']))}</strong>"
        f"{' : ' + e(c['text']) if c.get('text') else ''}</li>"
        for c in view["commitments"]
    )
    pact = view["pact"]
    term = []
    if pact.get("starts_on") and pact.get("ends_on"):
        term.append(f"du {date_fr(date.fromisoformat(pact['starts_on']))} au {date_fr(date.fromisoformat(pact['ends_on']))}")
    if pact.get("pilot") and pact.get("evaluation_on"):
        term.append(f"expérimentation évaluée le {date_fr(date.fromisoformat(pact['evaluation_on']))}")
    counterpart = pact.get("public_counterpart")
    identity = ", ".join(
        x
        for x in (
            LEGAL_FORMS_FR.get(view["legal_form"], view["legal_form"]),
            f"SIREN {view['siren']}" if view.get("siren") else None,
            f"RNA {view['rna']}" if view.get("rna") else None,
        )
        if x
    )
    signed = f", signée le {e(date_fr(date.fromisoformat(pact['signed_on'])))}" if pact.get("signed_on") else ""
    body = f"""<h1>{e(view["name"])}</h1>
<div class="fr-mb-3w">{_badge(view["status"])}</div>
<div class="fr-alert fr-alert--{alert_kind} fr-mb-4w"><h2 class="fr-alert__title">Situation</h2>
<p>{e(standing_fr(view))}</p></div>
<h2>Sa mission</h2>
<p>{e(view["mission"])}</p>
<p>Domaines : {e(", ".join(view["domains"]) or "—")}. Porté par : {e(identity)}.</p>
<h2>Où il est présenté</h2>
<p>Dans les espaces France services de ce territoire : {e(_where(view))}.</p>
<h2>Ses engagements</h2>
<ul>{commitments or "<li>Pacte antérieur à la version 1.1 : engagements non détaillés.</li>"}</ul>
<h2>Son pacte</h2>
<p>Version {e(pact["version"])}{signed}
{(" avec " + e(counterpart["name"])) if counterpart else ""}{(". Durée : " + e(" ; ".join(term))) if term else ""}.</p>
<h2>Son financement public</h2>
<p><a class="fr-link" href="{e(money_url)}">Ce que ce service a reçu d'argent public, tranche par tranche</a></p>
<p class="fr-text--sm fr-mt-4w">Les mêmes informations en données ouvertes :
<a href="{e(json_url)}">{e(json_url)}</a></p>"""
    return layout(
        view["name"],
        body,
        breadcrumb=[("Services", "/public/pages/services"), (view["name"], "")],
        description=f"{view['name']} : sa mission, ses engagements et sa situation",
    )


class RegistryPages(DesignSystemAssets):
    """The registry's public pages (mixed into RegistryService; `config` is the service's)."""

    @api(
        "GET",
        "/public/pages/services",
        role=PUBLIC,
        query=ServicesPageQuery,
        media_type="text/html",
        summary="Public page: the services under a pact, by département and domain (French, DSFR, no token)",
    )
    def services_page(self, call):
        q = call.query
        filters = {"department": q["departement"]} if q["departement"] else {}
        found = public.public_services(self.store.uow(), limit=PAGE, **filters)
        return html_response(services_page(found["items"], q["departement"], q["domaine"], found["total"]))

    @api(
        "GET",
        "/public/pages/services/<string:service_id>",
        role=PUBLIC,
        media_type="text/html",
        errors=(ServiceNotFound,),
        summary="Public page: a service, its mission, commitments and standing in plain words (French, DSFR)",
    )
    def service_page(self, call, service_id):
        view = public.public_service(self.store.uow(), service_id)
        money = f"{public_url(self.config.get('ENV') or {}, 'funding', call.host)}/public/pages/services/{service_id}/funding"
        return html_response(service_page(view, money, f"/public/services/{service_id}"))
