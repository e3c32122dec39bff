"""The function app as the Python worker sees it: loading, bindings, invoking.

Reads every ``function.json``, imports the entry points, decodes trigger inputs and encodes
outputs with the ``azure-functions`` library's converters, and runs orchestrators, activities
and HTTP functions. Route templates (``routes``) live here because a function's route is part
of its binding, checked when it loads; the HTTP front matches requests against them.

May import: ``devhost.contracts`` and the top-level helpers (``config``, ``logs``). Never the
hub, the replay core or the HTTP front: both of those use this package, not the other way.
"""
