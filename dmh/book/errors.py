"""The one exception of the book build."""


class BookError(RuntimeError):
    """The book cannot be built as asked: a missing chapter, a failed cell, a warning."""
