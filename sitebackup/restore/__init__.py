"""Restore: bring a snapshot back from storage into a directory, safely and resumably."""
