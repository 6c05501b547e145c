from django.contrib.auth.models import User
from django.core.management.base import BaseCommand

from accounts.roles import Role
from accounts.services import user_create


class Command(BaseCommand):
    help = "Create (or reset the password of) the demo admin login used by bin/demo."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="demo")
        parser.add_argument("--password", required=True)

    def handle(self, *args, username, password, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            user_create(username=username, password=password, role=Role.ADMIN)
        else:
            user.set_password(password)
            user.save(update_fields=["password"])
