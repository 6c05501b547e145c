"""Refusals as codes: the shape shared by every app's ``<Domain>Error``.

An error carries an enum code, the input field it is about (``None`` when it is about the
data rather than one field) and the numbers its message needs. The message is rendered when
it is read, in the reader's language, so a job that fails on a worker can store
``as_dict()`` and a page shows the sentence in the viewer's language later.
"""

from enum import StrEnum
from typing import Any, ClassVar, Self


class CodedError(ValueError):
    """Subclasses set ``codes`` (their enum) and ``messages`` (code → lazy message)."""

    codes: ClassVar[type[StrEnum]]
    messages: ClassVar[dict[Any, Any]]

    def __init__(self, code: StrEnum | str, *, field: str | None = None, **params: Any) -> None:
        self.code = self.codes(code)
        self.field = field
        self.params = params
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return str(self.messages[self.code]) % self.params

    def as_dict(self) -> dict[str, Any]:
        """What a failed run stores: enough to render the message again in any language."""
        return {"code": self.code.value, "field": self.field, "params": self.params}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        return cls(data["code"], field=data.get("field"), **data.get("params", {}))
