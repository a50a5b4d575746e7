"""Providers that need no network and no key: the default for the local stack, tests and demos."""
