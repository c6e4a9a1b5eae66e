"""Identity: citizens, organizations and the personal identification number."""
