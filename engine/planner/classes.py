"""`kind: cls` functions -> `ClassSpec`: the hooks, methods, batched method and parameters of a
class, as the manifest lists them (their order is the order the hooks run in).

`enter:` as a list is the enter methods every container runs; as {before_snapshot, after_restore}
(the manifest allows that form only with a memory snapshot) the first go before the snapshot,
the second are what every container runs after its restore (ClassSpec.enter).
"""

from __future__ import annotations

from engine.blueprint.model import BatchedMethodSpec, ClassParameterSpec, ClassSpec
from engine.manifest.models.classes import ClassFunction
from engine.planner.origins import KeyPath, OriginRecorder


def plan_class(rec: OriginRecorder, at: KeyPath, path: KeyPath, fn: ClassFunction) -> ClassSpec:
    at, source = (*at, "cls"), path
    rec.planner(at, None, [(*path, "kind")], parts=True, note="`kind: cls`: the handler is a class, built by app.cls")
    for name in ("methods", "exit"):
        rec.each((*at, name), (*source, name), len(getattr(fn, name)))
    _plan_enter(rec, at, source, fn)
    rec.manifest((*at, "batched"), (*source, "batched"), parts=True)
    batched = []
    for index, (name, batching) in enumerate(fn.batched.items()):
        where, key = (*at, "batched", index), (*source, "batched", name)
        rec.manifest(where, key, parts=True)
        rec.key((*where, "name"), key)
        batched.append(
            BatchedMethodSpec(
                name=name,
                max_batch_size=rec.pick(
                    (*where, "max_batch_size"), (batching.max_batch_size, (*key, "max_batch_size"))
                ),
                wait_ms=rec.pick((*where, "wait_ms"), (batching.wait_ms, (*key, "wait_ms"))),
            )
        )
    return ClassSpec(
        methods=fn.methods,
        enter=fn.enter_after_start,
        exit=fn.exit,
        batched=tuple(batched),
        startup_timeout=rec.pick((*at, "startup_timeout"), (fn.startup_timeout, (*source, "startup_timeout"))),
        before_snapshot=fn.enter_before_snapshot,
        parameters=_plan_parameters(rec, at, source, fn),
    )


def _plan_enter(rec: OriginRecorder, at: KeyPath, source: KeyPath, fn: ClassFunction) -> None:
    enter_key = (*source, "enter")
    if fn.enter_phases is None:
        rec.each((*at, "enter"), enter_key, len(fn.enter_after_start))
        rec.unset((*at, "before_snapshot"), "`enter:` is a list: no method runs before a snapshot")
        return
    rec.each((*at, "enter"), (*enter_key, "after_restore"), len(fn.enter_after_start))
    rec.each((*at, "before_snapshot"), (*enter_key, "before_snapshot"), len(fn.enter_before_snapshot))


def _plan_parameters(
    rec: OriginRecorder, at: KeyPath, source: KeyPath, fn: ClassFunction
) -> tuple[ClassParameterSpec, ...]:
    at, key = (*at, "parameters"), (*source, "parameters")
    rec.manifest(at, key, parts=True)
    planned = []
    for index, (name, parameter) in enumerate(fn.parameters.items()):
        where, here = (*at, index), (*key, name)
        rec.manifest(where, here, parts=True)
        rec.key((*where, "name"), here)
        # `name: str` is the shorthand of {type: str}: the type is then the value at `here`.
        rec.manifest((*where, "type"), (*here, "type"), here)
        default = rec.pick((*where, "default"), (parameter.default, (*here, "default")))
        planned.append(ClassParameterSpec(name=name, type=parameter.type, default=default))
    return tuple(planned)
