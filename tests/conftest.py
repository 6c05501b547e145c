"""Fixtures shared by every test: users in each role, API clients, eager Celery."""

import pytest
from django.conf import settings
from django.db import connection
from django.utils import translation
from rest_framework.test import APIClient

from accounts.roles import Role
from accounts.services import user_create


@pytest.fixture(autouse=True)
def _celery_eager(settings, request):
    """Tasks run in-process unless a test asks for the real worker."""
    if "worker" not in request.keywords:
        settings.CELERY_TASK_ALWAYS_EAGER = True
        from config.celery import app

        app.conf.task_always_eager = True
        yield
        app.conf.task_always_eager = False
    else:
        yield


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request through LocaleMiddleware leaves
    its language active in the thread, which would leak into the next test's strings."""
    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture(autouse=True)
def _skip_postgres_only(request):
    if "postgres" in request.keywords and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://...")


@pytest.fixture
def make_user(db):
    def make(role: Role = Role.MARKETER, username: str | None = None):
        return user_create(username=username or f"{role.value}-user", password="s3cret-pass!", role=role)

    return make


@pytest.fixture
def marketer(make_user):
    return make_user(Role.MARKETER)


@pytest.fixture
def viewer(make_user):
    return make_user(Role.VIEWER)


@pytest.fixture
def admin_user(make_user):
    return make_user(Role.ADMIN)


@pytest.fixture
def api_client(marketer) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=marketer)
    return client


@pytest.fixture
def marketer_client(client, marketer):
    client.force_login(marketer)
    return client
