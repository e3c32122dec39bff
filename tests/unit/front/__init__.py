"""Unit tests of the host front: config, bindings, routes, status JSON, app loader, HTTP API."""
