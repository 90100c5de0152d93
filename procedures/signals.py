"""What happened to a case, announced to whoever listens (the folder's notifications).

``procedures`` must not import ``portal`` (imports point down), so it announces instead:
the portal connects at start-up. Receivers run inside the caller's transaction, so what
they write commits or rolls back with the change itself.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: sender: the Application; keywords: ``procedure`` and ``event`` (the TimelineEvent).
case_changed = _signals.signal("case-changed")

#: sender: the IssuedDocument (a certificate or resolution; receipts are not announced).
document_issued = _signals.signal("document-issued")
