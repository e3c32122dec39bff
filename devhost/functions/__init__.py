"""The function app as the Python worker sees it: loading, bindings, invoking.

Reads every ``function.json``, imports the entry points, decodes trigger inputs and encodes
outputs with the ``azure-functions`` library's converters, and runs orchestrators, activities
and HTTP functions.

May import: ``devhost.contracts`` and ``devhost.front.routes`` (route templates are checked
when a function is loaded). Never the hub or the replay core.
"""
