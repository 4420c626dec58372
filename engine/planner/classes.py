"""`kind: cls` functions -> `ClassSpec`: the hooks, methods and batched method of a class, as the
manifest lists them (their order is the order the hooks run in)."""

from __future__ import annotations

from engine.blueprint.model import BatchedMethodSpec, ClassSpec
from engine.manifest.models.classes import ClassFunction
from engine.planner.origins import KeyPath, OriginRecorder


def plan_class(rec: OriginRecorder, at: KeyPath, path: KeyPath, fn: ClassFunction) -> ClassSpec:
    at, source = (*at, "cls"), path
    rec.planner(at, None, [(*path, "kind")], parts=True, note="`kind: cls`: the handler is a class, built by app.cls")
    for name in ("methods", "enter", "exit"):
        rec.each((*at, name), (*source, name), len(getattr(fn, name)))
    rec.manifest((*at, "batched"), (*source, "batched"), parts=True)
    batched = []
    for index, (name, batching) in enumerate(fn.batched.items()):
        where, key = (*at, "batched", index), (*source, "batched", name)
        rec.manifest(where, key, parts=True)
        rec.manifest((*where, "name"), key)
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
        enter=fn.enter,
        exit=fn.exit,
        batched=tuple(batched),
        startup_timeout=rec.pick((*at, "startup_timeout"), (fn.startup_timeout, (*source, "startup_timeout"))),
    )
