"""dinhdanh: identification and authentication for a nation's cyberspace."""

__version__ = "0.1.0"
