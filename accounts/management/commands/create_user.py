from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from accounts.roles import Role
from accounts.services import user_create


class Command(BaseCommand):
    help = "Create a user in one of the roles (admin, marketer, analyst, viewer)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password", required=True)
        parser.add_argument("--role", choices=[r.value for r in Role], default=Role.MARKETER.value)
        parser.add_argument("--email", default="")
        parser.add_argument("--if-missing", action="store_true", help="Do nothing if the user exists.")

    def handle(self, *args, username, password, role, email, if_missing, **options):
        if User.objects.filter(username=username).exists():
            if if_missing:
                return
            raise CommandError(f"user {username!r} exists already")
        user_create(username=username, password=password, role=Role(role), email=email)
        self.stdout.write(f"created {role} {username}")
