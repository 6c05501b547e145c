"""Celery finds tasks in ``<app>.tasks``: the campaign packages' task modules are imported here."""

from campaigns.coupons.tasks import *  # noqa: F401,F403
from campaigns.experiments.tasks import *  # noqa: F401,F403
from campaigns.sending.tasks import *  # noqa: F401,F403
from campaigns.tiers.tasks import *  # noqa: F401,F403
