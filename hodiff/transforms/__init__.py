"""User-facing transforms: thin compositions of the interpreters."""
