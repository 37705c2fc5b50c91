"""THE compliance state of agreements (state.py): one ordered list of rules compiled to SQL,
read by the detail pages, the registry's lists, the overview and the ECCAR report; its copy
stored for the lists (stored_states.py); the questions the state asks about checks
(check_predicates.py). It reads agreements, declarations, checks and measures; it writes
nothing but the stored copy."""
