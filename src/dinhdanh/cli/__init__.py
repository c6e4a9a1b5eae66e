"""The `dinhdanh` command: a thin edge over the services."""
