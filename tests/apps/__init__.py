"""Small v1 function apps the host's conformance tests run (one folder each).

They are data, not test modules: the host imports them from their own folder.
"""
