"""`/applycredit connect`: an admin replaces the QuickBooks connection from Slack, and waiting jobs resume.

- `invite(admin)`: the policy's connect rule, then a one-time `state` bound to that admin (data/oauth_states.py,
  10 minutes). HTTP mode gets a link to the bot's own Reconnect URL (`/quickbooks/connect?state=…`, web/), which
  sends the browser to Intuit; Socket Mode (no public address) gets Intuit's consent URL for the paste modal.
- Intuit sends the browser back with `code`, `state` and `realmId`: served by the bot's `/quickbooks/callback`
  (`finish`), or pasted into the modal by the admin (`claim(..., user=admin)`, then `complete`). The state is used
  up before anything else is looked at; a redirect for another company than the bot's is refused before the
  code is exchanged. The new tokens replace the old in one transaction; the connection watch then resumes jobs.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from data.events import EventKind
from data.jobs import JobStore
from data.oauth_states import OAuthStates
from integrations.errors import AuthError, IntegrationError
from integrations.quickbooks_callback import is_redirect
from integrations.quickbooks_connect import pasted_params
from workflow.connection import ConnectionWatch
from workflow.declined import Declined
from workflow.policy import Action, NotAllowed, Policy
from workflow.validation import InvalidRequest

LINK_TTL = 600.0  # seconds a link works: Intuit's code itself lasts minutes
CALLBACK_PATH = "/quickbooks/callback"
CONNECT_PATH = "/quickbooks/connect"
AGAIN = "run `/applycredit connect` for a new link"


class ConnectRefused(Declined):
    """The redirect is not accepted; `message` says why and what to do, `code` is for the audit trail."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Invitation:
    url: str            # served: the bot's Reconnect URL with the state; paste: Intuit's consent URL
    served: bool        # HTTP mode: the bot receives the redirect itself
    expires_at: float
    redirect_uri: str


@dataclass(frozen=True)
class Claim:
    """A redirect that passed every check but the exchange itself."""

    admin: str
    code: str
    realm_id: str


def serves_callback(redirect_uri: str, socket_mode: bool) -> bool:
    """True when Intuit's redirect reaches the bot itself: HTTP mode, with QBO_REDIRECT_URI on /quickbooks/callback."""
    return not socket_mode and urlsplit(redirect_uri).path == CALLBACK_PATH


class ReconnectService:
    def __init__(self, *, policy: Policy, states: OAuthStates, flow, watch: ConnectionWatch, jobs: JobStore,
                 served: bool, use_realm: Callable[[str], None], ttl: float = LINK_TTL) -> None:
        """`flow` is an integrations.quickbooks_authorize.AuthorizationFlow; `use_realm` points the bot's clients
        at the company when none was known yet (the first connection)."""
        self.policy, self.states, self.flow, self.watch, self.jobs = policy, states, flow, watch, jobs
        self.served, self.use_realm, self.ttl = served, use_realm, ttl

    def invite(self, user: str) -> Invitation:
        """A one-time link for an admin; NotAllowed for anyone else."""
        try:
            self.policy.check(Action.CONNECT, user, None)
        except NotAllowed:
            self.jobs.record(None, actor=user, kind=EventKind.QUICKBOOKS_CONNECT_REFUSED, details={"code": "not_admin"})
            raise
        issued = self.states.issue(user, self.ttl)
        self.jobs.record(None, actor=user, kind=EventKind.QUICKBOOKS_CONNECT_LINK,
                         details={"served": self.served, "expires_at": issued.expires_at})
        if self.served:
            origin = "{0.scheme}://{0.netloc}".format(urlsplit(self.flow.redirect_uri))
            url = f"{origin}{CONNECT_PATH}?state={quote(issued.value, safe='')}"
        else:
            url = self.flow.consent_url(issued.value)
        return Invitation(url, self.served, issued.expires_at, self.flow.redirect_uri)

    def landing(self, state: str) -> str | None:
        """The Reconnect URL: Intuit's consent URL for a valid link's state (not used up yet), else None."""
        return self.flow.consent_url(state) if state and self.states.valid(state) else None

    def claim_pasted(self, text: str, user: str) -> Claim:
        """The paste modal: InvalidRequest for an address without QuickBooks' answer (paste again), ConnectRefused
        or NotAllowed when it cannot be used."""
        params = pasted_params(text)
        if not is_redirect(params):
            raise InvalidRequest("url", "That address has no code and state from QuickBooks: copy the whole address "
                                        "the browser shows after you choose Connect, and paste it again.")
        self.policy.check(Action.CONNECT, user, None)
        return self.claim(params, user=user)

    def claim(self, params: dict[str, str], *, user: str | None = None) -> Claim:
        """Use up the state (bound to `user` when given), then check Intuit's answer; ConnectRefused otherwise."""
        admin = self.states.consume(params.get("state", ""), user)
        if admin is None:
            raise self._refusal(user, "state", f"This connect link is not valid: it was used already, it expired (links "
                                        f"last {self.ttl / 60:g} minutes) or it is not yours. Nothing was changed; {AGAIN}.")
        error = params.get("error")
        if error:
            denied = error == "access_denied"
            raise self._refusal(admin, "access_denied" if denied else "authorize_error",
                         ("Access was not granted on Intuit's page (Cancel)" if denied else
                          f"Intuit did not authorize the app ({error[:80]})") + f". Nothing was changed; {AGAIN}.")
        code, realm = params.get("code", ""), params.get("realmId", "")
        if not code or not re.fullmatch(r"[0-9]{1,32}", realm):
            raise self._refusal(admin, "no_code", f"QuickBooks' answer had no code or no company. Nothing was changed; {AGAIN}.")
        current = self.watch.realm
        if current and realm != current:
            raise self._refusal(admin, "other_company", f"That consent was for QuickBooks company {realm}, but this bot works "
                                                 f"with company {current}: nothing was changed. Choose company {current} "
                                                 f"on Intuit's page; {AGAIN}.")
        return Claim(admin, code, realm)

    def complete(self, claim: Claim) -> int:
        """Exchange the code, store the new grant, resume waiting jobs; returns how many resumed."""
        try:
            self.flow.exchange(claim.code, claim.realm_id)
        except IntegrationError as e:
            refused = isinstance(e, AuthError)
            raise self._refusal(claim.admin, e.code or type(e).__name__,
                         ("Intuit refused the authorization code (it works once and expires within minutes)" if refused
                          else "Intuit did not answer in time") + f". Nothing was changed; {AGAIN}.") from None
        if not self.watch.realm:
            self.use_realm(claim.realm_id)
        return self.watch.reconnected(claim.admin)

    def finish(self, params: dict[str, str]) -> tuple[str, int]:
        """The served callback: claim and complete; (company, jobs resumed)."""
        claim = self.claim(params)
        return claim.realm_id, self.complete(claim)

    def _refusal(self, user: str | None, code: str, message: str) -> ConnectRefused:
        """The refusal to raise, recorded in the audit trail (its code, never the redirect's values)."""
        self.jobs.record(None, actor=user or "unknown", kind=EventKind.QUICKBOOKS_CONNECT_REFUSED,
                         details={"code": code})
        return ConnectRefused(message, code)
