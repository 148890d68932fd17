"""Drills: long runs against real processes and servers that print figures (make drills, not part of make test)."""
