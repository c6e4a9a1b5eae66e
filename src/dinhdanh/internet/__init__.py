"""Internet resources: organisations, registrars, domain names, IP blocks and AS numbers."""
