"""Privacy: the audit log, roles and purposes, API keys."""
