"""Errors a user can act on: each message says what is wrong and what to type instead."""


class SeqzooError(Exception):
    """Raised for bad input or configuration; the command-line entry points print it without a traceback."""
