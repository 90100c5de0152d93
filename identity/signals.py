"""What happens to an account, announced to the packages above (imports point down).

Receivers run inside the caller's transaction: what they delete is deleted with the
account, or not at all.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: sender: the Account about to be closed for good (``identity.accounts.delete_account``).
account_closing = _signals.signal("account-closing")
