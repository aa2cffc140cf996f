"""Conformance: HIPS autograd 1.9.1's own test suite, run against hodiff.autograd.

``python -m tests.autograd_conformance`` (see __main__.py and docs/from-autograd.md).
"""
