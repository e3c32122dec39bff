"""The backup console's server side: what the ``Console`` and ``ConsoleApi`` functions answer.

Pure parts (runs, paging, timeline) apart from the part that talks to the durable host
(``durable``) and the HTTP handlers (``api``).
"""
