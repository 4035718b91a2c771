"""Dagster assets: the Jimi API resources (dlt), the dbt models, and the marts published for readers.

Asset keys: `jimi/<resource>` for raw tables (the same keys the dbt sources resolve to, so the UI shows
one graph from API to mart), the model name for dbt models, and `published_marts` for the readers' copy.
Each body calls a plain function that tests call directly.
"""


from dagster import AssetExecutionContext, AssetKey, MaterializeResult, asset
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from dagster_dlt import DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from sources.jimi import jimi_source

from .dbt_project import dbt_project, ensure_dbt_env, ensure_manifest
from .loading import jimi_pipeline, load_jimi
from .warehouse import publish_marts, writer_lock

RESOURCE_DESCRIPTIONS = {
    "devices": "The account's devices (`jimi.user.device.list`), merged on IMEI.",
    "track_points": "GPS fixes (`jimi.device.track.list`), incremental per device, merged on IMEI + fix time.",
}


class JimiDltTranslator(DagsterDltTranslator):
    def get_asset_spec(self, data: DltResourceTranslatorData):
        name = data.resource.name
        return (
            super()
            .get_asset_spec(data)
            .replace_attributes(
                key=AssetKey(["jimi", name]),
                deps=[],
                description=RESOURCE_DESCRIPTIONS.get(name, f"Jimi resource {name}"),
            )
        )


class JimiDbtTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props):
        return "transform"


@dlt_assets(
    dlt_source=jimi_source(),
    dlt_pipeline=jimi_pipeline(),
    name="jimi_polling",
    group_name="polling",
    dagster_dlt_translator=JimiDltTranslator(),
)
def jimi_polling_assets(context: AssetExecutionContext):
    """Poll the selected Jimi resources from their stored cursors."""
    selected = sorted(context.selected_asset_keys, key=lambda key: key.to_user_string())
    summary = load_jimi([key.path[-1] for key in selected])
    for key in selected:
        yield MaterializeResult(
            asset_key=key,
            metadata={"rows_loaded": summary.rows_by_table.get(key.path[-1], 0), "load_ids": summary.load_ids},
        )


@dbt_assets(
    manifest=ensure_manifest(),
    project=dbt_project,
    dagster_dbt_translator=JimiDbtTranslator(),
)
def jimi_dbt_assets(context: AssetExecutionContext, dbt: DbtCliResource):
    """`dbt build` (models, tests, unit tests) while holding the warehouse."""
    ensure_dbt_env()
    with writer_lock():
        yield from dbt.cli(["build"], context=context).stream()


@asset(
    key="published_marts",
    # Every mart dbt builds; the publisher copies the whole mart schema.
    deps=[key for key in jimi_dbt_assets.keys if key.path[0] == "marts"],
    group_name="transform",
    kinds={"duckdb"},
    description="A read-only copy of the marts for notebooks and other readers, swapped in atomically.",
)
def published_marts() -> MaterializeResult:
    with writer_lock():
        counts = publish_marts()
    return MaterializeResult(metadata={f"rows_{table}": rows for table, rows in counts.items()})
