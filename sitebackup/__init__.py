"""Backup logic shared by the function app's functions."""
