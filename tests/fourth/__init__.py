"""A fourth provider, defined entirely in tests: proof that a provider is one module.

`keyhub.py` is what a new provider module in providers/ would look like; `fake.py` is its
small local HTTP fake. tests/integration/test_fourth_provider.py runs it through the studio.
"""
