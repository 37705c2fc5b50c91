"""The scheduler process (leader election, heartbeat) and what it runs: the sweep, the
e-mail dispatch, the stored figures and states, the nightly audit-chain check; their
commands, and the operations page (scheduler status, outbox, retention).

It sits above every package whose work it schedules and is imported by none of them.
"""

from flask import Blueprint

bp = Blueprint("jobs", __name__, url_prefix="/compliance")
