"""The public API of supervision. Import from here; the modules behind it hold one concept each.

    from actors.supervision import ChildSpec, Restart, SupervisedActor, Supervisor, ...

See actors/supervision/README.md for the failure model and how the main program uses `ProcessExit`.
"""

from actors.supervision.child_directory import ChildDirectory, ChildHandle
from actors.supervision.child_spec import ActorFactory, ChildSpec, Restart
from actors.supervision.process_exit import EXIT_GAVE_UP, ProcessExit
from actors.supervision.restart_limits import Backoff, RestartIntensity
from actors.supervision.supervised_actor import ChildExited, ExitReason, SupervisedActor, crash_on_error
from actors.supervision.supervisor import (
    ChildStatus,
    RestartIntensityExceeded,
    SupervisionListener,
    Supervisor,
    supervisor_spec,
)

__all__ = [
    "EXIT_GAVE_UP",
    "ActorFactory",
    "Backoff",
    "ChildDirectory",
    "ChildExited",
    "ChildHandle",
    "ChildSpec",
    "ChildStatus",
    "ExitReason",
    "ProcessExit",
    "Restart",
    "RestartIntensity",
    "RestartIntensityExceeded",
    "SupervisedActor",
    "SupervisionListener",
    "Supervisor",
    "crash_on_error",
    "supervisor_spec",
]
