"""Use cases shared by the command line and the actors (fetching bars, building reports).

They combine adapters (the exchange, the database) but hold no trading logic and no actor state.
"""
