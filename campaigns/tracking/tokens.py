"""Signed tokens of the public tracking links.

Each purpose has its own salt, so an open token cannot be used as an unsubscribe token:
``open`` and ``unsubscribe`` sign the message id, ``click`` signs [message id, target
URL] (compressed), so the redirect goes only where the rendered message pointed. The
tokens have no timestamp: a link in an old email keeps working. A changed character, a
token of another purpose or one signed with another SECRET_KEY reads as None (the views
answer 404 and change nothing). ``SECRET_KEY_FALLBACKS`` keeps links valid across a key
rotation.
"""

from django.core import signing

OPEN_SALT = "precis.tracking.open"
CLICK_SALT = "precis.tracking.click"
UNSUBSCRIBE_SALT = "precis.tracking.unsubscribe"
CLICK_SCHEMES = ("http://", "https://")


def open_token(message_id: int) -> str:
    return signing.Signer(salt=OPEN_SALT).sign_object(message_id)


def click_token(message_id: int, url: str) -> str:
    if not url.lower().startswith(CLICK_SCHEMES):
        raise ValueError("only http(s) links are tracked")
    return signing.Signer(salt=CLICK_SALT).sign_object([message_id, url], compress=True)


def unsubscribe_token(message_id: int) -> str:
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign_object(message_id)


def _unsign(token: str, salt: str):
    try:
        return signing.Signer(salt=salt).unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError, UnicodeDecodeError):
        return None
    except Exception:  # a forged payload that decompresses or decodes badly
        return None


def _message_id(value) -> int | None:
    return value if type(value) is int and value > 0 else None


def open_token_read(token: str) -> int | None:
    return _message_id(_unsign(token, OPEN_SALT))


def unsubscribe_token_read(token: str) -> int | None:
    return _message_id(_unsign(token, UNSUBSCRIBE_SALT))


def click_token_read(token: str) -> tuple[int, str] | None:
    value = _unsign(token, CLICK_SALT)
    if not (isinstance(value, list) and len(value) == 2):
        return None
    message_id, url = _message_id(value[0]), value[1]
    if message_id is None or not isinstance(url, str) or not url.lower().startswith(CLICK_SCHEMES):
        return None
    return message_id, url
