"""Age control: unlinkable age credentials (``credentials``), their status lists
(``statuslist``) and a test wallet (``wallet``)."""
