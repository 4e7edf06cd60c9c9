"""Planner runs started from the web page.

`django-tasks` (named in ARCHITECTURE.md) is not installed, so a run solves in a thread of
the server process: the request builds the problem (bad input is answered at once), a
`PlannerRun` row records the run, and the thread writes its progress (elapsed, best
closure, best bound) to that row as the solver reports it. Stop is a flag on the row (any
process may set it); a watcher in the thread turns it into the solver's `stop` event, and
the solver keeps the best plan found so far. The finished plan is stored as a draft
`WithdrawalPlan` beside the first-fit-decreasing baseline of the same problem.
A run that was still running when its server stopped is marked failed on the next read.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone
from django.utils.translation import gettext as _

from sitroom.core.actors import Actor
from sitroom.core.choices import JournalSource

from . import planning, services
from .access import WRITERS, require_write
from .models import PlannerRun

logger = logging.getLogger(__name__)
PROGRESS_EVERY_S = 0.5
_THREADS: dict[int, threading.Thread] = {}


def start_run(user, *, start: datetime, time_limit_s: float,
              background: bool | None = None) -> PlannerRun:
    """Check the actor's right, build the problem (InvalidInput names what is missing),
    record the run and solve in a thread (`background`, default from the setting
    FORCES_PLANNER_THREADS, True) or right here."""
    actor = Actor(user=user)
    require_write(actor, None, roles=WRITERS, what=_("withdrawal plans"))
    problem = planning.problem_from_db(start=start, user=user)
    run = PlannerRun.objects.create(created_at=timezone.now(), created_by=actor.label,
                                    start=start, time_limit_s=time_limit_s)
    if background is None:
        background = getattr(settings, "FORCES_PLANNER_THREADS", True)
    if not background:
        _solve(run.pk, problem, actor, watch_db=False)
        run.refresh_from_db()
        return run
    thread = threading.Thread(target=_thread, args=(run.pk, problem, actor), daemon=True,
                              name=f"planner-run-{run.pk}")
    _THREADS[run.pk] = thread
    thread.start()
    return run


def request_stop(run: PlannerRun) -> None:
    PlannerRun.objects.filter(pk=run.pk, state=PlannerRun.RUNNING).update(stop_requested=True)


def current(run: PlannerRun) -> PlannerRun:
    """The run as stored, with a run orphaned by a server restart marked failed."""
    if run.state == PlannerRun.RUNNING and run.pk not in _THREADS and \
            (timezone.now() - run.created_at).total_seconds() > run.time_limit_s + 120:
        PlannerRun.objects.filter(pk=run.pk, state=PlannerRun.RUNNING).update(
            state=PlannerRun.FAILED, error=_("the server stopped before the run ended"),
            finished_at=timezone.now())
        run.refresh_from_db()
    return run


def _thread(run_id: int, problem, actor: Actor) -> None:
    try:
        _solve(run_id, problem, actor)
    finally:
        _THREADS.pop(run_id, None)
        connection.close()


def _solve(run_id: int, problem, actor: Actor, watch_db: bool = True) -> None:
    from .planner import solve

    run = PlannerRun.objects.get(pk=run_id)
    stop = threading.Event()
    done = threading.Event()
    last = {"at": 0.0, "closure": None, "bound": None, "seconds": 0.0}

    def write_progress(force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - last["at"] < PROGRESS_EVERY_S:
            return
        last["at"] = now
        PlannerRun.objects.filter(pk=run_id).update(
            elapsed_s=round(last["seconds"], 1), best_closure_min=last["closure"],
            best_bound_min=last["bound"])

    def progress(seconds: float, closure: int | None, bound: int | None) -> None:
        last["seconds"] = seconds
        if closure is not None:
            last["closure"] = closure
        if bound is not None:
            last["bound"] = bound
        try:
            write_progress()
        except Exception:  # progress is advisory; never break the solve
            logger.exception("planner progress")

    def watch() -> None:
        began = time.monotonic()
        try:
            while not done.wait(PROGRESS_EVERY_S):
                last["seconds"] = max(last["seconds"], time.monotonic() - began)
                write_progress(force=True)
                if PlannerRun.objects.filter(pk=run_id, stop_requested=True).exists():
                    stop.set()
        finally:
            connection.close()

    watcher = threading.Thread(target=watch, daemon=True, name=f"planner-watch-{run_id}")
    if watch_db:
        watcher.start()
    try:
        plan = solve(problem, time_limit_s=run.time_limit_s,
                     workers=getattr(settings, "FORCES_PLANNER_WORKERS", 2),
                     progress=progress, stop=stop)
        baseline: dict[str, Any] = {}
        if plan.status != "infeasible":
            base = solve(problem, time_limit_s=5, workers=1, baseline=True)
            baseline = {"sorties": len(base.sorties), "closure": base.closure.isoformat()
                        if base.closure else None, "closure_min": base.closure_min,
                        "ratio": base.ratio, "sortie_ratio": base.sortie_ratio}
        done.set()
        if watch_db:
            watcher.join()
        row = services.save_plan(plan, actor, problem=problem, source=JournalSource.WEB)
        PlannerRun.objects.filter(pk=run_id).update(
            state=PlannerRun.STOPPED if plan.status == "stopped" else PlannerRun.DONE,
            plan=row, baseline=baseline, finished_at=timezone.now(),
            elapsed_s=round(plan.seconds or last["seconds"], 1),
            best_closure_min=plan.closure_min if plan.closure_min is not None
            else last["closure"], best_bound_min=plan.closure_bound or last["bound"])
    except Exception as exc:  # the page shows what went wrong
        logger.exception("planner run %s failed", run_id)
        done.set()
        close_old_connections()
        PlannerRun.objects.filter(pk=run_id).update(
            state=PlannerRun.FAILED, error=str(exc) or exc.__class__.__name__,
            finished_at=timezone.now())
    finally:
        done.set()
