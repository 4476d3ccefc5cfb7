"""Pure decisions: from an object's spec and what was observed, the status, the objects to create and
the requeue, as plain data. No I/O, no clock (callers pass `now`), no randomness; every module states
its invariants, and every name it derives is deterministic."""
