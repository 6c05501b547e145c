import pytest
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.roles import Role, user_role
from accounts.services import api_token_rotate

pytestmark = pytest.mark.django_db


def test_every_role_exists_as_a_group_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= {r.value for r in Role}


def test_viewer_may_look_but_not_change(viewer):
    assert viewer.has_perm("customers.view_customer")
    assert not viewer.has_perm("customers.add_customer")
    assert not viewer.has_perm("customers.delete_order")


def test_marketer_may_change_customer_data_but_not_users(marketer):
    assert marketer.has_perm("customers.add_event")
    assert marketer.has_perm("customers.change_customer")
    assert not marketer.has_perm("auth.add_user")


def test_analyst_reads_customers_and_owns_analytics(make_user):
    analyst = make_user(Role.ANALYST)
    assert analyst.has_perm("customers.view_order")
    assert not analyst.has_perm("customers.add_order")
    assert user_role(analyst) == Role.ANALYST


def test_admin_is_superuser_with_admin_role(admin_user):
    assert admin_user.is_superuser and admin_user.is_staff
    assert user_role(admin_user) == Role.ADMIN


def test_api_token_authenticates_and_rotation_revokes_the_old_one(marketer):
    old = api_token_rotate(user=marketer)
    new = api_token_rotate(user=marketer)
    assert old.key != new.key
    assert list(Token.objects.filter(user=marketer).values_list("key", flat=True)) == [new.key]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {old.key}")
    assert client.get("/api/schema/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Token {new.key}")
    assert client.get("/api/schema/").status_code == 200


def test_pages_need_login(client):
    response = client.get("/customers/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_login_page_speaks_chinese(client):
    response = client.get("/login/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "登录" in response.content.decode()


def test_home_shows_counts(marketer_client):
    response = marketer_client.get("/")
    assert response.status_code == 200
    assert b'data-testid="customer-count">0<' in response.content
