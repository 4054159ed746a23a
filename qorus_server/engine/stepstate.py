"""An order's progress from its step rows: a step's status, the next step to run and the
order's status, as pure functions of the workflow definition and the rows (no database)."""

from __future__ import annotations

from qorus_core.db.claims import StepRow
from qorus_core.db.wfdefs import StepDef, WorkflowDef
from qorus_core.model.status import ORDER_STATUS_CODES, ORDER_STATUS_NAMES, STATUS_RANK
from qorus_core.model.status import OrderStatus as S

#: the order statuses a pass can end with besides COMPLETE and INCOMPLETE
ORDER_RESULTS = (S.ERROR, S.RETRY, S.ASYNC_WAITING, S.EVENT_WAITING, S.WAITING)

Steps = dict[tuple[int, int], StepRow]


def step_state(wdef: WorkflowDef, steps: Steps, sid: int) -> str | None:
    """A step's status over its instances (an array step has one per element): None before
    it ran, COMPLETE when every instance is, else the highest-ranked other one."""
    if not wdef.steps[sid].is_array:
        row = steps.get((sid, 0))
        return None if row is None else row.status
    found = [r.status for (s, _), r in steps.items() if s == sid]
    if not found:
        return None
    open_ = [ORDER_STATUS_NAMES[c] for c in found if c != S.COMPLETE]
    if not open_:
        return S.COMPLETE
    return ORDER_STATUS_CODES[max(open_, key=lambda n: STATUS_RANK.get(n, 0))]


def next_step(wdef: WorkflowDef, steps: Steps, ran: set[int]) -> StepDef | None:
    """The next step to run: not run in this pass, neither COMPLETE nor ERROR, and with every
    step it depends on COMPLETE (a waiting step runs to look at its wait)."""
    for sid in wdef.order:
        if sid in ran or step_state(wdef, steps, sid) in (S.COMPLETE, S.ERROR):
            continue
        step = wdef.steps[sid]
        if all(step_state(wdef, steps, d) == S.COMPLETE for d in step.depends_on):
            return step
    return None


def order_status(wdef: WorkflowDef, steps: Steps) -> str:
    """The order's status from its steps' statuses by rank."""
    states = [step_state(wdef, steps, sid) for sid in wdef.steps]
    if all(st == S.COMPLETE for st in states):
        return S.COMPLETE
    names = [ORDER_STATUS_NAMES[st] for st in states if st is not None and st != S.COMPLETE]
    if not names:
        return S.INCOMPLETE
    best = ORDER_STATUS_CODES[max(names, key=lambda n: STATUS_RANK.get(n, 0))]
    return best if best in ORDER_RESULTS else S.INCOMPLETE
