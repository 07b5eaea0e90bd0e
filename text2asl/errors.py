"""The one exception type for mistakes a user can make: the CLI prints its message as one sentence."""


class Text2ASLError(Exception):
    """A user-caused problem (bad text, missing file, malformed lexicon...).

    The message is one sentence that names the input and says what to do; the CLI prints it on
    stderr and exits with status 2, without a traceback.
    """
