"""A small demo consortium for the network table: members, their libraries, and providers.

Item shapes (until a later issue formalizes the network model):

- pk=CONSORTIUM,        sk=CONSORTIUM   code, name, members
- pk=MEMBER#<code>,     sk=MEMBER       code, name, region, status, contact
- pk=MEMBER#<code>,     sk=LIBRARY#<code>  code, name, campus
- pk=PROVIDER#<code>,   sk=PROVIDER     code, name, formats, source_priority, feed_mode, management_level

Every name here is invented. `seed` writes through whatever boto3 endpoint is configured.
"""

from __future__ import annotations

from typing import Any

import boto3

CONSORTIUM = {"code": "nlc", "name": "Northern Lakes Library Consortium"}

MEMBERS: list[dict[str, Any]] = [
    {
        "code": "lku",
        "name": "Lakeshore University",
        "region": "north",
        "status": "active",
        "contact": "network-office@lakeshore.example.edu",
        "libraries": [
            ("main", "Hale Memorial Library", "Lakeshore main campus"),
            ("law", "Lakeshore Law Library", "Lakeshore main campus"),
            ("med", "Health Sciences Library", "Riverside medical campus"),
        ],
    },
    {
        "code": "pcc",
        "name": "Pinecrest Community College",
        "region": "north",
        "status": "active",
        "contact": "library@pinecrest.example.edu",
        "libraries": [("main", "Pinecrest Learning Commons", "Pinecrest")],
    },
    {
        "code": "brc",
        "name": "Birchwood College",
        "region": "east",
        "status": "active",
        "contact": "systems@birchwood.example.edu",
        "libraries": [
            ("main", "Alder Library", "Birchwood"),
            ("music", "Conservatory Music Library", "Birchwood"),
        ],
    },
    {
        "code": "stu",
        "name": "Stonebridge Technical University",
        "region": "east",
        "status": "active",
        "contact": "library-it@stonebridge.example.edu",
        "libraries": [
            ("eng", "Engineering Library", "Stonebridge north campus"),
            ("sci", "Science Library", "Stonebridge south campus"),
        ],
    },
    {
        "code": "wpl",
        "name": "Westport Public Library",
        "region": "west",
        "status": "onboarding",
        "contact": "catalog@westportlibrary.example.org",
        "libraries": [("central", "Westport Central Library", "Westport")],
    },
]

PROVIDERS: list[dict[str, Any]] = [
    {
        "code": "harbor",
        "name": "Harbor Press Metadata Services",
        "formats": ["marc21", "marcxml"],
        "source_priority": 50,
        "feed_mode": "incremental",
        "management_level": "community",
    },
    {
        "code": "meridian",
        "name": "Meridian Academic Aggregator",
        "formats": ["marcxml"],
        "source_priority": 40,
        "feed_mode": "full",
        "management_level": "community",
    },
    {
        "code": "natlib",
        "name": "National Library Catalogue Service",
        "formats": ["marc21"],
        "source_priority": 90,
        "feed_mode": "incremental",
        "management_level": "network",
    },
]


def items() -> list[dict[str, Any]]:
    """Every network-table item of the demo consortium."""
    result: list[dict[str, Any]] = [
        {"pk": "CONSORTIUM", "sk": "CONSORTIUM", **CONSORTIUM, "members": [m["code"] for m in MEMBERS]}
    ]
    for member in MEMBERS:
        fields = {key: value for key, value in member.items() if key != "libraries"}
        result.append({"pk": f"MEMBER#{member['code']}", "sk": "MEMBER", **fields})
        for code, name, campus in member["libraries"]:
            result.append(
                {
                    "pk": f"MEMBER#{member['code']}",
                    "sk": f"LIBRARY#{code}",
                    "code": code,
                    "name": name,
                    "campus": campus,
                }
            )
    for provider in PROVIDERS:
        result.append({"pk": f"PROVIDER#{provider['code']}", "sk": "PROVIDER", **provider})
    return result


def seed(
    table_name: str, *, session: boto3.Session | None = None, region: str = "us-east-1"
) -> dict[str, int]:
    """Write the demo consortium to the network table; returns how many of each kind were written."""
    table = (
        (session or boto3.Session(region_name=region))
        .resource("dynamodb", region_name=region)
        .Table(table_name)
    )
    written = {"consortium": 0, "members": 0, "libraries": 0, "providers": 0}
    kinds = {"CONSORTIUM": "consortium", "MEMBER": "members", "LIBRARY": "libraries", "PROVIDER": "providers"}
    with table.batch_writer() as batch:
        for item in items():
            batch.put_item(Item=item)
            written[kinds[item["sk"].split("#", 1)[0]]] += 1
    return written
