"""`python bot.py connect-quickbooks [--paste] [--discard-tokens]`: connect a company from a terminal."""
from __future__ import annotations

import sys

from config import Settings
from data.db import Connections
from data.token_key import TokenCipher
from data.tokens import TokenKeyError, TokenStore, open_tokens
from integrations.errors import IntegrationError
from integrations.quickbooks_connect import connect_quickbooks


def cmd_connect(settings: Settings, *, paste: bool | None, discard: bool) -> int:
    connections = Connections(settings.database_path)
    if discard:  # the key is lost for good: tokens it sealed are useless; a person asked for this
        dropped = TokenStore(connections, TokenCipher.generate()).discard()
        print(f"Deleted the stored tokens of {dropped} compan{'y' if dropped == 1 else 'ies'}; connect again below.")
    try:
        tokens = open_tokens(connections, settings)
    except TokenKeyError as e:
        print(e, file=sys.stderr)
        return 2
    try:
        connect_quickbooks(settings, tokens, paste=paste)
    except IntegrationError as e:  # a clear one-line reason (timeout, state, access_denied), not a traceback
        print(e, file=sys.stderr)
        return 1
    return 0
