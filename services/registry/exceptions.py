"""The registry's error catalogue: what its use cases refuse, each with its stable code."""

from spc.shared.core.errors import Conflict, InvalidRequest, NotFound


class ServiceNotFound(NotFound):
    """No registered service has this id."""


class InvalidPact(InvalidRequest):
    """The pact breaks one or more rules; `details.fields` names each."""


class IllegalTransition(Conflict):
    """The service's status does not allow this change (e.g. approving an active service)."""

    code = "illegal_transition"


class OpenViolations(Conflict):
    """The service has open violations: it cannot be approved until they are resolved."""

    code = "open_violations"


class TermEnded(Conflict):
    """The pact's term has ended: renew it (an amendment with a later `term.ends_on`) first."""

    code = "term_ended"


class AlreadyRegistered(Conflict):
    """The same organisation (SIREN or RNA) already registered a service of this name;
    `details.service_id` is its id."""

    code = "already_registered"


class AmendmentNotFound(NotFound):
    """The service has no amendment with this id."""


class AmendmentNotPending(Conflict):
    """The amendment was already approved or rejected."""

    code = "amendment_decided"


class PactVersionNotFound(NotFound):
    """The service's pact has no such version; `details.versions` lists those it has."""


class IdentityMismatch(Conflict):
    """The national registries disagree with the declared identity (or know no unit with its
    SIREN): an approval must state its reason (`{"reason": ...}`); `details.fields` says what
    disagrees."""

    code = "identity_mismatch"


class WebhookNotFound(NotFound):
    """No Démarches Simplifiées webhook at this URL (the secret in it is not SPC_DS_WEBHOOK_SECRET,
    or no démarche is read: SPC_DS_TOKEN unset)."""


class DossierNotFound(NotFound):
    """SPC has read no Démarches Simplifiées dossier with this number."""


class DemarchesUnavailable(Conflict):
    """Démarches Simplifiées could not be asked now (down, or over its limits): `details.retry_after`
    says when to try again; polling will catch up by itself."""

    code = "ds_unavailable"


class DemarchesRefused(Conflict):
    """Démarches Simplifiées refused what SPC asked, or the dossier's démarche is not one SPC
    reads: a setting to fix (SPC_DS_TOKEN, a <démarche>.toml in SPC_DS_MAPPINGS), not a moment to
    wait out; the message says which."""

    code = "ds_refused"
