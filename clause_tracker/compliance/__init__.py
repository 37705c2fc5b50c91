"""THE compliance state of agreements (state.py): one ordered list of rules compiled to SQL,
read by the detail pages, the registry's lists, the overview and the ECCAR report, and the
questions the state asks about checks (check_predicates.py). It reads agreements,
declarations, checks and measures and writes nothing."""
