"""hodiff's implementations of GradBench evals (github.com/gradbench/gradbench).

One module per eval: ``inputs(quick)`` generates the inputs as the eval's own
generator does, ``FUNCTIONS`` maps each eval function name to hodiff's
implementation, ``reference(function, input)`` is an independent reference
(closed form) and ``peers()`` builds the peers' versions that are installed.
"""

EVALS = ("hello", "lse", "llsq", "det", "kmeans", "gmm", "ode", "lstm", "ba", "ht")
