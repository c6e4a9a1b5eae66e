"""Agencies' information systems, perimeter checks of what they expose, findings with
deadlines, and the cybersecurity index."""
