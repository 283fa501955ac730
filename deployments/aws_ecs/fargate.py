"""The CPU/memory pairs AWS Fargate accepts for a task (MiB), from the AWS documentation.

moto accepts any pair; AWS refuses the others at ``RegisterTaskDefinition``.
"""

GIB = 1024


def _span(low: int, high: int, step: int) -> tuple[int, ...]:
    return tuple(range(low, high + 1, step))


FARGATE_MEMORY: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: _span(1 * GIB, 4 * GIB, GIB),
    1024: _span(2 * GIB, 8 * GIB, GIB),
    2048: _span(4 * GIB, 16 * GIB, GIB),
    4096: _span(8 * GIB, 30 * GIB, GIB),
    8192: _span(16 * GIB, 60 * GIB, 4 * GIB),
    16384: _span(32 * GIB, 120 * GIB, 8 * GIB),
}


def describe_memory(cpu: int) -> str:
    allowed = FARGATE_MEMORY[cpu]
    if len(allowed) <= 3:
        return ", ".join(str(m) for m in allowed)
    step = allowed[1] - allowed[0]
    return f"{allowed[0]} to {allowed[-1]} in steps of {step}"


def fargate_pair_errors(cpu: int | None, memory: int | None) -> dict[str, str]:
    """``{"task_cpu"|"task_memory": message}`` for a pair Fargate would refuse."""
    if cpu is None or memory is None:
        missing = {}
        if cpu is None:
            missing["task_cpu"] = (
                "FARGATE needs a task CPU (256, 512, 1024, 2048, 4096, 8192 or 16384)."
            )
        if memory is None:
            missing["task_memory"] = "FARGATE needs a task memory (MiB)."
        return missing
    if cpu not in FARGATE_MEMORY:
        cpus = ", ".join(str(c) for c in FARGATE_MEMORY)
        return {"task_cpu": f"FARGATE task CPU must be one of {cpus} CPU units (got {cpu})."}
    if memory not in FARGATE_MEMORY[cpu]:
        return {
            "task_memory": f"With {cpu} CPU units FARGATE accepts {describe_memory(cpu)} MiB "
            f"of memory (got {memory})."
        }
    return {}
