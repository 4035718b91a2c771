"""The dbt project's conventions, checked on its files: one YAML beside each model (its columns, tests and
unit tests) that states the model's grain and tests its key, and each raw column's type declared once, in
its source's `_sources.yml`."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

TRANSFORM = Path(__file__).resolve().parents[2] / "transform"
MODELS = TRANSFORM / "models"
SQL = sorted(MODELS.rglob("*.sql"))


def _tests(entries: list | None) -> dict[str, dict]:
    """Test name -> its arguments, for a `data_tests` list of names and one-key mappings."""
    out = {}
    for entry in entries or []:
        if isinstance(entry, str):
            out[entry] = {}
        else:
            [(name, config)] = entry.items()
            out[name] = (config or {}).get("arguments", {})
    return out


def _model_yaml(sql: Path) -> dict:
    return yaml.safe_load(sql.with_suffix(".yml").read_text())


def test_every_model_has_its_own_yaml_beside_it_and_every_yaml_a_model():
    yamls = {path for path in MODELS.rglob("*.yml") if path.name != "_sources.yml"}
    assert yamls == {sql.with_suffix(".yml") for sql in SQL}
    assert len(SQL) >= 50
    unit_tests = 0
    for sql in SQL:
        document = _model_yaml(sql)
        assert set(document) <= {"models", "unit_tests"}, sql.stem
        assert [model["name"] for model in document["models"]] == [sql.stem]
        # Unit tests sit beside the model they test.
        assert {test["model"] for test in document.get("unit_tests", [])} <= {sql.stem}
        unit_tests += len(document.get("unit_tests", []))
    assert unit_tests >= 20


def test_every_model_states_its_grain_and_tests_its_key():
    for sql in SQL:
        [model] = _model_yaml(sql)["models"]
        assert re.match(r"Grain: one row per ", model["description"]), sql.stem
        columns = {column["name"]: _tests(column.get("data_tests")) for column in model.get("columns", [])}
        keys = [[name] for name, tests in columns.items() if "unique" in tests]
        keys += [
            tests["unique_combination"]["columns"]
            for tests in [_tests(model.get("data_tests"))]
            if "unique_combination" in tests
        ]
        assert keys, f"{sql.stem}: no key test"
        for key in keys:
            assert all("not_null" in columns.get(name, {}) for name in key), (sql.stem, key)


def test_staging_reads_every_raw_table_through_its_declared_columns():
    """Each staging model reads one raw table with `source_or_empty(source, table)`, which casts to the types
    the source's YAML declares; no SQL lists column types of its own (a seed's are its `column_types`)."""
    declared = {}
    for path in (MODELS / "staging").rglob("_sources.yml"):
        [source] = yaml.safe_load(path.read_text())["sources"]
        for table in source["tables"]:
            declared[(source["name"], table["name"])] = {
                column["name"]: column.get("data_type") for column in table.get("columns", [])
            }
    read = set()
    for sql in (MODELS / "staging").rglob("*.sql"):
        calls = re.findall(r"source_or_empty\('(\w+)', '(\w+)'\)", sql.read_text())
        assert len(calls) == 1 and "source(" not in sql.read_text().replace("source_or_empty(", ""), sql.stem
        read |= set(calls)
    assert len(read) == 25
    for key in read:
        assert declared[key] and all(declared[key].values()), key
    for sql in SQL:
        assert not re.search(r"(source|ref)_or_empty\([^)]*\{", sql.read_text()), sql.stem
