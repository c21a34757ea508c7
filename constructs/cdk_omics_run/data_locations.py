"""S3 data as CDK users hold it: URIs, bucket objects, assets and locations, turned into ``s3://`` URIs.

A run's ``output_uri`` and the values inside its ``parameters`` may be any of:

- an ``s3://bucket/key`` URI, literal;
- a URI made from a bucket's attributes, such as ``bucket.s3_url_for_object("align/")``: the
  bucket is found through CDK's reference to it, so its grants and its KMS key are known;
- ``(bucket, "key")``: an ``s3.IBucket`` and a key (a key ending in ``/`` names a folder);
- ``s3.Location(bucket_name=..., object_key=...)``;
- a file ``s3_assets.Asset`` (parameters only).

Each is rendered as its ``s3://`` URI (a CDK token when the bucket's name is known only at deploy
time), and kept as an :class:`S3Data` so that the generated run role can grant exactly it. A
parameter value JSON cannot carry is refused here, naming where it is and the fix, before it
reaches jsii (which fails on it with no word of which argument).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import Fn, Reference, Tokenization
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from cdk_omics_run.arguments import ArgumentError
from cdk_omics_run.json_values import JSON_ALLOWED, fix_for, json_value_problem, shown
from cdk_omics_run.tokens import is_jsii_object, is_token

# What a data value may be, as errors say.
DATA_ALLOWED = "an s3:// URI, bucket.s3_url_for_object(key), (bucket, key), s3.Location or a file s3_assets.Asset"


@dataclass(frozen=True)
class S3Data:
    """One S3 object or folder a run reads or writes.

    ``bucket_name`` is literal or a CDK token; ``bucket`` is the bucket object when the
    construct knows it (its ARN and KMS key then come from it). A ``key`` that is empty or ends
    in ``/`` names a folder.
    """

    bucket_name: str
    key: str
    bucket: s3.IBucket | None = None

    @property
    def uri(self) -> str:
        """``s3://bucket/key``, a token when the bucket's name is."""
        return f"s3://{self.bucket_name}/{self.key}"

    @property
    def is_folder(self) -> bool:
        """Whether the key names a folder (every key under it) rather than one object."""
        return self.key == "" or self.key.endswith("/")

    def bucket_arn(self, partition: str) -> str:
        """The bucket's ARN: its own attribute when the bucket object is known."""
        if self.bucket is not None:
            return self.bucket.bucket_arn
        return f"arn:{partition}:s3:::{self.bucket_name}"

    def objects_arn(self, partition: str) -> str:
        """The object's ARN, or for a folder every object under it."""
        return f"{self.bucket_arn(partition)}/{self.key}{'*' if self.is_folder else ''}"


@dataclass
class DataReferences:
    """What a document's data values name: locations the construct knows, and deploy-time values it cannot place.

    ``unknown``: where each deploy-time value whose bucket is unknown stands (``parameters.cram``).
    """

    locations: list[S3Data] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    def extend(self, other: DataReferences) -> None:
        self.locations += other.locations
        self.unknown += other.unknown


def data_of(value: Any) -> S3Data | None:
    """The S3 data ``value`` names when it is a data object or a URI the construct can place; else None.

    >>> data_of("s3://bkt/in/a.cram")
    S3Data(bucket_name='bkt', key='in/a.cram', bucket=None)
    >>> data_of("sample-1") is None
    True
    """
    if isinstance(value, s3_assets.Asset):
        return S3Data(value.s3_bucket_name, value.s3_object_key, value.bucket)
    if isinstance(value, s3.Location):
        return S3Data(value.bucket_name, value.object_key, bucket_of_name(value.bucket_name))
    if _is_bucket_pair(value):
        bucket, key = value
        return S3Data(bucket.bucket_name, key, bucket)
    if isinstance(value, str):
        return _data_of_uri(value)
    return None


def _is_bucket_pair(value: Any) -> bool:
    return (
        isinstance(value, tuple)
        and len(value) == 2
        and isinstance(value[1], str)
        and isinstance(getattr(value[0], "bucket_arn", None), str)
    )


# Tokens of runs' outputs (run.output(...)), by their text: the run's output location, which the
# role of a run that reads them may read.
_OUTPUT_TOKENS: dict[str, S3Data] = {}


# The list items of runs' Array[File] outputs (run.output_list(...)): the attribute they split.
_LIST_OUTPUT_ITEMS: dict[str, str] = {}


def register_output_token(token: str, location: S3Data, *, joined: str | None = None) -> None:
    """Records that ``token`` (a run's output) names an object under ``location``; ``joined``: the
    delimited attribute a list item comes from."""
    _OUTPUT_TOKENS[token] = location
    if joined is not None:
        _LIST_OUTPUT_ITEMS[token] = joined


def json_with_list_outputs(document: Mapping[str, Any], delimiter: str) -> str | None:
    """``document`` as JSON text when it holds runs' list outputs (None when it holds none, or other jsii values).

    CDK renders a list token inside JSON through a Lambda-backed resource of its own; a list
    output needs none: its items are the provider's delimited attribute, split, so the JSON
    array is ``["`` + the items joined with ``","`` + ``"]``, in CloudFormation functions.
    """
    try:
        text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    except TypeError:
        return None
    items = [item for item in _LIST_OUTPUT_ITEMS if f'"{item}"' in text]
    for item in items:
        joined = Fn.join('","', Fn.split(delimiter, _LIST_OUTPUT_ITEMS[item]))
        text = text.replace(f'"{item}"', f'"{joined}"')
    return text if items else None


def _data_of_uri(uri: str) -> S3Data | None:
    """An ``s3://`` URI, literal or made from a bucket's name token followed by a literal key; or a run's output."""
    if uri in _OUTPUT_TOKENS:
        return _OUTPUT_TOKENS[uri]
    if not uri.startswith("s3://"):
        return None
    rest = uri[len("s3://") :]
    if not is_token(rest):
        bucket_name, _, key = rest.partition("/")
        return S3Data(bucket_name, key) if bucket_name else None
    # bucket.s3_url_for_object(key) is "s3://" + the bucket's name token + "/" + key.
    tokens = list(Tokenization.reverse_string(uri).tokens)
    marker = _single_token_text(uri)
    if len(tokens) != 1 or marker is None or not rest.startswith(marker + "/"):
        return None
    bucket = _bucket_of_token(tokens[0])
    if bucket is None:
        return None
    return S3Data(bucket.bucket_name, rest[len(marker) + 1 :], bucket)


def _single_token_text(uri: str) -> str | None:
    """The ``${Token[...]}`` marker of a string holding exactly one token."""
    start = uri.find("${Token[")
    end = uri.find("]}", start)
    return uri[start : end + 2] if start >= 0 and end >= 0 else None


def bucket_of_name(bucket_name: str) -> s3.IBucket | None:
    """The bucket object whose name token ``bucket_name`` is, when CDK's reference leads to one."""
    if not is_token(bucket_name):
        return None
    tokens = list(Tokenization.reverse_string(bucket_name).tokens)
    return _bucket_of_token(tokens[0]) if len(tokens) == 1 else None


def _bucket_of_token(token: Any) -> s3.IBucket | None:
    """A bucket's ``bucket_name`` is a reference to its ``AWS::S3::Bucket``, whose parent is the bucket object."""
    if not isinstance(token, Reference):
        return None
    target = token.target
    if not isinstance(target, s3.CfnBucket):
        return None
    bucket = target.node.scope
    return bucket if isinstance(bucket, s3.Bucket) else None


def rendered_document(scope: Construct, argument: str, document: Any) -> tuple[Any, DataReferences]:
    """``document`` with its data objects as ``s3://`` URIs, and what its data values name.

    Raises ArgumentError for a value JSON cannot carry, naming where it stands
    (``parameters.when``) and the fix. Strings, numbers, booleans, None, lists and
    dicts pass as they are; text (a JSON string or ``file://path``) and tokens pass whole.
    """
    found = DataReferences()
    if not isinstance(document, Mapping):
        return document, found
    return _rendered(scope, argument, document, found, top=True), found


def _rendered(scope: Construct, where: str, value: Any, found: DataReferences, *, top: bool = False) -> Any:
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        problem = json_value_problem(value, where)
        if problem is not None:
            raise ArgumentError(f"{scope.node.path}: argument {problem[0]}: {problem[1]}")
        return value
    if isinstance(value, str):
        if is_token(value):
            data = _data_of_uri(value)
            if data is None:
                found.unknown.append(where)
            else:
                found.locations.append(data)
        return value
    data = None if top else data_of(value)
    if data is not None:
        return _input_uri(scope, where, value, data, found)
    if isinstance(value, Mapping):
        rendered = {}
        for key, item in value.items():
            problem = json_value_problem({key: None}, where)
            if problem is not None:
                raise ArgumentError(f"{scope.node.path}: argument {problem[0]}: {problem[1]}")
            rendered[key] = _rendered(scope, f"{where}.{key}", item, found)
        # Unchanged documents stay the same object: a cohort of 100,000 runs copies none of them.
        return value if all(rendered[key] is item for key, item in value.items()) else rendered
    if isinstance(value, (list, tuple)):
        items = [_rendered(scope, f"{where}[{index}]", item, found) for index, item in enumerate(value)]
        return value if isinstance(value, list) and all(a is b for a, b in zip(items, value, strict=True)) else items
    if is_jsii_object(value) and is_token(value):
        found.unknown.append(where)
        return value
    raise ArgumentError(
        f"{scope.node.path}: argument {where}: got {shown(value)}; {JSON_ALLOWED} or S3 data ({DATA_ALLOWED})"
        f"{fix_for(value)}"
    )


def _input_uri(scope: Construct, where: str, value: Any, data: S3Data, found: DataReferences) -> str:
    if isinstance(value, s3_assets.Asset) and value.is_zip_archive:
        raise ArgumentError(
            f"{scope.node.path}: argument {where}: got a directory asset, which CDK uploads as one zip file; "
            "allowed: a file asset (s3_assets.Asset(..., path='ref/GRCh38.fa')), or (bucket, 'folder/') for a folder"
        )
    if data.key == "":
        raise ArgumentError(
            f"{scope.node.path}: argument {where}: got a whole bucket; allowed: an object or a folder in it, "
            "such as (bucket, 'refs/') (a run reads what it names, and its role reads exactly that)"
        )
    found.locations.append(data)
    return data.uri


def output_location(scope: Construct, value: Any) -> tuple[Any, S3Data | None]:
    """``output_uri`` as the property takes it (an ``s3://`` URI, maybe a token), and the S3 data it names.

    The data is None when the construct cannot place it: a deploy-time value not made from a bucket
    of this app, or a value the property's own checks refuse.
    """
    if isinstance(value, s3_assets.Asset):
        raise ArgumentError(
            f"{scope.node.path}: argument output_uri: got an asset, which is something a run reads; "
            "allowed: an s3:// URI, bucket.s3_url_for_object(prefix), (bucket, prefix) or s3.Location"
        )
    data = data_of(value)
    if data is None or isinstance(value, str):
        return value, data
    return data.uri, data


__all__ = [
    "DATA_ALLOWED",
    "DataReferences",
    "S3Data",
    "bucket_of_name",
    "data_of",
    "json_with_list_outputs",
    "output_location",
    "register_output_token",
    "rendered_document",
]
