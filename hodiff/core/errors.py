"""Errors hodiff raises on purpose, each naming what went wrong and what to do."""


class MissingRuleError(NotImplementedError):
    """A primitive has no rule for the transform that needs one.

    The message names the primitive and the mode ("vjp", "jvp", "batch", "taylor").
    """

    def __init__(self, primitive_name, mode, detail=""):
        self.primitive_name = primitive_name
        self.mode = mode
        message = f"primitive '{primitive_name}' has no {mode} rule"
        if detail:
            message += f": {detail}"
        super().__init__(message)


class EscapedTracerError(RuntimeError):
    """A traced value was used after the transform that made it had returned."""


class TracedConversionError(TypeError):
    """A traced value reached plain numpy or Python code that would drop its derivative."""


class BackendError(TypeError):
    """A primitive has no implementation on an array backend (a Dask or CuPy array reached it).

    The message names the primitive and the backend; ``primitive_name`` and ``backend`` hold them.
    """

    def __init__(self, primitive_name, backend, detail=""):
        self.primitive_name = primitive_name
        self.backend = backend
        message = f"primitive '{primitive_name}' cannot run on {backend} arrays"
        if detail:
            message += f": {detail}"
        super().__init__(message)
