"""The sending-policy page: quiet hours and the frequency cap for every campaign."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from campaigns.errors import CampaignError
from campaigns.sending.forms import SendingPolicyForm
from campaigns.sending.policy import sending_policy
from campaigns.sending.services import sending_policy_update


@permission_required("campaigns.view_sendingpolicy", raise_exception=True)
def policy(request):
    form = SendingPolicyForm(instance=sending_policy())
    if request.method == "POST":
        if not request.user.has_perm("campaigns.change_sendingpolicy"):
            return render(request, "campaigns/sending/policy.html", {"form": form}, status=403)
        form = SendingPolicyForm(request.POST, instance=sending_policy())
        if form.is_valid():
            try:
                sending_policy_update(**{name: form.cleaned_data[name] for name in form.Meta.fields})
            except CampaignError as error:
                form.add_error(error.field, error.message)
            else:
                messages.success(request, _("Sending policy saved."))
                return redirect("campaigns:sending:policy")
    return render(request, "campaigns/sending/policy.html", {"form": form})
