"""One interpreter class per transform: reverse (tape of nodes), forward (duals),
batch (a leading batch axis) and Taylor (truncated power series)."""
