"""Public pages: what anyone may read, in French, on the State's design system (DSFR, vendored in
spc/data/dsfr from the npm package @gouvfr/dsfr with its licence), with no JavaScript.

A page is built from the same views as the public JSON API (so both always say the same), its
every text escaped. It is served like a public read: a strong ETag, `Cache-Control: public,
max-age=SPC_PUBLIC_MAX_AGE`, and the public rate limit (shared/web/public_reads.py). The stylesheet,
fonts and icons are served at /public/dsfr/... with a day's cache and no rate limit (a page's
assets would spend a visitor's bucket).

Links between pages of different services (a service's page, served by the registry, to its
money, served by funding) go to `SPC_PUBLIC_URL_<SERVICE>` (the service's public address behind
the operator's proxy: set it in production), by default the request's host on that service's port."""

import re
from html import escape
from pathlib import Path

from werkzeug.wrappers import Response

from ..sql.bootstrap import DEFAULT_PORTS
from ..core.errors import NotFound
from .http import PUBLIC, api

DSFR = Path(__file__).resolve().parent.parent / "spc" / "data" / "dsfr"
if not DSFR.is_dir():  # installed: spc/data beside the spc package
    import spc

    DSFR = Path(spc.__file__).resolve().parent / "data" / "dsfr"
ASSET_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".woff2": "font/woff2",
    ".svg": "image/svg+xml",
    ".md": "text/markdown; charset=utf-8",
}
ASSET_MAX_AGE = 86400
_HOST = re.compile(r"([A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?")  # a Host header, checked


class AssetNotFound(NotFound):
    """No such file of the design system here."""

    code = "asset_not_found"


def asset(name):
    """(bytes, content type) of a vendored DSFR file; AssetNotFound for anything else (no path
    outside the folder, whatever `..` or encoding the name holds)."""
    path = (DSFR / name).resolve()
    if DSFR not in path.parents or path.suffix not in ASSET_TYPES or not path.is_file():
        raise AssetNotFound(f"no design-system file {name!r}", {"asset": name[:200]})
    return path.read_bytes(), ASSET_TYPES[path.suffix]


class DesignSystemAssets:
    """Mixin of a service that serves public pages: the DSFR's files."""

    @api(
        "GET",
        "/public/dsfr/<path:asset_path>",
        role=PUBLIC,
        media_type="text/css",
        errors=(AssetNotFound,),
        summary="The State design system's stylesheet, fonts and icons the public pages use (DSFR, "
        "Etalab 2.0: spc/data/dsfr/LICENSE.md)",
    )
    def dsfr_asset(self, call, asset_path):
        body, content_type = asset(asset_path)
        return Response(
            body, status=200, content_type=content_type, headers={"Cache-Control": f"public, max-age={ASSET_MAX_AGE}"}
        )


def public_url(environ, service, request_host=None):
    """Where the public reaches `service`: SPC_PUBLIC_URL_<SERVICE>, else this host on the
    service's port (`<SERVICE>_PORT`, else its own default)."""
    configured = (environ.get(f"SPC_PUBLIC_URL_{service.upper()}") or "").rstrip("/")
    if configured:
        return configured
    port = environ.get(f"{service.upper()}_PORT") or DEFAULT_PORTS[service]
    found = _HOST.fullmatch(request_host or "")
    return f"http://{found.group(1) if found else 'localhost'}:{port}"


def e(value):
    return escape("" if value is None else str(value), quote=True)


def layout(title, body, breadcrumb=(), description=""):
    """A whole page: the State's header, a breadcrumb, the body, the footer. `breadcrumb`:
    [(label, href)], the last one the page itself."""
    crumbs = ""
    if breadcrumb:
        items = [f'<li><a class="fr-breadcrumb__link" href="{e(href)}">{e(label)}</a></li>' for label, href in breadcrumb[:-1]]
        items.append(f'<li><a class="fr-breadcrumb__link" aria-current="page">{e(breadcrumb[-1][0])}</a></li>')
        crumbs = (
            '<nav role="navigation" class="fr-breadcrumb" aria-label="vous êtes ici :">'
            '<div class="fr-collapse" id="fil-ariane"><ol class="fr-breadcrumb__list">' + "".join(items) + "</ol></div></nav>"
        )
    return f"""<!doctype html>
<html lang="fr" data-fr-scheme="light">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, shrink-to-fit=no">
<title>{e(title)} — Service Public Citoyen</title>
<meta name="description" content="{e(description or title)}">
<link rel="stylesheet" href="/public/dsfr/dsfr.min.css">
<style>
.spc-timeline {{ max-width: 100%; height: auto; }}
@media print {{ .fr-header, .fr-footer, .fr-skiplinks, .fr-breadcrumb {{ display: none; }} }}
</style>
</head>
<body>
<div class="fr-skiplinks"><nav class="fr-container" role="navigation" aria-label="Accès rapide">
<ul class="fr-skiplinks__list"><li><a class="fr-link" href="#contenu">Contenu</a></li></ul></nav></div>
<header role="banner" class="fr-header"><div class="fr-header__body"><div class="fr-container">
<div class="fr-header__body-row"><div class="fr-header__brand fr-enlarge-link">
<div class="fr-header__brand-top"><div class="fr-header__logo"><p class="fr-logo">République<br>Française</p></div></div>
<div class="fr-header__service"><a href="/public/pages/services" title="Accueil — Service Public Citoyen">
<p class="fr-header__service-title">Service Public Citoyen</p></a>
<p class="fr-header__service-tagline">Les services d'intérêt général sous pacte de service public</p></div>
</div></div></div></div></header>
<main role="main" id="contenu"><div class="fr-container fr-py-4w">
{crumbs}
{body}
</div></main>
<footer class="fr-footer" role="contentinfo"><div class="fr-container"><div class="fr-footer__body">
<div class="fr-footer__brand fr-enlarge-link"><p class="fr-logo">République<br>Française</p></div>
<div class="fr-footer__content"><p class="fr-footer__content-desc">Pages publiques de Service Public Citoyen :
l'État garantit les principes du service public (continuité, égalité d'accès, neutralité, adaptabilité,
transparence, protection des données, absence de publicité). Les mêmes données sont ouvertes, sans compte,
au format JSON (API publique).</p></div></div></div></footer>
</body>
</html>
"""


def html_response(text, status=200):
    return Response(text.encode("utf-8"), status=status, content_type="text/html; charset=utf-8")
