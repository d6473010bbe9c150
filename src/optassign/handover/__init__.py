"""A handover is a re-solve from the plan in force under staffing changes: the changed problem,
the moves it forces and allows, the frontier of moves against value, handover tables, sheets
and messages."""
