"""Item jobs for the Celery tests, loaded by the workers through NOICUTRU_JOB_MODULES.

``test_items``: each item sleeps, then leaves a mark file named after it (idempotent: created
once) and appends one line to a log per execution, in the folder ``params["marks"]``; an item
with ``crash`` always raises, like a page that crashes the reader.
"""
import os
import time

from service.jobs.items import failures, item_job


@item_job("test_items", "Phần việc thử")
class TestItems:
    @staticmethod
    def plan(ctx, params):
        return [{"label": f"phần {n}", "n": n, "crash": n in params.get("crash", [])} for n in range(params["n"])]

    @staticmethod
    def run_item(ctx, params, item):
        marks = params["marks"]
        with open(os.path.join(marks, "executions.log"), "a") as fh:
            fh.write(f"{item['n']} {os.getpid()}\n")
        time.sleep(params.get("sleep", 0))
        if item["crash"]:
            raise RuntimeError(f"item {item['n']} crashes the reader")
        path = os.path.join(marks, f"item-{item['n']}")
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
        except FileExistsError:
            pass
        return {"n": item["n"], "pid": os.getpid()}

    @staticmethod
    def finish(ctx, params, items):
        with open(os.path.join(params["marks"], "finish.log"), "a") as fh:
            fh.write(f"{os.getpid()}\n")
        return {"done": sum(i.state == "done" for i in items), "failures": failures(items)}
