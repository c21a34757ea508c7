"""HealthOmics prices: from the AWS Price List API, or from a dated table shipped with the package.

The Price List API answers only in a few regions, so its endpoint is chosen explicitly
(``us-east-1``; AWS Price List API user guide, "Price List Query API": endpoints us-east-1,
eu-central-1, ap-south-1). Products of service code ``AmazonOmics`` carry a ``resourceType``
attribute (an instance type such as ``omics.c.large``, ``Run Storage``, ``Dynamic Run Storage``)
and a ``regionCode``; the on-demand price is ``terms.OnDemand.*.priceDimensions.*.pricePerUnit.USD``
(GetProducts reference; awslabs/aws-healthomics-tools' run_analyzer reads prices the same way).

Example::

    book = PriceBook.from_price_list(pricing_client)
    book.price("omics.c.large", "us-east-1")  # USD per instance-hour, or None
    book.source  # where the prices came from, said in the output
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cdk_omics_run.status.errors import ACCESS_DENIED_CODES, error_code

PRICE_LIST_REGION = "us-east-1"
SERVICE_CODE = "AmazonOmics"


@dataclass
class PriceBook:
    """Prices by (resourceType, region), looked up once each; ``source`` says where they came from."""

    source: str
    _client: Any = None
    _table: dict[str, dict[str, float]] = field(default_factory=dict)
    _known: dict[tuple[str, str], float | None] = field(default_factory=dict)

    @classmethod
    def from_price_list(cls, client: Any) -> PriceBook:
        """Prices from the Price List API, falling back to the shipped table when it fails (said in ``source``)."""
        return cls(source="AWS Price List API (AmazonOmics)", _client=client)

    @classmethod
    def shipped(cls, reason: str) -> PriceBook:
        """The table shipped with the package; ``reason`` says why the Price List API was not used."""
        table = json.loads(resources.files("cdk_omics_run.status").joinpath("price_table.json").read_text())
        return cls(
            source=f"price table shipped with cdk-omics-run, dated {table['asOf']} ({reason})", _table=table["regions"]
        )

    def price(self, resource_type: str, region: str) -> float | None:
        """USD per unit (instance-hour, GiB-hour) of ``resource_type`` in ``region``; None when unknown."""
        key = (resource_type, region)
        if key not in self._known:
            self._known[key] = self._look_up(resource_type, region)
        return self._known[key]

    def _look_up(self, resource_type: str, region: str) -> float | None:
        if self._client is None:
            return self._table.get(region, {}).get(resource_type)
        try:
            return _price_list_price(self._client, resource_type, region)
        except ClientError as error:
            reason = (
                "pricing:GetProducts is not allowed"
                if error_code(error) in ACCESS_DENIED_CODES
                else f"the Price List API answered {error_code(error)}"
            )
        except BotoCoreError:
            reason = f"the Price List API in {PRICE_LIST_REGION} could not be reached"
        fallback = PriceBook.shipped(reason)
        self.source, self._client, self._table = fallback.source, None, fallback._table
        self._known.clear()
        return self._look_up(resource_type, region)


def _price_list_price(client: Any, resource_type: str, region: str) -> float | None:
    filters = [
        {"Type": "TERM_MATCH", "Field": "resourceType", "Value": resource_type},
        {"Type": "TERM_MATCH", "Field": "regionCode", "Value": region},
    ]
    for page in client.get_paginator("get_products").paginate(ServiceCode=SERVICE_CODE, Filters=filters):
        for item in page.get("PriceList", []):
            on_demand = json.loads(item).get("terms", {}).get("OnDemand", {})
            for term in on_demand.values():
                for dimension in term.get("priceDimensions", {}).values():
                    usd = dimension.get("pricePerUnit", {}).get("USD")
                    if usd is not None:
                        return float(usd)
    return None
