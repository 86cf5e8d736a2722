"""Named moments of a build at which a test can stop it: fault injection for kill -9 and similar tests.

With BULLETINS_FAILPOINT=<name>[,<name>...] a build that reaches one of the named moments writes
`failpoint <name>` to stderr and waits there (up to `PAUSE_SECONDS`), so a test can kill it exactly then
instead of guessing from timings. Unset (the default), `reach` does nothing.

Moments: `indexing` (the first file has been indexed), `committing` (every segment is written, the TOC is
not), `checking` (the TOC is committed, the generation not yet checked) and `activating` (checked, CURRENT
not yet replaced).
"""

from __future__ import annotations

import sys
import time

from index import config

PAUSE_SECONDS = 60.0
NAMES = ("indexing", "committing", "checking", "activating")


def reach(name: str) -> None:
    """Pause here when BULLETINS_FAILPOINT names this moment."""
    wanted = {item.strip() for item in config.get("BULLETINS_FAILPOINT").split(",") if item.strip()}
    if name in wanted:
        print(f"failpoint {name}", file=sys.stderr, flush=True)
        time.sleep(PAUSE_SECONDS)
