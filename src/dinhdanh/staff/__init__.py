"""Staff: citizens who hold a role (officer, investigator, approver, auditor, admin) for an
organisation, until an expiry, by a grant that is audited and can be ended at once."""
