"""The Flask web UI and JSON API, and the `bulletins` command line (the project's edges)."""
