"""Caretakers: actors on timers that keep the exchange, the database and the asset actors in step.

They never write a cycle themselves (one writer per cycle): they cancel our orphaned orders on the
exchange, and for everything that concerns a cycle they send its asset actor a message.
"""
