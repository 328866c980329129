"""pykka actors: supervision, asset actors, stream routers and caretakers. Thin: I/O and timing only;
every trading decision comes from the domain core in `dca`."""
