"""
Test and demo tooling of the 1C exchange, kept apart from the production modules
(as ``oscar/test/`` is in Oscar): the CommerceML generator (``generator``) that writes
realistic exchanges of any size, and the 1C client emulator (``emulator``) that sends
them over HTTP as 1C does. Used by the tests, ``demo_exchange`` and ``bench_exchange``;
nothing in the shop's request or import path imports them.
"""
