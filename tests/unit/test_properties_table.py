"""docs/PROPERTIES.md is the table the property tests' docstrings make, and it is complete."""

from __future__ import annotations

from tests.properties.table import (
    MINIMUM_PROPERTIES,
    TABLE_PATH,
    collect,
    problems,
    product_properties,
    render,
)


def test_every_named_property_has_a_test_in_its_group_and_there_are_at_least_66() -> None:
    assert problems(collect()) == []


def test_the_table_in_docs_is_current() -> None:
    assert TABLE_PATH.read_text(encoding="utf-8") == render(collect()), (
        "docs/PROPERTIES.md is stale: python -m tests.properties.table > docs/PROPERTIES.md"
    )


def test_the_product_readme_names_59_properties() -> None:
    assert len(product_properties()) == 59 < MINIMUM_PROPERTIES
