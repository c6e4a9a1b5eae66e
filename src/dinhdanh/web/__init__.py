"""HTTP edge: the FastAPI app factory and one thin router per domain."""
