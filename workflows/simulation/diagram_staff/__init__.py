"""How the simulated staff act on the user tasks of each diagram: one module per process, named by its id.

Each module maps the element ids of its diagram's user tasks to the handlers that say who acts, when and with
what form data (`workflows.simulation.staff.Handler`); `HANDLERS` is all of them, as the simulator's staff use them.
"""

from workflows.simulation.diagram_staff import (
    four_team,
    grid_visit,
    leader_package,
    mediation,
    monthly_report,
    online_message,
    petition,
    reception,
    statutory,
    supervision,
)
from workflows.simulation.staff import Handler

DIAGRAMS = (reception, supervision, grid_visit, four_team, mediation, online_message, leader_package,
            monthly_report, petition, statutory)
HANDLERS: dict[str, Handler] = {element: handler for diagram in DIAGRAMS
                               for element, handler in diagram.HANDLERS.items()}
