"""restate-web."""
