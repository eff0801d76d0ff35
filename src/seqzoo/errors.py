"""Errors a user can act on: each message says what is wrong and what to type instead."""


class SeqzooError(Exception):
    """Raised for bad input or configuration; the command-line entry points print it without a traceback."""


def unwrap(error: BaseException) -> BaseException:
    """Our own message from inside Hydra's ``InstantiationException`` (a constructor raised it), or the
    error itself: the clear message is the one a constructor wrote, not Hydra's wrapper around it."""
    return error.__cause__ if isinstance(error.__cause__, SeqzooError) else error
