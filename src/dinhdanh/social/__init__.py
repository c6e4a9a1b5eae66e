"""Platform accounts: verification, status for platforms, fake-account detection (issue 10)."""
