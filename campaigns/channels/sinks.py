"""The local file sink: a Django email backend that writes each message as an ``.eml``
file, for the demo, development and the sending benchmark.

Each file is named after the message's ``Message-ID`` header, which the email channel
derives from the ``Message`` row's id, and is created atomically: the bytes go to a
temporary file first and are then hard-linked to the final name, which fails if the name
exists. A message that is sent again (a retry after a worker died mid-batch) therefore
finds its file and is not written twice, and a reader never sees half a file. That is
what lets the email channel report itself idempotent with this backend.
"""

import os
import re
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._@+-]")


def outbox_file_name(message_id_header: str) -> str:
    return UNSAFE_NAME.sub("_", message_id_header.strip().strip("<>")) + ".eml"


class MessageFileEmailBackend(BaseEmailBackend):
    """``send_messages`` counts messages that are in the outbox afterwards, whether this
    call wrote them or an earlier one did; ``duplicates`` counts the latter."""

    def __init__(self, *, file_path: str | os.PathLike | None = None, fail_silently: bool = False, **kwargs) -> None:
        super().__init__(fail_silently=fail_silently, **kwargs)
        self.directory = Path(
            file_path or getattr(settings, "PRECIS_OUTBOX_DIR", Path(settings.BASE_DIR) / "var/outbox")
        )
        self.duplicates = 0

    def open(self) -> bool:
        self.directory.mkdir(parents=True, exist_ok=True)
        return False

    def send_messages(self, email_messages: list[EmailMessage]) -> int:
        if not email_messages:
            return 0
        self.open()
        sent = 0
        for email in email_messages:
            try:
                if not self.message_write(email):
                    self.duplicates += 1
                sent += 1
            except Exception:
                if not self.fail_silently:
                    raise
        return sent

    def message_write(self, email: EmailMessage) -> bool:
        """Write one message; False if a file with its Message-ID was already there."""
        mime = email.message()
        data = mime.as_bytes(linesep="\n")
        target = self.directory / outbox_file_name(str(mime["Message-ID"]))
        if target.exists():
            return False
        descriptor, temporary = tempfile.mkstemp(dir=self.directory, prefix=".partial-", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
            try:
                os.link(temporary, target)
            except FileExistsError:
                return False
            except OSError:  # a file system without hard links: exclusive create instead
                return _exclusive_write(target, data)
            return True
        finally:
            os.unlink(temporary)


def _exclusive_write(target: Path, data: bytes) -> bool:
    try:
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    return True
