from django import forms
from django.utils.translation import gettext_lazy as _

from campaigns.models import SendingPolicy


class SendingPolicyForm(forms.ModelForm):
    class Meta:
        model = SendingPolicy
        fields = ["quiet_hours_enabled", "quiet_start", "quiet_end", "frequency_cap_messages", "frequency_cap_days"]
        widgets = {
            "quiet_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
        help_texts = {
            "quiet_start": _("In each recipient's own time zone."),
            "quiet_end": _("May be earlier than the start: 21:00 to 09:00 spans the night."),
        }
