"""A local HTTP stand-in for the AWS Price List API's GetProducts, for HealthOmics prices (``AmazonOmics``).

    prices = PriceListStandIn({("omics.c.large", "us-east-1"): "0.1148"}).start()
    # botocore reaches it through AWS_ENDPOINT_URL_PRICING=prices.endpoint_url

It speaks the JSON 1.1 protocol of botocore's ``pricing`` model (``POST /``, ``X-Amz-Target:
AWSPriceListService.GetProducts``); each product is a JSON string in ``PriceList`` with
``product.attributes`` (``resourceType``, ``regionCode``) and an on-demand ``pricePerUnit.USD``, as the
GetProducts reference shows. TERM_MATCH filters select products. ``deny`` answers
AccessDeniedException, as for a caller without ``pricing:GetProducts``. FIDELITY.md, "Price List
API", cites each behaviour.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

from support.loopback import LoopbackService, QuietHandler, StandInServer

__all__ = ["PriceListStandIn", "PricingCall"]


@dataclass(frozen=True)
class PricingCall:
    """One request: its target, its JSON body and its Authorization header (which names the signing region)."""

    target: str
    body: dict[str, Any]
    authorization: str


class _Handler(QuietHandler):
    def do_POST(self) -> None:
        body = json.loads(self.body() or b"{}")
        call = PricingCall(self.headers.get("X-Amz-Target", ""), body, self.headers.get("Authorization", ""))
        status, answer = self.server.stand_in._answer(call)
        self.reply(status, json.dumps(answer).encode("utf-8"), "application/x-amz-json-1.1")


class PriceListStandIn(LoopbackService):
    """HealthOmics products: (resourceType, regionCode) -> USD per unit, as a string as the API sends it."""

    def __init__(self, prices: dict[tuple[str, str], str] | None = None) -> None:
        self.prices = dict(prices or {})
        self.deny = False
        self.calls: list[PricingCall] = []
        self._lock = threading.Lock()

    def start(self) -> PriceListStandIn:
        self._serve(StandInServer(self, _Handler))
        return self

    def _answer(self, call: PricingCall) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.calls.append(call)
            if call.target != "AWSPriceListService.GetProducts":
                return 400, {
                    "__type": "InvalidParameterException",
                    "Message": f"The stand-in serves GetProducts only, not {call.target}",
                }
            if self.deny:
                return 400, {
                    "__type": "AccessDeniedException",
                    "Message": "User is not authorized to perform: pricing:GetProducts",
                }
            if call.body.get("ServiceCode") != "AmazonOmics":
                return 200, {"FormatVersion": "aws_v1", "PriceList": []}
            wanted = {f["Field"]: f["Value"] for f in call.body.get("Filters", []) if f.get("Type") == "TERM_MATCH"}
            products = [
                _product(resource_type, region, usd)
                for (resource_type, region), usd in self.prices.items()
                if wanted.get("resourceType", resource_type) == resource_type
                and wanted.get("regionCode", region) == region
            ]
        return 200, {"FormatVersion": "aws_v1", "PriceList": [json.dumps(product) for product in products]}


def _product(resource_type: str, region: str, usd: str) -> dict[str, Any]:
    sku = f"SKU{abs(hash((resource_type, region))) % 10**8:08d}"
    return {
        "product": {
            "productFamily": "Omics Workflows",
            "attributes": {"resourceType": resource_type, "regionCode": region, "servicecode": "AmazonOmics"},
            "sku": sku,
        },
        "serviceCode": "AmazonOmics",
        "terms": {
            "OnDemand": {
                f"{sku}.JRTCKXETXF": {
                    "priceDimensions": {
                        f"{sku}.JRTCKXETXF.6YS6EN2CT7": {
                            "unit": "hrs" if resource_type.startswith("omics.") else "GB-Hours",
                            "pricePerUnit": {"USD": usd},
                        }
                    },
                    "sku": sku,
                }
            }
        },
    }
