"""Fault injection for the backup app on the local host.

``python -m faults crash-loop`` kills the host at random moments of a backup, restarts it
and checks that nothing was lost. The building blocks (trees, blob checks) also serve the
reliability tests.
"""

from __future__ import annotations


class FaultError(Exception):
    """Base class of this package's errors: a run could not be set up or checked."""
