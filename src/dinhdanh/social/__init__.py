"""Platform accounts: bindings to verified people, status for platforms, fake-account detection
(issue 10)."""
