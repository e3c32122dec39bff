"""Conformance tests of the local host: each test app run over HTTP, SDK client and webhook API."""
