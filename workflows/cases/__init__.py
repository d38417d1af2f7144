"""The case record, routing tables, deadlines and calendar, task work and access rules, forms, script helpers."""
