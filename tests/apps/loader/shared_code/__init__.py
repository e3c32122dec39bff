"""Shared code at the app root, imported by the functions in each of the worker's styles."""
