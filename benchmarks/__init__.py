"""hodiff benchmark harness: workloads W1-W8 of BENCHMARKS.md, one module per peer."""
