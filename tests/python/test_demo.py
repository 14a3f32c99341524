"""The demo generator: deterministic, planted structure, realistic mess, committed seeds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest
from dbt_harness import REPO_ROOT

from segmentation import demo


@pytest.fixture(scope="module")
def chunk() -> demo.DemoChunk:
    return next(demo.generate(demo.DemoParameters(n_customers=5_000)))


def test_committed_seeds_are_reproduced_byte_for_byte(tmp_path: Path) -> None:
    demo.write(demo.DemoParameters(), tmp_path, "csv")
    for name in demo.OUTPUT_NAMES.values():
        committed = REPO_ROOT / "seeds" / "demo" / f"{name}.csv"
        assert (tmp_path / f"{name}.csv").read_bytes() == committed.read_bytes(), name


def test_same_parameters_same_data_other_seed_other_data() -> None:
    params = demo.DemoParameters(n_customers=1_000)
    first = next(demo.generate(params))
    again = next(demo.generate(params))
    other = next(demo.generate(demo.DemoParameters(n_customers=1_000, seed=7)))
    assert first.orders.equals(again.orders) and first.customers.equals(again.customers)
    assert not first.orders.equals(other.orders)


def test_chunked_generation_covers_every_customer_once() -> None:
    params = demo.DemoParameters(n_customers=2_500, chunk_customers=1_000)
    chunks = list(demo.generate(params))
    assert len(chunks) == 3
    ids = [cid for c in chunks for cid in c.personas.column("customer_id").to_pylist()]
    assert len(ids) == len(set(ids)) == 2_500


def test_sizes_are_validated() -> None:
    with pytest.raises(ValueError, match="n_customers"):
        demo.DemoParameters(n_customers=10)
    with pytest.raises(ValueError, match="n_customers"):
        demo.DemoParameters(n_customers=20_000_000)


def test_planted_personas_differ_in_behaviour(chunk: demo.DemoChunk) -> None:
    personas = dict(
        zip(
            chunk.personas.column("customer_id").to_pylist(),
            chunk.personas.column("persona").to_pylist(),
            strict=True,
        )
    )
    assert set(personas.values()) == {p.name for p in demo.PERSONAS}
    orders = chunk.orders.filter(pc.is_valid(chunk.orders.column("customer_id")))
    counts: dict[str, int] = {}
    for cid in orders.column("customer_id").to_pylist():
        counts[cid] = counts.get(cid, 0) + 1
    lines = {
        name: np.mean([counts.get(cid, 0) for cid, p in personas.items() if p == name])
        for name in set(personas.values())
    }
    assert lines["prospect"] == 0
    assert lines["champion"] > 1.5 * lines["loyal_regular"] > 0
    assert lines["loyal_regular"] > 3 * lines["new_customer"]


def test_export_is_messy_like_a_real_one(chunk: demo.DemoChunk) -> None:
    customers, orders = chunk.customers, chunk.orders
    n = customers.num_rows
    income_missing = customers.column("income").null_count / n
    birth_missing = customers.column("birth_date").null_count / n
    assert 0.05 <= income_missing <= 0.10 and 0.04 <= birth_missing <= 0.10
    genders = set(customers.column("gender").drop_null().to_pylist())
    assert {"F", "female", " Female ", "M", "male"} <= genders
    ids = customers.column("customer_id").drop_null().to_pylist()
    assert len(ids) > len(set(ids)), "duplicate customer ids are planted"
    amounts = np.array(orders.column("amount").to_pylist(), dtype=float)
    statuses = orders.column("status").to_pylist()
    returned = [s.strip().lower().startswith("return") for s in statuses]
    assert (amounts[returned] < 0).all() and any(returned)
    assert any(s.strip().lower().startswith("cancel") for s in statuses)
    rows = orders.to_pylist()
    keys = [tuple(r.values()) for r in rows]
    assert len(keys) > len(set(keys)), "exact duplicate order lines are planted"
    assert orders.column("customer_id").null_count > 0
    ordered = set(orders.column("customer_id").drop_null().to_pylist())
    assert len(set(ids) - ordered) > 0.05 * len(set(ids)), "customers without orders"
