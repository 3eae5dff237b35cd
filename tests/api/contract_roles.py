"""Who may call what, written by hand from the contract (../shared/contract.md §4) and, for the
operations the contract leaves to SPC, from the README's "Admin API" section. Never generated: the
authorisation matrix (test_authorization.py) takes its expectations from here, and openapi.yaml's
`x-spc-role` / `x-spc-scoped`, which the code generates, are checked against it
(test_contract_roles.py). Opening an operation to another role in the code therefore fails both,
whatever the generated document says.

`public`: no token; `any`: every staff role may call it ("any role may read", §4); otherwise that
one role. `scoped`: the scoped roles admitted, each only on the ids of its label."""

PUBLIC, ANY = "public", "any"
AGENT, SERVICE = "counter_agent/<counter_id>", "service/<service_id>"

# (method, path): (role, scoped roles)
ROLES = {
    # every service (§4: "these three need no token"), and the standings `spc reconcile` reads
    ("GET", "/health/live"): (PUBLIC, ()),
    ("GET", "/health/ready"): (PUBLIC, ()),
    ("GET", "/metrics"): (PUBLIC, ()),
    ("GET", "/standings"): (ANY, ()),
    # registry (§4: POST /services, approve, revoke by the registrar; reads by any role)
    ("POST", "/services"): ("registrar", ()),
    ("GET", "/services"): (ANY, ()),
    ("GET", "/services/{service_id}"): (ANY, ()),
    ("POST", "/services/{service_id}/approve"): ("registrar", ()),
    ("POST", "/services/{service_id}/revoke"): ("registrar", ()),
    ("GET", "/services/{service_id}/pact"): (ANY, ()),
    ("GET", "/services/{service_id}/amendments"): (ANY, ()),
    ("POST", "/services/{service_id}/amendments"): ("registrar", ()),
    ("POST", "/services/{service_id}/amendments/{amendment_id}/approve"): ("registrar", ()),
    ("POST", "/services/{service_id}/amendments/{amendment_id}/reject"): ("registrar", ()),
    # applications from Démarches Simplifiées (README, "Admin API"): DS's webhook carries its
    # secret in the URL; parked dossiers are read by any role, retried by the registrar
    ("POST", "/ds/webhook/{secret}"): (PUBLIC, ()),
    ("GET", "/ds/dossiers"): (ANY, ()),
    ("POST", "/ds/dossiers/{number}/retry"): ("registrar", ()),
    ("GET", "/public/services"): (PUBLIC, ()),
    ("GET", "/public/services/{service_id}"): (PUBLIC, ()),
    # funding (§4: programmes, grants and releases by the funding officer)
    ("POST", "/programmes"): ("funding_officer", ()),
    ("GET", "/programmes"): (ANY, ()),
    ("GET", "/programmes/{programme_id}"): (ANY, ()),
    ("POST", "/grants"): ("funding_officer", ()),
    ("POST", "/tranches/{tranche_id}/release"): ("funding_officer", ()),
    ("GET", "/services/{service_id}/funding"): (ANY, ()),
    # two people for money (1.3): a funding officer requests, another approves; anyone on staff reads
    ("POST", "/grants/{grant_id}/revoke"): ("funding_officer", ()),
    ("POST", "/programmes/{programme_id}/budget"): ("funding_officer", ()),
    ("POST", "/approvals"): ("funding_officer", ()),
    ("GET", "/approvals"): (ANY, ()),
    ("GET", "/approvals/{approval_id}"): (ANY, ()),
    ("POST", "/approvals/{approval_id}/approve"): ("funding_officer", ()),
    ("POST", "/approvals/{approval_id}/reject"): ("funding_officer", ()),
    ("GET", "/public/programmes"): (PUBLIC, ()),
    ("GET", "/public/programmes/{programme_id}"): (PUBLIC, ()),
    ("GET", "/public/services/{service_id}/funding"): (PUBLIC, ()),
    # distribution (§4: reads by any role; an agent reads its counters' catalogues and relays
    # reports there, as a distribution officer may for any counter)
    ("GET", "/counters"): (ANY, ()),
    ("GET", "/counters/{counter_id}/catalogue"): (ANY, (AGENT,)),
    ("GET", "/counters/{counter_id}/catalogue.html"): (ANY, (AGENT,)),
    ("POST", "/counters/{counter_id}/reports"): ("distribution_officer", (AGENT,)),
    ("GET", "/services/{service_id}/listings"): (ANY, ()),
    ("GET", "/public/counters"): (PUBLIC, ()),
    ("GET", "/public/counters/{counter_id}/catalogue"): (PUBLIC, ()),
    # audit (§4: findings, their resolution and the journal's verification by an auditor; a
    # service reads its own dossier and answers its own findings)
    ("POST", "/findings"): ("auditor", ()),
    ("POST", "/findings/{finding_id}/resolve"): ("auditor", ()),
    ("POST", "/findings/{finding_id}/escalate"): ("auditor", ()),
    ("GET", "/journal/verify"): ("auditor", ()),
    ("GET", "/reports"): ("auditor", ()),
    ("POST", "/reports/{report_id}/dismiss"): ("auditor", ()),
    ("GET", "/services/{service_id}/findings"): (ANY, (SERVICE,)),
    ("GET", "/services/{service_id}/dossier"): (ANY, (SERVICE,)),
    # the public pages (1.3): French, the State design system, no token
    ("GET", "/public/pages/services"): (PUBLIC, ()),
    ("GET", "/public/pages/services/{service_id}"): (PUBLIC, ()),
    ("GET", "/public/pages/services/{service_id}/funding"): (PUBLIC, ()),
    ("GET", "/public/dsfr/{asset_path}"): (PUBLIC, ()),
    # the agenda (1.3), on registry, funding and audit, each its own deadlines; a service reads its own
    ("GET", "/agenda"): (ANY, ()),
    ("GET", "/services/{service_id}/agenda"): (ANY, (SERVICE,)),
    ("POST", "/services/{service_id}/findings/{finding_id}/answer"): ("auditor", (SERVICE,)),
    ("POST", "/services/{service_id}/findings/{finding_id}/done"): ("auditor", (SERVICE,)),
}


def role_of(method, path):
    """The contract's role for an operation; KeyError for one nobody wrote down here."""
    return ROLES[(method, path)][0]


def allows(method, path, role):
    wanted = role_of(method, path)
    return wanted in (PUBLIC, ANY) or role == wanted
