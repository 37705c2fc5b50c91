"""The compliance state of agreements: one definition for lists, overview and reports."""
