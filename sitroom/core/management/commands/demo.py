"""`sitroom demo`: migrate, load the demo scenario, make sure the demo account exists."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from sitroom.accounts.choices import Role
from sitroom.accounts.services import create_user
from sitroom.core.actors import Actor
from sitroom.core.choices import JournalSource
from sitroom.core.demo import load_demo

DEMO_USER = "demo"


class Command(BaseCommand):
    help = _("Create or migrate the database, load the demo scenario, create the demo account.")

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        actor = Actor.system_actor("demo")
        report = load_demo(actor)
        self.stdout.write(
            f"Demo scenario: {report.areas_created} area(s), "
            f"{report.organizations_created} organization(s), {report.places_created} "
            f"place(s) and {report.entries_added} journal entry(ies) added.")
        for domain, counts in report.domains.items():
            self.stdout.write(f"{domain.split('.')[1].capitalize()}: " + ", ".join(
                f"{n} {what}" for what, n in counts.items()) + " added.")
        for boundary_report in report.boundaries:
            self.stdout.write("Boundaries: " + boundary_report.lines()[0])
        for missing in report.boundaries_missing:
            self.stdout.write(self.style.WARNING(
                f"Boundaries not found at {missing}: areas show as markers at their centroids."))
        password_file = settings.SITROOM_HOME / "demo_password"
        if not get_user_model().objects.filter(username=DEMO_USER).exists():
            password = secrets.token_urlsafe(12)
            create_user(DEMO_USER, role=Role.DIRECTOR, password=password, all_areas=True,
                      actor=actor, source=JournalSource.CLI)
            password_file.write_text(password, encoding="utf-8")
            password_file.chmod(0o600)
        if password_file.exists():
            password = password_file.read_text(encoding="utf-8").strip()
            self.stdout.write(self.style.SUCCESS(
                f"Sign in as user '{DEMO_USER}' with password '{password}'"))
        else:
            self.stdout.write(f"User '{DEMO_USER}' exists; its password was set elsewhere.")
