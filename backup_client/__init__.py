"""Command-line client that starts and follows backups through the HTTP API."""
