"""Platforms (social networks) and their accounts' bindings to verified people (issue 10)."""
