"""Segment definitions, current membership and the entry/exit history."""
