"""doctor's Slack checks: the bot token and its scopes (against manifest.yml's), the channels the bot posts in, the
Socket Mode token. Every call is one the app's own scopes allow (conversations.info: channels:read, groups:read)."""
from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from cli.doctor import Finding, fix, note, ok
from config import Settings

# manifest.yml's bot scopes (tests/unit/test_doctor_scopes.py keeps the two equal).
BOT_SCOPES = frozenset({"commands", "chat:write", "channels:join", "files:write", "channels:read", "groups:read"})
INVITE = "/invite @applycredit"


def _client(settings: Settings, token: str) -> WebClient:
    return WebClient(token=token, base_url=settings.slack_api_url or WebClient.BASE_URL, timeout=10)


def _error(e: SlackApiError) -> str:
    return str(e.response.get("error") or f"HTTP {e.response.status_code}")


def slack_findings(settings: Settings) -> list[Finding]:
    client = _client(settings, settings.slack_bot_token)
    try:
        auth = client.auth_test()
    except SlackApiError as e:
        return [fix("SLACK_BOT_TOKEN", f"Slack refused it ({_error(e)}): copy the *Bot User OAuth Token* (xoxb-…) "
                                       "from OAuth & Permissions, or reinstall the app")]
    except Exception as e:  # noqa: BLE001 (no answer at all: the address, a proxy, the network)
        return [fix("SLACK_API_URL" if settings.slack_api_url else "Slack", f"no answer from Slack's Web API "
                                                                           f"({type(e).__name__})")]
    found = [ok("SLACK_BOT_TOKEN", f"works: team {auth.get('team')}, bot user {auth.get('user')}")]
    found.append(_scopes(auth.headers.get("x-oauth-scopes")))
    channels = {settings.notify_channel: "NOTIFY_CHANNEL", **{c: "ALLOWED_CHANNELS" for c in settings.allowed_channels}}
    found += [_channel(client, channel, name) for channel, name in channels.items() if channel]
    found.append(_socket_mode(settings))
    return found


def _scopes(header: str | None) -> Finding:
    """The token's scopes against the manifest's: missing ones break something, extra ones are more than needed."""
    if header is None:
        return note("Slack scopes", "Slack did not say which scopes the token has (no x-oauth-scopes header)")
    granted = {s.strip() for s in header.split(",") if s.strip()}
    missing, extra = sorted(BOT_SCOPES - granted), sorted(granted - BOT_SCOPES)
    if missing:
        return fix("Slack scopes", f"the app lacks {', '.join(missing)} (manifest.yml asks for them): update the app "
                                   "from manifest.yml and reinstall it to the workspace")
    if extra:
        return fix("Slack scopes", f"the token has more than manifest.yml asks for ({', '.join(extra)}): remove them "
                                   "in OAuth & Permissions and reinstall (least privilege)")
    return ok("Slack scopes", f"exactly manifest.yml's: {', '.join(sorted(granted))}")


def _channel(client: WebClient, channel: str, setting: str) -> Finding:
    """Is the bot in the channel? A private one it is not in does not exist for it (channel_not_found)."""
    area = f"{setting} {channel}"
    try:
        info = client.conversations_info(channel=channel)["channel"]
    except SlackApiError as e:
        error = _error(e)
        if error == "channel_not_found":
            return fix(area, f"the bot cannot see it: a private channel it was not invited to, or a wrong id. In "
                             f"the channel, run `{INVITE}`")
        if error == "missing_scope":
            return fix(area, f"cannot check ({e.response.get('needed')} missing): reinstall the app from manifest.yml")
        return fix(area, f"Slack answered {error}")
    name = f"#{info.get('name')}" if info.get("name") else channel
    if info.get("is_archived"):
        return fix(area, f"{name} is archived: nothing can be posted there; choose another channel")
    if info.get("is_member"):
        return ok(area, f"the bot is a member of {name}")
    if info.get("is_private"):
        return fix(area, f"the bot is not in {name}: run `{INVITE}` there")
    return note(area, f"the bot is not in {name} yet; it joins this public channel by itself when it first posts "
                      f"(or run `{INVITE}`)")


def _socket_mode(settings: Settings) -> Finding:
    if not settings.socket_mode:
        return note("SLACK_APP_TOKEN", f"not set: HTTP mode. Slack must reach https://<this host>/slack/events "
                                       f"(PORT {settings.port}); Socket Mode is recommended (README)")
    try:
        _client(settings, "").apps_connections_open(app_token=settings.slack_app_token)
    except SlackApiError as e:
        return fix("SLACK_APP_TOKEN", f"Slack refused it for Socket Mode ({_error(e)}): create an app-level token "
                                      "with connections:write (Basic Information → App-Level Tokens)")
    return ok("SLACK_APP_TOKEN", "Socket Mode: Slack hands out a connection for it")
