"""Survey links: a personalised signed link per customer, and the anonymous form's nonce.

A personalised token is ``django.core.signing`` over ``[survey id, customer id]`` with its
own salt, without a timestamp, so the same customer always gets the same link (campaign
templates render it for every send) and a changed digit fails the signature. The anonymous
form carries a signed one-time nonce: the unique ``Response.nonce`` makes a double post one
response, and the signature stops made-up nonces.
"""

import secrets

from django.conf import settings
from django.core import signing
from django.urls import reverse

LINK_SALT = "precis.surveys.link"
NONCE_SALT = "precis.surveys.nonce"
NONCE_MAX_AGE_SECONDS = 7 * 24 * 3600


def survey_token(survey_id: int, customer_id: int) -> str:
    return signing.Signer(salt=LINK_SALT).sign_object([survey_id, customer_id], compress=False)


def survey_token_read(token: str) -> tuple[int, int] | None:
    """(survey id, customer id) of a genuine token, None for a tampered or malformed one."""
    try:
        value = signing.Signer(salt=LINK_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not (isinstance(value, list) and len(value) == 2 and all(type(part) is int for part in value)):
        return None
    return value[0], value[1]


def survey_link(survey, customer) -> str:
    """The customer's personal link to the survey, for campaign templates: absolute when
    ``PRECIS_PUBLIC_BASE_URL`` is set (e.g. https://shop.example.com), else site-relative."""
    path = reverse("surveys:respond", kwargs={"token": survey_token(survey.pk, customer.pk)})
    return getattr(settings, "PRECIS_PUBLIC_BASE_URL", "").rstrip("/") + path


def anonymous_link(survey) -> str:
    path = reverse("surveys:respond-anonymous", kwargs={"public_token": survey.public_token})
    return getattr(settings, "PRECIS_PUBLIC_BASE_URL", "").rstrip("/") + path


def nonce_new() -> str:
    """A signed one-time value for one rendering of the anonymous form."""
    return signing.TimestampSigner(salt=NONCE_SALT).sign(secrets.token_urlsafe(16))


def nonce_read(signed: str) -> str | None:
    """The nonce of a form this site rendered in the last week, else None."""
    try:
        return signing.TimestampSigner(salt=NONCE_SALT).unsign(signed, max_age=NONCE_MAX_AGE_SECONDS)
    except (signing.BadSignature, ValueError, TypeError):
        return None
