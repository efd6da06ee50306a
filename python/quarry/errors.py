"""The package's exceptions."""


class QuarryError(Exception):
    """A model that cannot be loaded or used; the message names the file and the problem."""


class CLIError(QuarryError):
    """The quarry CLI failed: `message` is what it printed on stderr, `returncode` its status."""

    def __init__(self, message, returncode, command):
        super().__init__(message)
        self.returncode = returncode
        self.command = command
