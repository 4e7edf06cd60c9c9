"""`sitroom plan-withdrawal`: plan the force's withdrawal and report it against its bounds.

Input: `--problem FILE.json` (a planner Problem in JSON), `--demo` (the force in the
database, the demo force loaded first if there is none) or `--generate SIZE --seed N`
(a generated force, SIZE x the scenario). Progress goes to stderr; Ctrl-C stops the
solve and prints the best plan so far. Exit status 2 with the explanation when the
input cannot be planned.
"""

import json
import os
import signal
import sys
import threading
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sitroom.forces.planner import solve
from sitroom.forces.planner.handover import check_handover
from sitroom.forces.planner.model import Plan, Problem, ProblemFormatError


def _problem_from_demo() -> Problem:
    from django.db import DatabaseError

    from sitroom.core.actors import Actor
    from sitroom.core.errors import InvalidInput
    from sitroom.forces.demo import load_demo
    from sitroom.forces.models import Unit
    from sitroom.forces.planning import default_start, problem_from_db

    try:
        if not Unit.objects.exists():
            load_demo(Actor.system_actor("plan-withdrawal"))
        return problem_from_db(start=default_start())
    except DatabaseError as exc:
        raise CommandError(
            _("--demo: the database is not ready (%(e)s); run `sitroom migrate` first") % {"e": exc}
        ) from None
    except InvalidInput as exc:
        # the demo force stands on the demo's areas and places
        raise CommandError(
            _("--demo: the demo force cannot be loaded (%(e)s); run `sitroom demo` first")
            % {"e": exc}
        ) from None


class Command(BaseCommand):
    help = _(
        "Plan the withdrawal of the force: sorties, schedule, closure time, each lower "
        "bound and the ratio to the best one."
    )

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--problem", metavar="FILE", help=_("a problem in JSON"))
        source.add_argument("--demo", action="store_true", help=_("the demo force"))
        source.add_argument(
            "--generate", type=int, metavar="SIZE", help=_("a generated force, SIZE x scenario")
        )
        parser.add_argument("--seed", type=int, default=0,
                            help=_("with --generate: the random seed (default 0)"))
        parser.add_argument("--format", choices=("text", "json"), default="text",
                            help=_("text for people (default), json for other systems"))
        parser.add_argument("--time-limit", type=float, default=60.0, metavar="SECONDS",
                            help=_("stop with the best plan found by then (default 60)"))
        parser.add_argument("--workers", type=int, default=2,
                            help=_("solver threads (default 2)"))

    def handle(self, *args, **options):
        problem = self._problem(options)
        stop = threading.Event()

        def interrupted(signum, frame):
            stop.set()
            sys.stderr.write(_("stopping, keeping the best plan so far…") + "\n")

        def progress(seconds, best, bound):
            if best is None:
                sys.stderr.write(_("%(s).1f s: solving…") % {"s": seconds} + "\n")
            else:
                sys.stderr.write(
                    _("%(s).1f s: closure %(c)s min, bound %(b)s min")
                    % {"s": seconds, "c": best, "b": bound}
                    + "\n"
                )

        previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGINT, interrupted)
        # HiGHS prints a banner on the C-level stdout: keep stdout for the plan alone.
        sys.stdout.flush()
        saved_stdout = os.dup(1)
        os.dup2(2, 1)
        # The solve runs in a thread and this one waits: a signal handler runs only when
        # the main thread runs Python, which it would not during a long solver call.
        result: dict = {}

        def run() -> None:
            try:
                result["plan"] = solve(
                    problem,
                    time_limit_s=options["time_limit"],
                    workers=options["workers"],
                    progress=progress,
                    stop=stop,
                )
            except BaseException as exc:  # raised again in the main thread
                result["error"] = exc

        try:
            worker = threading.Thread(target=run, name="plan-withdrawal", daemon=True)
            worker.start()
            while worker.is_alive():
                worker.join(0.2)
            if "error" in result:
                raise result["error"]
            plan = result["plan"]
        finally:
            os.dup2(saved_stdout, 1)
            os.close(saved_stdout)
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        # names as the database knows them in the reader's language only for the force in
        # the database: a problem file or a generated force may have no database behind it
        look_up = bool(options["demo"])
        if plan.status == "infeasible":
            from sitroom.forces.render import reason_text

            why = reason_text(plan.reason, plan.explanation, look_up=look_up)
            if options["format"] == "json":  # the explanation in the reader's language
                self.stdout.write(json.dumps(plan.to_json() | {"explanation": why},
                                             indent=2, ensure_ascii=False))
            sys.stderr.write(_("cannot plan: %(why)s") % {"why": why} + "\n")
            sys.exit(2)
        gaps = check_handover(problem, plan)
        if options["format"] == "json":
            from sitroom.forces.render import gap_out

            out = plan.to_json()
            out["handover_gaps"] = [gap_out(g, look_up=look_up) for g in gaps]
            self.stdout.write(json.dumps(out, indent=2, ensure_ascii=False))
        else:
            self.stdout.write(plan_text(plan, gaps, look_up=look_up))

    def _problem(self, options) -> Problem:
        if options["problem"]:
            try:
                text = Path(options["problem"]).read_text(encoding="utf-8")
            except OSError as exc:
                raise CommandError(
                    _("--problem: cannot read %(f)s: %(e)s") % {"f": options["problem"], "e": exc}
                ) from None
            try:
                return Problem.from_json(text)
            except ProblemFormatError as exc:
                from sitroom.forces.render import problem_error_text

                raise CommandError(_("--problem: %(e)s") % {"e": problem_error_text(exc)}
                                   ) from None
        if options["generate"]:
            from sitroom.forces.planner.generate import generate

            return generate(options["generate"], options["seed"])
        return _problem_from_demo()


def plan_text(plan: Plan, gaps, *, look_up: bool = False) -> str:
    """The plan for a reader: times in the deployment's zone, words in its language, the
    handover gaps said as the web says them (`look_up`: sites and units named as the
    database knows them in the reader's language)."""
    from django.utils.timezone import localtime as local

    from sitroom.forces.choices import SolverStatus
    from sitroom.forces.render import bound_name, bounds_text, gap_text

    status = SolverStatus(plan.status).label if plan.status in SolverStatus.values \
        else plan.status
    lines = [
        _("status: %(s)s, %(t).1f s") % {"s": status, "t": plan.seconds},
        _("sorties: %(n)d, bound %(b)d (%(name)s), sortie_ratio %(r).3f")
        % {
            "n": len(plan.sorties),
            "b": plan.sortie_bound,
            "name": bound_name(plan.sortie_bound_name),
            "r": plan.sortie_ratio or 0,
        },
        _("closure: %(c)s (%(m)d min), bound %(b)d min (%(name)s), ratio %(r).3f")
        % {
            "c": local(plan.closure).isoformat() if plan.closure else "—",
            "m": plan.closure_min or 0,
            "b": plan.closure_bound,
            "name": bound_name(plan.closure_bound_name),
            "r": plan.ratio or 0,
        },
        _("sortie bounds: %(b)s") % {"b": bounds_text(plan.sortie_bounds)},
        _("closure bounds valid for every plan (min): %(b)s")
        % {"b": bounds_text(plan.closure_bounds)},
        _("bounds for these sorties only (min): %(b)s, ratio %(r).3f")
        % {"b": bounds_text(plan.packing_bounds), "r": plan.packing_ratio or 0},
    ]
    for s in plan.sorties:
        who = ", ".join(
            _("%(unit)s: %(people)s, %(vehicles)s")
            % {"unit": u.unit,
               "people": ngettext("%(n)d person", "%(n)d people", u.personnel)
               % {"n": u.personnel},
               "vehicles": ngettext("%(n)d vehicle", "%(n)d vehicles", len(u.vehicles))
               % {"n": len(u.vehicles)}}
            for u in s.units
        )
        lines.append(
            _("%(id)s %(type)s #%(airframe)d %(origin)s→%(destination)s boarding "
              "%(boarding)s, take-off %(depart)s, landing %(arrive)s; %(kg)d kg, "
              "%(seats)d seats: %(who)s")
            % {"id": s.id, "type": s.aircraft_type, "airframe": s.airframe + 1,
               "origin": s.origin, "destination": s.destination,
               "boarding": f"{local(s.boarding):%d %H:%M}",
               "depart": f"{local(s.depart):%d %H:%M}",
               "arrive": f"{local(s.arrive):%d %H:%M}", "kg": s.weight_kg,
               "seats": s.seats_used,
               "who": who}
        )
    for r in plan.road_moves:
        lines.append(
            _("road: %(u)s departs %(d)s, arrives %(a)s")
            % {"u": r.unit, "d": local(r.depart).isoformat(), "a": local(r.arrive).isoformat()}
        )
    for g in gaps:
        lines.append(_("handover gap: %(g)s") % {"g": gap_text(g, look_up=look_up)})
    return "\n".join(lines)
