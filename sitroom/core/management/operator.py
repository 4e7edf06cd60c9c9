"""Who runs a command: the journal names a person, not only "the CLI".

`--as USER` makes the command act as that user: the services check the user's role and
scope as for the web or the API, and the journal names the user. Without it the command
acts as the system, which may do everything, and the journal names the operating-system
account that ran it (`system:cli:<login>`), so that an entry still points at someone.
A command that reads (an export) takes `--as` too: it reads what that user may see.
"""

from __future__ import annotations

import getpass
import os

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from sitroom.core.actors import Actor


def add_as_argument(parser) -> None:
    parser.add_argument(
        "--as", dest="as_user", metavar="USER",
        help=_("act as this user: their role and scope are checked, and the journal names "
               "them (default: the system, named with your operating-system login)"))


def os_login() -> str:
    """The operating-system account running the command (its user id if it has no name)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name, no passwd entry (a bare container)
        return f"uid-{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def add_as_reader_argument(parser) -> None:
    parser.add_argument(
        "--as", dest="as_user", metavar="USER",
        help=_("read as this user: only what their scope lets them see (default: the "
               "system, which sees everything)"))


def operator(as_user: str | None) -> Actor:
    """The actor of a command run with `--as as_user` (or without it)."""
    return _acting(as_user, writes=True)


def reader(as_user: str | None) -> Actor:
    """The actor of a command that only reads, run with `--as as_user` (or without it):
    that user, who sees what their role and scope allow, or the system, which sees all."""
    return _acting(as_user, writes=False)


def _acting(as_user: str | None, *, writes: bool) -> Actor:
    if as_user is None:
        return Actor.system_actor(f"cli:{os_login()}")
    user = get_user_model().objects.filter(username=as_user).first()
    if user is None:
        message = (_("--as: no user named %(user)r; nothing was changed") if writes
                   else _("--as: no user named %(user)r; nothing was exported"))
    elif not user.is_active:
        message = (_("--as: user %(user)s is deactivated; nothing was changed") if writes
                   else _("--as: user %(user)s is deactivated; nothing was exported"))
    else:
        return Actor(user=user)
    raise CommandError(message % {"user": as_user})
