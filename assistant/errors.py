"""Expected failures. Their messages say what to do; callers print them as one line."""


class AssistantError(Exception):
    """Base class: an expected, user-facing failure."""


class IndexNotBuilt(AssistantError):
    def __init__(self, index_dir):
        super().__init__(f"No index in {index_dir}: run `assistant build` (or `make run`) first.")


class IndexMismatch(AssistantError):
    """`full`: only a full rebuild helps (else a plain build, which reuses the vectors, does)."""

    def __init__(self, index_dir, reason, fix="rebuild it with `assistant build --full`",
                 full: bool = True):
        self.full = full
        super().__init__(f"The index in {index_dir} cannot be used ({reason}): {fix}.")


class UnreadableSource(AssistantError):
    """A corpus file that cannot be indexed; the build skips it and records the reason."""

    def __init__(self, source, reason):
        self.source = str(source)
        self.reason = reason
        super().__init__(f"{source}: {reason}")


class EmptyCorpus(AssistantError):
    def __init__(self, corpus_dir, skipped=0, formats: str = "supported"):
        """`formats`: the readable formats as words (loaders.suffixes_text(), the one table)."""
        extra = f" ({skipped} file(s) skipped, see above)" if skipped else ""
        super().__init__(
            f"Nothing to index in {corpus_dir}{extra}: add {formats} articles. "
            "The previous index (if any) is unchanged."
        )


class SettingError(AssistantError):
    """An ASSISTANT_* setting with a value that cannot be used; the message names it."""
