"""Organisational units: city departments and municipal enterprises (Eigenbetriebe)."""
