"""Retention: which agreements are past their retention period, and erasing their personal
data — each feature package erases its own (`erase_personal_data`), this package decides
when and records it."""
