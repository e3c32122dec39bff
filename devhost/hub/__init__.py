"""The task hub: durable state and the loop that moves instances forward.

The SQLite store and its records, the episode loop (one episode per instance at a time, each
consuming every pending message), activities, timers, the clock, and the hub's client API
that the HTTP front calls.

May import: ``devhost.core`` (to decide), ``devhost.contracts``, and the function app only
through ``contracts.FunctionAppProtocol``. Never the HTTP front.
"""
