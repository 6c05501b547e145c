from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_http_methods
from rest_framework.authtoken.models import Token

from accounts.roles import user_role
from accounts.services import api_token_rotate


@login_required
@require_http_methods(["GET", "POST"])
def account_page(request):
    """The signed-in user's role and API token (POST issues a new token)."""
    token = api_token_rotate(user=request.user) if request.method == "POST" else None
    has_token = token is not None or Token.objects.filter(user=request.user).exists()
    return render(
        request,
        "accounts/account.html",
        {"role": user_role(request.user), "new_token": token, "has_token": has_token},
    )
