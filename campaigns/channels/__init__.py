"""Channel backends: how a rendered message leaves Precis (see base.py for the contract).

``backend_for(channel)`` builds the configured backend:

- email: ``EmailChannelBackend`` over the Django email backend named by
  ``PRECIS_CAMPAIGN_EMAIL_BACKEND`` (SMTP, any anymail ESP, console, locmem, or the
  default local file sink ``campaigns.channels.sinks.MessageFileEmailBackend``);
- sms / webhook: the class named by ``PRECIS_SMS_BACKEND`` / ``PRECIS_WEBHOOK_BACKEND``,
  ``campaigns.channels.http.HttpChannelBackend`` in production or the default
  ``campaigns.channels.console.ConsoleChannelBackend``; built with ``channel=<name>``.
"""

from django.conf import settings
from django.utils.module_loading import import_string

from campaigns.channels.base import ChannelBackend, DeliveryOutcome, OutgoingMessage

__all__ = ["ChannelBackend", "DeliveryOutcome", "OutgoingMessage", "backend_for"]

CONSOLE = "campaigns.channels.console.ConsoleChannelBackend"


def backend_for(channel: str) -> ChannelBackend:
    """A fresh backend for one batch of ``channel`` messages (cheap to build)."""
    if channel == "email":
        from campaigns.channels.email import EmailChannelBackend

        return EmailChannelBackend()
    if channel in ("sms", "webhook"):
        path = getattr(settings, f"PRECIS_{channel.upper()}_BACKEND", "") or CONSOLE
        return import_string(path)(channel=channel)
    raise ValueError(f"unknown channel: {channel!r}")
