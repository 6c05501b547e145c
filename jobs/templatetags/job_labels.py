"""Translate the labels of a job's result summary when the page is shown.

Jobs store their summary with English keys (a worker has no viewer's language); the
words are marked for translation where the summary is built, and translated here in the
language of whoever looks at the job.
"""

from django import template
from django.utils.translation import gettext

register = template.Library()


@register.filter
def job_label(key: str) -> str:
    translated = gettext(key)
    if translated != key:
        return translated
    subject, _, action = key.rpartition(" ")
    if subject and action:
        return gettext("%(subject)s %(action)s") % {"subject": gettext(subject), "action": gettext(action)}
    return key
