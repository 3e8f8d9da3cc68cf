#!/usr/bin/env python3
"""Writes kibana/convstats.ndjson: the data views and the two dashboards of
Lens panels (Kibana 8.x and 9.x), from one description of the views below.

The panel ids are the view ids of src/aggregate.rs and src/report/ (the
report draws the same views); tests/kibana_objects.rs checks the file
offline against mappings/, tests/dashboards_live.rs runs each panel's
aggregation on a real engine and compares it with compute's figures.

Usage: python3 scripts/kibana-objects.py [--check]
  --check: exit 1 when the committed file differs from what this writes.
Format facts: ../shared/notes/kibana-saved-objects.md (versions pinned to
coreMigrationVersion 8.8.0 and Lens/dashboard typeMigrationVersion 8.9.0).
"""
import json
import os
import sys

OUT = os.path.join(os.path.dirname(__file__), "..", "kibana", "convstats.ndjson")

DATA_VIEWS = {
    "convstats-legacy": {
        "title": "convstats-legacy",
        "name": "convstats legacy pipeline (by conversation_created_at)",
        "time": "conversation_created_at",
    },
    "convstats-legacy-by-message-created-at": {
        "title": "convstats-legacy",
        "name": "convstats legacy pipeline (by message_created_at: the CSV export's timeframe)",
        "time": "message_created_at",
    },
    "convstats-new": {
        "title": "convstats-new",
        "name": "convstats new pipeline (by started_at)",
        "time": "started_at",
    },
}


def date_histogram(field):
    return {
        "label": field,
        "dataType": "date",
        "operationType": "date_histogram",
        "sourceField": field,
        "isBucketed": True,
        "scale": "interval",
        "params": {"interval": "auto", "includeEmptyRows": True, "dropPartials": False},
    }


def count(label, kql=None):
    c = {
        "label": label,
        "customLabel": True,
        "dataType": "number",
        "operationType": "count",
        "sourceField": "___records___",
        "isBucketed": False,
        "scale": "ratio",
        "params": {"emptyAsNull": False},
    }
    if kql:
        c["filter"] = {"language": "kuery", "query": kql}
    return c


def median(field, label=None):
    return {
        "label": label or f"Median of {field}",
        "customLabel": label is not None,
        "dataType": "number",
        "operationType": "median",
        "sourceField": field,
        "isBucketed": False,
        "scale": "ratio",
        "params": {"emptyAsNull": True, "format": {"id": "duration", "params": {"inputFormat": "seconds", "outputFormat": "humanizePrecise", "outputPrecision": 1}}},
    }


def pct(field, p, label=None):
    return {
        "label": label or f"{p}th percentile of {field}",
        "customLabel": label is not None,
        "dataType": "number",
        "operationType": "percentile",
        "sourceField": field,
        "isBucketed": False,
        "scale": "ratio",
        "params": {"percentile": p, "format": {"id": "duration", "params": {"inputFormat": "seconds", "outputFormat": "humanizePrecise", "outputPrecision": 1}}},
    }


def terms(field, data_type, size, order_by, direction, other, missing):
    return {
        "label": f"Top {size} values of {field}",
        "dataType": data_type,
        "operationType": "terms",
        "sourceField": field,
        "isBucketed": True,
        "scale": "ordinal",
        "params": {
            "size": size,
            "orderBy": order_by,
            "orderDirection": direction,
            "otherBucket": other,
            "missingBucket": missing,
            "parentFormat": {"id": "terms"},
        },
    }


# Each panel: id (the view id), title, data view, visualization, columns
# (ordered: buckets first), the x and split accessors, the series type.
LEGACY = [
    {
        "id": "new-inbound",
        "title": "New inbound conversations",
        "description": "Legacy documents with inbound: true, by conversation_created_at (the seed article's chart).",
        "view": "convstats-legacy",
        "vis": "xy", "series": "bar",
        "columns": {"x": date_histogram("conversation_created_at"), "y": count("inbound conversations", "inbound: true")},
        "x": "x", "y": ["y"], "grid": (0, 0, 24, 14),
    },
    {
        "id": "csv-export-rows",
        "title": "CSV export rows by message_created_at",
        "description": "Every message type, by message_created_at (the CSV export's timeframe). It counts other conversations than 'New inbound conversations' for the same dates; that is intended.",
        "view": "convstats-legacy-by-message-created-at",
        "vis": "xy", "series": "bar",
        "columns": {"x": date_histogram("message_created_at"), "y": count("CSV rows")},
        "x": "x", "y": ["y"], "grid": (24, 0, 24, 14),
    },
    {
        "id": "by-message-type",
        "title": "Conversations by message type",
        "description": "Legacy documents by message_type, by conversation_created_at.",
        "view": "convstats-legacy",
        "vis": "xy", "series": "line",
        "columns": {
            "x": date_histogram("conversation_created_at"),
            "split": terms("message_type", "string", 10, {"type": "alphabetical", "fallback": False}, "asc", False, True),
            "y": count("conversations"),
        },
        "x": "x", "split": "split", "y": ["y"], "grid": (0, 14, 24, 14),
    },
    {
        "id": "time-to-admin-reply",
        "title": "Median time to admin reply: wall clock vs office hours",
        "description": "First contact reply to first admin reply; _ooo leaves out time outside office hours (Intercom's REST API time_to_admin_reply is the _ooo one).",
        "view": "convstats-legacy",
        "vis": "xy", "series": "line",
        "columns": {
            "x": date_histogram("conversation_created_at"),
            "plain": median("time_to_admin_reply", "median time_to_admin_reply"),
            "ooo": median("time_to_admin_reply_ooo", "median time_to_admin_reply_ooo (office hours only)"),
        },
        "x": "x", "y": ["plain", "ooo"], "grid": (24, 14, 24, 14),
    },
    {
        "id": "reopens",
        "title": "Reopens per conversation",
        "description": "Legacy documents by count_reopens (the 11 smallest values; Other is every greater one).",
        "view": "convstats-legacy",
        "vis": "xy", "series": "bar",
        "columns": {
            "x": terms("count_reopens", "number", 11, {"type": "alphabetical", "fallback": False}, "asc", True, False),
            "y": count("conversations"),
        },
        "x": "x", "y": ["y"], "grid": (0, 28, 24, 12),
    },
    {
        "id": "assignments",
        "title": "Assignments per conversation",
        "description": "Legacy documents by count_assignments (the 11 smallest values; Other is every greater one).",
        "view": "convstats-legacy",
        "vis": "xy", "series": "bar",
        "columns": {
            "x": terms("count_assignments", "number", 11, {"type": "alphabetical", "fallback": False}, "asc", True, False),
            "y": count("conversations"),
        },
        "x": "x", "y": ["y"], "grid": (24, 28, 24, 12),
    },
]

GROUP_COLUMNS = lambda: {  # noqa: E731 (a fresh copy per table)
    "conversations": count("conversations"),
    "frt50": median("first_response_time", "median first response"),
    "frt90": pct("first_response_time", 90, "p90 first response"),
    "frt50ooo": median("first_response_time_ooo", "median first response (office hours)"),
    "ttlc50": median("time_to_last_close", "median time to last close"),
    "ttlc50ooo": median("time_to_last_close_ooo", "median time to last close (office hours)"),
    "human": count("closed by a human", "last_closed_by_human_at: *"),
    "bots": count("closed, never by a human", "last_closed_at: * and not last_closed_by_human_at: *"),
}


def group_panel(pid, title, field, missing, grid):
    cols = {"group": terms(field, "string", 50, {"type": "column", "columnId": "conversations"}, "desc", True, missing)}
    cols.update(GROUP_COLUMNS())
    return {
        "id": pid, "title": title,
        "description": f"New-pipeline documents by {field}: the 50 with most conversations, the rest as Other.",
        "view": "convstats-new", "vis": "table", "columns": cols, "grid": grid,
    }


NEW = [
    {
        "id": "first-response-time",
        "title": "First response time: median and p90, wall clock vs office hours",
        "description": "started_at to first_response_at; _ooo leaves out time outside office hours.",
        "view": "convstats-new",
        "vis": "xy", "series": "line",
        "columns": {
            "x": date_histogram("started_at"),
            "p50": median("first_response_time", "median first_response_time"),
            "p90": pct("first_response_time", 90, "p90 first_response_time"),
            "o50": median("first_response_time_ooo", "median first_response_time_ooo"),
            "o90": pct("first_response_time_ooo", 90, "p90 first_response_time_ooo"),
        },
        "x": "x", "y": ["p50", "p90", "o50", "o90"], "grid": (0, 0, 24, 15),
    },
    {
        "id": "time-to-last-close",
        "title": "Time to last close, and to the last close by a human",
        "description": "Medians of started_at to last_closed_at and to last_closed_by_human_at, wall clock and office hours.",
        "view": "convstats-new",
        "vis": "xy", "series": "line",
        "columns": {
            "x": date_histogram("started_at"),
            "c": median("time_to_last_close", "median time_to_last_close"),
            "co": median("time_to_last_close_ooo", "median time_to_last_close_ooo"),
            "h": median("time_to_last_close_by_human", "median time_to_last_close_by_human"),
            "ho": median("time_to_last_close_by_human_ooo", "median time_to_last_close_by_human_ooo"),
        },
        "x": "x", "y": ["c", "co", "h", "ho"], "grid": (24, 0, 24, 15),
    },
    {
        "id": "time-to-last-close-distribution",
        "title": "Distribution of time to last close",
        "description": "Percentiles of time_to_last_close and time_to_last_close_ooo.",
        "view": "convstats-new",
        "vis": "table",
        "columns": {
            **{f"p{p}": pct("time_to_last_close", p, f"p{p} time_to_last_close") for p in (10, 25, 50, 75, 90)},
            **{f"o{p}": pct("time_to_last_close_ooo", p, f"p{p} time_to_last_close_ooo") for p in (10, 25, 50, 75, 90)},
        },
        "grid": (0, 15, 24, 8),
    },
    {
        "id": "closes",
        "title": "Closed by humans vs bots",
        "description": "Closed conversations: by a human (last_closed_by_human_at set) or never by a human (closed only by bots or other non-human authors).",
        "view": "convstats-new",
        "vis": "xy", "series": "bar_percentage_stacked",
        "columns": {
            "x": date_histogram("started_at"),
            "human": count("closed by a human", "last_closed_by_human_at: *"),
            "bots": count("closed, never by a human (bots)", "last_closed_at: * and not last_closed_by_human_at: *"),
        },
        "x": "x", "y": ["human", "bots"], "grid": (24, 15, 24, 15),
    },
    group_panel("by-workspace", "By workspace", "workspace_id", False, (0, 30, 48, 14)),
    group_panel("by-team", "By team", "team_assignee_id", True, (0, 44, 48, 14)),
]

LAYER = "layer1"


def lens(panel):
    cols = panel["columns"]
    if panel["vis"] == "xy":
        layer = {
            "layerId": LAYER,
            "layerType": "data",
            "seriesType": panel["series"],
            "xAccessor": panel["x"],
            "accessors": panel["y"],
        }
        if "split" in panel:
            layer["splitAccessor"] = panel["split"]
        vis_type = "lnsXY"
        vis = {
            "legend": {"isVisible": True, "position": "bottom"},
            "valueLabels": "hide",
            "preferredSeriesType": panel["series"],
            "layers": [layer],
        }
    else:
        vis_type = "lnsDatatable"
        vis = {"layerId": LAYER, "layerType": "data", "columns": [{"columnId": k} for k in cols]}
    return {
        "title": panel["title"],
        "description": panel["description"],
        "visualizationType": vis_type,
        "type": "lens",
        "references": [{"type": "index-pattern", "id": panel["view"], "name": f"indexpattern-datasource-layer-{LAYER}"}],
        "state": {
            "visualization": vis,
            "query": {"query": "", "language": "kuery"},
            "filters": [],
            "datasourceStates": {
                "formBased": {"layers": {LAYER: {"columns": cols, "columnOrder": list(cols), "incompleteColumns": {}}}}
            },
        },
    }


def dashboard(did, title, description, panels):
    out, refs = [], []
    for p in panels:
        x, y, w, h = p["grid"]
        out.append({
            "type": "lens",
            "panelIndex": p["id"],
            "gridData": {"x": x, "y": y, "w": w, "h": h, "i": p["id"]},
            "embeddableConfig": {"attributes": lens(p), "enhancements": {}},
            "title": p["title"],
        })
        refs.append({"type": "index-pattern", "id": p["view"], "name": f"{p['id']}:indexpattern-datasource-layer-{LAYER}"})
    return {
        "type": "dashboard",
        "id": did,
        "coreMigrationVersion": "8.8.0",
        "typeMigrationVersion": "8.9.0",
        "references": refs,
        "attributes": {
            "title": title,
            "description": description,
            "timeRestore": False,
            "version": 1,
            "panelsJSON": json.dumps(out, separators=(",", ":")),
            "optionsJSON": json.dumps({"useMargins": True, "syncColors": False, "syncCursor": True, "syncTooltips": False, "hidePanelTitles": False}, separators=(",", ":")),
            "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps({"query": {"query": "", "language": "kuery"}, "filter": []}, separators=(",", ":"))},
        },
    }


def objects():
    for vid, v in DATA_VIEWS.items():
        yield {
            "type": "index-pattern",
            "id": vid,
            "coreMigrationVersion": "8.8.0",
            "typeMigrationVersion": "8.0.0",
            "references": [],
            "attributes": {
                "title": v["title"],
                "name": v["name"],
                "timeFieldName": v["time"],
                "fields": "[]",
                "fieldFormatMap": "{}",
                "runtimeFieldMap": "{}",
                "sourceFilters": "[]",
                "typeMeta": "{}",
            },
        }
    yield dashboard(
        "convstats-legacy-dashboard",
        "convstats: legacy pipeline",
        "Legacy-pipeline documents (alias convstats-legacy). The time picker filters on conversation_created_at, and on message_created_at for the CSV panel. Set Advanced Settings > dateFormat:tz to UTC to see the buckets of report.html.",
        LEGACY,
    )
    yield dashboard(
        "convstats-new-dashboard",
        "convstats: new pipeline",
        "New-pipeline documents (alias convstats-new) of conversations with a contact reply; the time picker filters on started_at.",
        NEW,
    )


def render():
    return "".join(json.dumps(o, separators=(",", ":"), sort_keys=False) + "\n" for o in objects())


if __name__ == "__main__":
    text = render()
    if "--check" in sys.argv[1:]:
        with open(OUT) as f:
            if f.read() != text:
                print("kibana/convstats.ndjson is not what scripts/kibana-objects.py writes: run it", file=sys.stderr)
                sys.exit(1)
        sys.exit(0)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write(text)
    print(f"wrote {os.path.normpath(OUT)}: {text.count(chr(10))} objects")
