"""Questions asked of plans: compare two plans, explain a task's place, sweep policies and
levers, and monitor a plan in force against its due dates."""
