"""`sitroom token create --user NAME`: a new API token, printed once."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from sitroom.accounts.models import ApiToken
from sitroom.accounts.services import create_token, find_token, revoke_token
from sitroom.core.choices import JournalSource
from sitroom.core.errors import InvalidInput, NotAllowed
from sitroom.core.management.operator import add_as_argument, operator


class Command(BaseCommand):
    help = _("Create, list or revoke API tokens.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create")
        create.add_argument("--user", required=True)
        create.add_argument("--name", default="cli")
        add_as_argument(create)
        listing = sub.add_parser("list")
        listing.add_argument("--user")
        revoke = sub.add_parser("revoke")
        revoke.add_argument("prefix", help=_("the token's prefix, as `token list` shows it, or "
                                   "the start of the token (srt_…), or the whole token"))
        add_as_argument(revoke)

    def handle(self, *args, action, **options):
        actor = operator(options.get("as_user"))
        if action == "create":
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"--user: no user named {options['user']!r}")
            try:
                _token, secret = create_token(user, options["name"], actor=actor,
                                              source=JournalSource.CLI)
            except InvalidInput as exc:
                raise CommandError(exc.message()) from None
            except NotAllowed as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(secret)
            self.stderr.write("Store it now: it is not shown again.")
        elif action == "list":
            tokens = ApiToken.objects.select_related("user")
            if options.get("user"):
                tokens = tokens.filter(user__username=options["user"])
            for t in tokens:
                state = "revoked" if t.revoked_at else "active"
                self.stdout.write(f"{t.prefix}\t{t.user.username}\t{t.name}\t{state}\t"
                                  f"{t.created_at:%Y-%m-%d %H:%M}")
        else:
            try:
                token = find_token(options["prefix"])
            except InvalidInput as exc:
                raise CommandError(exc.message()) from None
            what = {"name": token.name, "user": token.user.get_username(),
                    "prefix": token.prefix}
            if token.revoked_at is not None:
                self.stdout.write(_("API token %(name)s of %(user)s (%(prefix)s) was already "
                                    "revoked on %(date)s; nothing was changed.")
                                  % (what | {"date": f"{token.revoked_at:%Y-%m-%d %H:%M}"}))
                return
            try:
                revoke_token(token, actor=actor, source=JournalSource.CLI)
            except NotAllowed as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(_("Revoked API token %(name)s of %(user)s (%(prefix)s).") % what)
