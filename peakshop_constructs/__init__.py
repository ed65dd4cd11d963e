"""Peakshop's reusable cdktf constructs.

Named `peakshop_constructs`, not `constructs`: a top-level package called `constructs` would shadow the
`constructs` library that cdktf itself imports.
"""
