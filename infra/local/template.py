"""Read template.yaml and create its resources with boto3: the one reader for the local stack and tests.

`load_template` parses the SAM template (CloudFormation short tags included); `deploy` creates
every resource in dependency order with deterministic names and returns a `Deployment`: the
physical names, ARNs and URLs, each function's resolved environment, and the resolved Outputs.

It only talks to AWS through the boto3 session it is given (default: a new one), so it works
against `moto_server` (AWS_ENDPOINT_URL) and under in-process `moto.mock_aws` alike. A resource
type it does not know is an error, never silently skipped; properties it does not emulate
(encryption, point-in-time recovery, tracing, throttling) are ignored.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import yaml
from botocore.exceptions import ClientError

__all__ = [
    "Deployment",
    "EventSpec",
    "FunctionSpec",
    "Resource",
    "TemplateError",
    "UnsupportedResourceError",
    "deploy",
    "load_template",
]

REPO_ROOT = Path(__file__).resolve().parents[2]

SUPPORTED_TYPES = (
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::SNS::Subscription",
    "AWS::Events::EventBus",
    "AWS::CloudWatch::Alarm",
    "AWS::Serverless::LayerVersion",
    "AWS::Serverless::Function",
    "AWS::Serverless::Api",
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolGroup",
    "AWS::SecretsManager::Secret",
)


class TemplateError(Exception):
    """The template cannot be read or deployed as written."""


class UnsupportedResourceError(TemplateError):
    """The template uses a resource type the local reader does not create."""


# ---------------------------------------------------------------------------------- loading


class Template(dict):
    """A parsed template that remembers where it was read from (relative CodeUri etc.)."""

    path: Path | None = None


class _CfnLoader(yaml.SafeLoader):
    """PyYAML loader that turns CloudFormation short tags into their long form."""


def _construct_tag(loader: _CfnLoader, tag_suffix: str, node: yaml.Node) -> dict:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "Condition":
        return {"Condition": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: str | Path = "template.yaml") -> Template:
    """Parse a SAM/CloudFormation template; a relative path falls back to the repository root."""
    candidate = Path(path)
    if not candidate.is_absolute() and not candidate.exists() and (REPO_ROOT / candidate).exists():
        candidate = REPO_ROOT / candidate
    with open(candidate, encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise TemplateError(f"{candidate}: not a CloudFormation template (no Resources)")
    template = Template(data)
    template.path = candidate.resolve()
    return template


# ---------------------------------------------------------------------------------- results


@dataclass
class Resource:
    logical_id: str
    type: str
    name: str
    ref: str
    arn: str | None = None
    url: str | None = None  # queues
    stream_arn: str | None = None  # tables with a stream
    attributes: dict[str, Any] = field(default_factory=dict)  # what !GetAtt can read
    properties: dict[str, Any] = field(default_factory=dict)  # resolved properties


@dataclass
class EventSpec:
    """One entry of a function's Events, with its properties resolved."""

    name: str
    type: str  # S3, SQS, DynamoDB, Api, ...
    properties: dict[str, Any]
    # S3 events with local_notifications=True: the internal queue the bucket notifies.
    local_queue_url: str | None = None
    local_queue_arn: str | None = None


@dataclass
class FunctionSpec:
    logical_id: str
    name: str
    arn: str
    handler: str  # "pkg.module.func"
    runtime: str
    code_dir: Path
    layer_dirs: list[Path]
    environment: dict[str, str]
    timeout: int
    memory: int
    events: dict[str, EventSpec]
    dead_letter_arn: str | None = None  # DeadLetterQueue.TargetArn (async invocations)
    dead_letter_type: str | None = None  # SQS or SNS
    async_max_retries: int = 2  # EventInvokeConfig.MaximumRetryAttempts
    external_layers: list[str] = field(default_factory=list)  # layer ARNs outside the template

    @property
    def module(self) -> str:
        return self.handler.rsplit(".", 1)[0]

    @property
    def function(self) -> str:
        return self.handler.rsplit(".", 1)[1]


@dataclass
class Deployment:
    stack_name: str
    region: str
    account_id: str
    resources: dict[str, Resource] = field(default_factory=dict)
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # resources whose Condition is false
    # Properties that were read but are not applied locally, per logical id ("EnabledMfas.0", ...):
    # moto has no such setting, or the behaviour (e.g. Cognito Lambda triggers) is not emulated.
    ignored: dict[str, list[str]] = field(default_factory=dict)

    def env_for(self, function_logical_id: str) -> dict[str, str]:
        """The environment the template gives a function (Globals merged with its own)."""
        return dict(self.functions[function_logical_id].environment)

    def name_of(self, logical_id: str) -> str:
        return self.resources[logical_id].name

    def by_arn(self, arn: str) -> Resource | None:
        return next((r for r in self.resources.values() if arn in (r.arn, r.stream_arn)), None)


# ---------------------------------------------------------------------------------- resolving

_NO_VALUE = object()  # AWS::NoValue: the property disappears
_SUB_VAR = re.compile(r"\$\{([^}]*)\}")


def _is_intrinsic(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _INTRINSICS


_INTRINSICS = {
    "Ref",
    "Condition",
    "Fn::GetAtt",
    "Fn::Sub",
    "Fn::Join",
    "Fn::Select",
    "Fn::Split",
    "Fn::If",
    "Fn::Equals",
    "Fn::Not",
    "Fn::And",
    "Fn::Or",
    "Fn::FindInMap",
    "Fn::Base64",
    "Fn::GetAZs",
    "Fn::ToJsonString",
    "Fn::ImportValue",
    "Fn::Cidr",
    "Fn::Transform",
    "Fn::Length",
}


def _references(value: Any) -> set[str]:
    """Names a value refers to (resources, parameters, pseudo parameters), for ordering."""
    found: set[str] = set()
    if isinstance(value, dict):
        if "Ref" in value and len(value) == 1 and isinstance(value["Ref"], str):
            found.add(value["Ref"])
        elif "Fn::GetAtt" in value and len(value) == 1:
            target = value["Fn::GetAtt"]
            found.add(target.split(".", 1)[0] if isinstance(target, str) else target[0])
        elif "Fn::Sub" in value and len(value) == 1:
            body = value["Fn::Sub"]
            text, variables = (body, {}) if isinstance(body, str) else (body[0], body[1])
            for name in _SUB_VAR.findall(text):
                if not name.startswith("!") and name.split(".", 1)[0] not in variables:
                    found.add(name.split(".", 1)[0])
            found |= _references(variables)
        else:
            for item in value.values():
                found |= _references(item)
    elif isinstance(value, list):
        for item in value:
            found |= _references(item)
    return found


class _Resolver:
    def __init__(self, template: dict, parameters: dict, pseudo: dict, resources: dict[str, Resource]):
        self.template = template
        self.parameters = parameters
        self.pseudo = pseudo
        self.resources = resources
        self.skipped: list[str] = []
        self._conditions: dict[str, bool] = {}

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            conditions = self.template.get("Conditions") or {}
            if name not in conditions:
                raise TemplateError(f"unknown condition {name!r}")
            self._conditions[name] = bool(self.resolve(conditions[name]))
        return self._conditions[name]

    def ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self.parameters:
            return self.parameters[name]
        if name in self.resources:
            return self.resources[name].ref
        if name in self.skipped:
            raise TemplateError(f"!Ref {name}: that resource is not created (its Condition is false)")
        raise TemplateError(f"!Ref {name}: no such parameter or (created) resource")

    def get_att(self, logical_id: str, attribute: str) -> Any:
        resource = self.resources.get(logical_id)
        if resource is None:
            why = "its Condition is false" if logical_id in self.skipped else "no such (created) resource"
            raise TemplateError(f"!GetAtt {logical_id}.{attribute}: {why}")
        if attribute not in resource.attributes:
            raise TemplateError(
                f"!GetAtt {logical_id}.{attribute}: {resource.type} has no attribute {attribute!r} "
                f"locally (known: {', '.join(sorted(resource.attributes)) or 'none'})"
            )
        return resource.attributes[attribute]

    def sub(self, text: str, variables: dict) -> str:
        def replace(match: re.Match) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name and name not in self.pseudo:
                logical_id, attribute = name.split(".", 1)
                return str(self.get_att(logical_id, attribute))
            return str(self.ref(name))

        return _SUB_VAR.sub(replace, text)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if not _is_intrinsic(value):
            if len(value) == 1 and next(iter(value)).startswith("Fn::"):
                raise TemplateError(f"unsupported intrinsic function {next(iter(value))}")
            resolved = {key: self.resolve(item) for key, item in value.items()}
            return {key: item for key, item in resolved.items() if item is not _NO_VALUE}
        ((function, argument),) = value.items()
        handler = _FUNCTIONS.get(function)
        if handler is None:
            raise TemplateError(f"{function} is not supported by the local stack")
        return handler(self, argument)

    def get_att_fn(self, argument: Any) -> Any:
        logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
        return self.get_att(logical_id, self.resolve(attribute))

    def sub_fn(self, argument: Any) -> str:
        if isinstance(argument, str):
            return self.sub(argument, {})
        return self.sub(argument[0], argument[1])

    def select_fn(self, argument: Any) -> Any:
        index, items = argument
        return self.resolve(items)[int(self.resolve(index))]

    def if_fn(self, argument: Any) -> Any:
        name, when_true, when_false = argument
        return self.resolve(when_true if self.condition(name) else when_false)

    def equals_fn(self, argument: Any) -> bool:
        left, right = (self.resolve(item) for item in argument)
        return str(left) == str(right)

    def find_in_map_fn(self, argument: Any) -> Any:
        mapping, top, second = (self.resolve(item) for item in argument[:3])
        try:
            return self.template["Mappings"][mapping][top][second]
        except KeyError as error:
            raise TemplateError(f"!FindInMap {mapping}.{top}.{second}: not found") from error

    def get_azs_fn(self, argument: Any) -> list[str]:
        region = self.resolve(argument) or self.pseudo["AWS::Region"]
        return [f"{region}{zone}" for zone in "abc"]


# The intrinsic functions the local stack resolves, by name: (resolver, argument) -> value.
_FUNCTIONS: dict[str, Callable[[_Resolver, Any], Any]] = {
    "Ref": lambda r, argument: r.ref(argument),
    "Condition": lambda r, argument: r.condition(argument),
    "Fn::GetAtt": _Resolver.get_att_fn,
    "Fn::Sub": _Resolver.sub_fn,
    "Fn::Join": lambda r, argument: argument[0].join(str(item) for item in r.resolve(argument[1])),
    "Fn::Select": _Resolver.select_fn,
    "Fn::Split": lambda r, argument: str(r.resolve(argument[1])).split(argument[0]),
    "Fn::If": _Resolver.if_fn,
    "Fn::Equals": _Resolver.equals_fn,
    "Fn::Not": lambda r, argument: not r.resolve(argument[0]),
    "Fn::And": lambda r, argument: all(r.resolve(item) for item in argument),
    "Fn::Or": lambda r, argument: any(r.resolve(item) for item in argument),
    "Fn::FindInMap": _Resolver.find_in_map_fn,
    "Fn::Base64": lambda r, argument: base64.b64encode(str(r.resolve(argument)).encode()).decode(),
    "Fn::GetAZs": _Resolver.get_azs_fn,
    "Fn::ToJsonString": lambda r, argument: json.dumps(r.resolve(argument), separators=(",", ":")),
    "Fn::Length": lambda r, argument: len(r.resolve(argument)),
}


# ---------------------------------------------------------------------------------- deploying


def _merge_globals(defaults: Any, own: Any) -> Any:
    """SAM's Globals rule: maps merge (the resource wins), lists add up, scalars are replaced."""
    if (
        isinstance(defaults, dict)
        and isinstance(own, dict)
        and not (_is_intrinsic(defaults) or _is_intrinsic(own))
    ):
        merged = dict(defaults)
        for key, value in own.items():
            merged[key] = _merge_globals(defaults[key], value) if key in defaults else value
        return merged
    if isinstance(defaults, list) and isinstance(own, list):
        return defaults + own
    return own


def _physical_name(stack_name: str, logical_id: str, explicit: Any) -> str:
    return str(explicit) if explicit else f"{stack_name}-{logical_id}"


def _api_id(stack_name: str, logical_id: str) -> str:
    """A deterministic 10-character id in the alphabet API Gateway uses."""
    digest = hashlib.sha256(f"{stack_name}:{logical_id}".encode()).digest()
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(alphabet[byte % len(alphabet)] for byte in digest[:10])


def _as_env_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        raise TemplateError(f"environment values must be scalars, not {value!r}")
    return str(value)


def _to_shape(value: Any, shape: Any, path: str, ignored: list[str]) -> Any:
    """A CloudFormation property value converted to a botocore input shape.

    CloudFormation accepts "12" for an integer and "true" for a boolean; the API does not.
    Structure members the API does not know are left out and their paths added to `ignored`.
    """
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise TemplateError(f"{path}: expected a map, not {value!r}")
        result = {}
        for key, item in value.items():
            if key in shape.members:
                result[key] = _to_shape(item, shape.members[key], f"{path}.{key}".lstrip("."), ignored)
            else:
                ignored.append(f"{path}.{key}".lstrip("."))
        return result
    if kind == "list":
        items = value if isinstance(value, list) else [value]
        return [_to_shape(item, shape.member, f"{path}.{i}", ignored) for i, item in enumerate(items)]
    if kind == "map":
        if not isinstance(value, dict):
            raise TemplateError(f"{path}: expected a map, not {value!r}")
        return {
            str(key): _to_shape(item, shape.value, f"{path}.{key}", ignored) for key, item in value.items()
        }
    if kind == "string":
        return ("true" if value else "false") if isinstance(value, bool) else str(value)
    if kind in ("integer", "long"):
        return int(value)
    if kind == "boolean":
        return value if isinstance(value, bool) else str(value).lower() == "true"
    if kind in ("double", "float"):
        return float(value)
    return value


def _api_request(client: Any, operation: str, props: dict, ignored: list[str]) -> dict:
    """The request of `operation` built from CloudFormation properties that share the API's names."""
    shape = client.meta.service_model.operation_model(operation).input_shape
    return _to_shape(props, shape, "", ignored)


def _order(resources: dict[str, dict]) -> list[str]:
    """Logical ids in dependency order (Ref, GetAtt, Sub, DependsOn); a cycle is an error."""
    graph: dict[str, set[str]] = {}
    for logical_id, body in resources.items():
        depends_on = body.get("DependsOn") or []
        depends = set([depends_on] if isinstance(depends_on, str) else depends_on)
        depends |= _references(body.get("Properties") or {})
        graph[logical_id] = {name for name in depends if name in resources and name != logical_id}
    ordered: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(node: str, path: list[str]) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            cycle = [*path[path.index(node) :], node]
            raise TemplateError(f"circular dependency: {' -> '.join(cycle)}")
        state[node] = 1
        for dependency in sorted(graph[node]):
            visit(dependency, [*path, node])
        state[node] = 2
        ordered.append(node)

    for logical_id in resources:  # template order, dependencies first
        visit(logical_id, [])
    return ordered


class _Deployer:
    def __init__(
        self,
        template: dict,
        stack_name: str,
        region: str,
        account_id: str,
        session: boto3.Session,
        parameters: dict[str, Any] | None,
        base_dir: Path,
    ):
        self.template = template
        self.session = session
        self.region = region
        self.base_dir = base_dir
        self.deployment = Deployment(stack_name=stack_name, region=region, account_id=account_id)
        self.resolver = _Resolver(
            template,
            self._parameters(parameters or {}),
            {
                "AWS::StackName": stack_name,
                "AWS::AccountId": account_id,
                "AWS::Region": region,
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
                "AWS::StackId": f"arn:aws:cloudformation:{region}:{account_id}:stack/{stack_name}/"
                + str(uuid.uuid5(uuid.NAMESPACE_URL, stack_name)),
                "AWS::NotificationARNs": [],
            },
            self.deployment.resources,
        )
        self.deployment.parameters = self.resolver.parameters
        self.resolver.skipped = self.deployment.skipped
        self._clients: dict[str, Any] = {}
        self._bucket_notifications: dict[str, dict[str, list]] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service, region_name=self.region)
        return self._clients[service]

    def _parameters(self, overrides: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        declared = self.template.get("Parameters") or {}
        unknown = set(overrides) - set(declared)
        if unknown:
            raise TemplateError(f"unknown parameters: {', '.join(sorted(unknown))}")
        for name, spec in declared.items():
            if name in overrides:
                value = overrides[name]
            elif "Default" in spec:
                value = spec["Default"]
            else:
                raise TemplateError(f"parameter {name} has no Default and no value was given")
            if (
                str(spec.get("Type", "String")).startswith("List<")
                or spec.get("Type") == "CommaDelimitedList"
            ):
                value = value if isinstance(value, list) else [v.strip() for v in str(value).split(",")]
            else:
                value = str(value)
            allowed = spec.get("AllowedValues")
            if allowed and value not in [str(item) for item in allowed]:
                raise TemplateError(f"parameter {name}={value!r} is not one of {allowed}")
            values[name] = value
        return values

    # -- the whole template

    def run(self, local_notifications: bool) -> Deployment:
        resources: dict[str, dict] = dict(self.template["Resources"])
        for logical_id, body in resources.items():
            if body.get("Type") not in SUPPORTED_TYPES:
                raise UnsupportedResourceError(
                    f"resource {logical_id} has type {body.get('Type')!r}, which the local stack does not "
                    f"create (supported: {', '.join(SUPPORTED_TYPES)}); teach infra/local/template.py"
                )
        if self._needs_implicit_api(resources):
            # Before Globals: SAM gives the implicit API the Globals.Api settings (Auth included).
            resources = {
                "ServerlessRestApi": {"Type": "AWS::Serverless::Api", "Properties": {"StageName": "Prod"}},
                **resources,
            }
        globals_ = self.template.get("Globals") or {}
        for logical_id, body in resources.items():
            kind = {"AWS::Serverless::Function": "Function", "AWS::Serverless::Api": "Api"}.get(body["Type"])
            if kind and kind in globals_:
                resources[logical_id] = {
                    **body,
                    "Properties": _merge_globals(globals_[kind], body.get("Properties") or {}),
                }

        for logical_id in _order(resources):
            body = resources[logical_id]
            if "Condition" in body and not self.resolver.condition(body["Condition"]):
                self.deployment.skipped.append(logical_id)
                continue
            self._create(logical_id, body, local_notifications)

        self._apply_bucket_notifications()
        for name, output in (self.template.get("Outputs") or {}).items():
            if "Condition" in output and not self.resolver.condition(output["Condition"]):
                continue
            self.deployment.outputs[name] = str(self.resolver.resolve(output["Value"]))
        return self.deployment

    @staticmethod
    def _needs_implicit_api(resources: dict[str, dict]) -> bool:
        if "ServerlessRestApi" in resources:
            return False
        for body in resources.values():
            if body["Type"] != "AWS::Serverless::Function":
                continue
            for event in ((body.get("Properties") or {}).get("Events") or {}).values():
                if event.get("Type") == "Api" and "RestApiId" not in (event.get("Properties") or {}):
                    return True
        return False

    def _create(self, logical_id: str, body: dict, local_notifications: bool) -> None:
        kind = body["Type"]
        if kind == "AWS::Serverless::Function":
            self._function(logical_id, body.get("Properties") or {}, local_notifications)
            return
        properties = self.resolver.resolve(body.get("Properties") or {})
        creator = {
            "AWS::DynamoDB::Table": self._table,
            "AWS::S3::Bucket": self._bucket,
            "AWS::SQS::Queue": self._queue,
            "AWS::SNS::Topic": self._topic,
            "AWS::SNS::Subscription": self._subscription,
            "AWS::Events::EventBus": self._event_bus,
            "AWS::CloudWatch::Alarm": self._alarm,
            "AWS::Serverless::LayerVersion": self._layer,
            "AWS::Serverless::Api": self._api,
            "AWS::Cognito::UserPool": self._user_pool,
            "AWS::Cognito::UserPoolClient": self._user_pool_client,
            "AWS::Cognito::UserPoolGroup": self._user_pool_group,
            "AWS::SecretsManager::Secret": self._secret,
        }[kind]
        resource = creator(logical_id, properties)
        resource.properties = properties
        self.deployment.resources[logical_id] = resource

    # -- one method per resource type

    def _table(self, logical_id: str, props: dict) -> Resource:
        name = _physical_name(self.deployment.stack_name, logical_id, props.get("TableName"))
        request: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
        }
        billing = props.get("BillingMode") or (
            "PROVISIONED" if "ProvisionedThroughput" in props else "PAY_PER_REQUEST"
        )
        request["BillingMode"] = billing
        if billing == "PROVISIONED":
            request["ProvisionedThroughput"] = props["ProvisionedThroughput"]
        index_keys = ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")
        if props.get("GlobalSecondaryIndexes"):
            request["GlobalSecondaryIndexes"] = [
                {key: index[key] for key in index_keys if key in index}
                for index in props["GlobalSecondaryIndexes"]
            ]
        if props.get("LocalSecondaryIndexes"):
            request["LocalSecondaryIndexes"] = [
                {key: index[key] for key in index_keys[:3] if key in index}
                for index in props["LocalSecondaryIndexes"]
            ]
        stream = props.get("StreamSpecification")
        if stream and stream.get("StreamViewType"):
            request["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": stream["StreamViewType"],
            }
        dynamodb = self.client("dynamodb")
        description = dynamodb.create_table(**request)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and str(ttl.get("Enabled")).lower() == "true":
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )
        arn = description["TableArn"]
        stream_arn = description.get("LatestStreamArn")
        attributes = {"Arn": arn}
        if stream_arn:
            attributes["StreamArn"] = stream_arn
        return Resource(
            logical_id,
            "AWS::DynamoDB::Table",
            name,
            name,
            arn=arn,
            stream_arn=stream_arn,
            attributes=attributes,
        )

    def _secret(self, logical_id: str, props: dict) -> Resource:
        """A secret with its SecretString, or one Secrets Manager generates as CloudFormation does."""
        name = _physical_name(self.deployment.stack_name, logical_id, props.get("Name"))
        secrets = self.client("secretsmanager")
        value = props.get("SecretString")
        generate = props.get("GenerateSecretString")
        if value is None and generate is not None:
            options = {
                key: generate[key]
                for key in ("PasswordLength", "ExcludeCharacters", "ExcludePunctuation", "IncludeSpace")
                if key in generate
            }
            value = secrets.get_random_password(**options)["RandomPassword"]
            if "SecretStringTemplate" in generate:
                value = json.dumps(
                    json.loads(generate["SecretStringTemplate"]) | {generate["GenerateStringKey"]: value}
                )
        request: dict[str, Any] = {"Name": name, "SecretString": str(value or "")}
        if props.get("Description"):
            request["Description"] = str(props["Description"])
        arn = secrets.create_secret(**request)["ARN"]
        return Resource(logical_id, "AWS::SecretsManager::Secret", name, arn, arn=arn, attributes={"Id": arn})

    def _bucket(self, logical_id: str, props: dict) -> Resource:
        name = _physical_name(self.deployment.stack_name, logical_id, props.get("BucketName"))
        if not props.get("BucketName"):
            name = name.lower()  # bucket names are lower case
        s3 = self.client("s3")
        if self.region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": self.region})
        versioning = (props.get("VersioningConfiguration") or {}).get("Status")
        if versioning:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning})
        notification = props.get("NotificationConfiguration") or {}
        wiring = self._bucket_notifications.setdefault(
            name, {"QueueConfigurations": [], "TopicConfigurations": []}
        )
        for key, target in (("QueueConfigurations", "Queue"), ("TopicConfigurations", "Topic")):
            for entry in notification.get(key) or []:
                wiring[key].append(
                    {
                        f"{target}Arn": entry[target],
                        "Events": [entry["Event"]],
                        **({"Filter": self._s3_filter(entry["Filter"])} if entry.get("Filter") else {}),
                    }
                )
        if notification.get("LambdaConfigurations"):
            raise TemplateError(
                f"{logical_id}: NotificationConfiguration.LambdaConfigurations is not emulated; "
                "use an S3 event on the AWS::Serverless::Function instead"
            )
        arn = f"arn:aws:s3:::{name}"
        attributes = {
            "Arn": arn,
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{self.region}.amazonaws.com",
            "DualStackDomainName": f"{name}.s3.dualstack.{self.region}.amazonaws.com",
            "WebsiteURL": f"http://{name}.s3-website-{self.region}.amazonaws.com",
        }
        return Resource(logical_id, "AWS::S3::Bucket", name, name, arn=arn, attributes=attributes)

    _QUEUE_ATTRIBUTES = (
        "DelaySeconds",
        "MaximumMessageSize",
        "MessageRetentionPeriod",
        "ReceiveMessageWaitTimeSeconds",
        "VisibilityTimeout",
        "FifoQueue",
        "ContentBasedDeduplication",
        "DeduplicationScope",
        "FifoThroughputLimit",
    )

    def _queue(self, logical_id: str, props: dict) -> Resource:
        name = _physical_name(self.deployment.stack_name, logical_id, props.get("QueueName"))
        fifo = str(props.get("FifoQueue")).lower() == "true"
        if fifo and not name.endswith(".fifo"):
            name += ".fifo"
        attributes: dict[str, str] = {}
        for key in self._QUEUE_ATTRIBUTES:
            if key in props:
                value = props[key]
                attributes[key] = str(value).lower() if isinstance(value, bool) else str(value)
        for key in ("RedrivePolicy", "RedriveAllowPolicy"):
            if key in props:
                value = props[key]
                if isinstance(value, dict) and "maxReceiveCount" in value:
                    value = {**value, "maxReceiveCount": int(value["maxReceiveCount"])}
                attributes[key] = value if isinstance(value, str) else json.dumps(value)
        return self._create_queue(logical_id, name, attributes)

    def _create_queue(self, logical_id: str, name: str, attributes: dict[str, str]) -> Resource:
        sqs = self.client("sqs")
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return Resource(
            logical_id,
            "AWS::SQS::Queue",
            name,
            url,
            arn=arn,
            url=url,
            attributes={"Arn": arn, "QueueName": name, "QueueUrl": url},
        )

    def _topic(self, logical_id: str, props: dict) -> Resource:
        name = _physical_name(self.deployment.stack_name, logical_id, props.get("TopicName"))
        attributes = {key: str(props[key]) for key in ("DisplayName", "KmsMasterKeyId") if key in props}
        if str(props.get("FifoTopic")).lower() == "true":
            attributes["FifoTopic"] = "true"
            name = name if name.endswith(".fifo") else name + ".fifo"
        arn = self.client("sns").create_topic(Name=name, Attributes=attributes)["TopicArn"]
        for subscription in props.get("Subscription") or []:
            self._subscribe(logical_id, arn, subscription["Protocol"], subscription["Endpoint"], {})
        return Resource(
            logical_id, "AWS::SNS::Topic", name, arn, arn=arn, attributes={"TopicArn": arn, "TopicName": name}
        )

    def _subscription(self, logical_id: str, props: dict) -> Resource:
        attributes = {
            key: json.dumps(props[key]) if isinstance(props[key], dict) else str(props[key]).lower()
            for key in ("RawMessageDelivery", "FilterPolicy", "RedrivePolicy")
            if key in props
        }
        arn = self._subscribe(
            logical_id, props["TopicArn"], props["Protocol"], props.get("Endpoint", ""), attributes
        )
        return Resource(logical_id, "AWS::SNS::Subscription", arn, arn, arn=arn, attributes={"Arn": arn})

    def _subscribe(
        self, logical_id: str, topic_arn: str, protocol: str, endpoint: str, attributes: dict
    ) -> str:
        if protocol == "sqs":
            return self.client("sns").subscribe(
                TopicArn=topic_arn, Protocol=protocol, Endpoint=endpoint, Attributes=attributes
            )["SubscriptionArn"]
        if protocol in ("email", "email-json", "sms", "http", "https"):
            # Recorded, not delivered: nobody confirms a subscription locally.
            return f"{topic_arn}:{uuid.uuid5(uuid.NAMESPACE_URL, f'{protocol}:{endpoint}')}"
        raise TemplateError(f"{logical_id}: SNS subscriptions with protocol {protocol!r} are not emulated")

    _ALARM_KEYS = (
        "ActionsEnabled",
        "AlarmActions",
        "AlarmDescription",
        "ComparisonOperator",
        "DatapointsToAlarm",
        "Dimensions",
        "EvaluateLowSampleCountPercentile",
        "EvaluationPeriods",
        "ExtendedStatistic",
        "InsufficientDataActions",
        "MetricName",
        "Metrics",
        "Namespace",
        "OKActions",
        "Period",
        "Statistic",
        "Threshold",
        "ThresholdMetricId",
        "TreatMissingData",
        "Unit",
    )

    def _event_bus(self, logical_id: str, props: dict) -> Resource:
        name = _physical_name(self.deployment.stack_name, logical_id, props.get("Name"))
        arn = self.client("events").create_event_bus(Name=name)["EventBusArn"]
        return Resource(
            logical_id, "AWS::Events::EventBus", name, name, arn=arn, attributes={"Arn": arn, "Name": name}
        )

    def _alarm(self, logical_id: str, props: dict) -> Resource:
        name = _physical_name(self.deployment.stack_name, logical_id, props.get("AlarmName"))
        request = {key: props[key] for key in self._ALARM_KEYS if key in props}
        for key in ("EvaluationPeriods", "Period", "DatapointsToAlarm"):
            if key in request:
                request[key] = int(request[key])
        if "Threshold" in request:
            request["Threshold"] = float(request["Threshold"])
        if "ActionsEnabled" in request:
            request["ActionsEnabled"] = str(request["ActionsEnabled"]).lower() == "true"
        for dimension in request.get("Dimensions") or []:
            dimension["Value"] = str(dimension["Value"])
        self.client("cloudwatch").put_metric_alarm(AlarmName=name, **request)
        arn = f"arn:aws:cloudwatch:{self.region}:{self.deployment.account_id}:alarm:{name}"
        return Resource(logical_id, "AWS::CloudWatch::Alarm", name, name, arn=arn, attributes={"Arn": arn})

    # -- Cognito (staff and patron identities)

    # CloudFormation properties of a user pool that the local stack reads but does not apply.
    _POOL_NOT_APPLIED = {
        "LambdaConfig": "Cognito triggers are not invoked locally",
        "EmailAuthenticationMessage": "no mail is sent locally",
        "EmailAuthenticationSubject": "no mail is sent locally",
        "WebAuthnRelyingPartyID": "passkeys are not emulated",
        "WebAuthnUserVerification": "passkeys are not emulated",
    }

    def _ignore(self, logical_id: str, paths: list[str]) -> None:
        if paths:
            self.deployment.ignored.setdefault(logical_id, []).extend(paths)

    def _user_pool(self, logical_id: str, props: dict) -> Resource:
        cognito = self.client("cognito-idp")
        name = _physical_name(self.deployment.stack_name, logical_id, props.get("UserPoolName"))
        ignored: list[str] = [key for key in props if key in self._POOL_NOT_APPLIED]
        settings = {
            key: value
            for key, value in props.items()
            if key not in self._POOL_NOT_APPLIED and key not in ("UserPoolName", "EnabledMfas")
        }
        # Schema names are written without "custom:" in CloudFormation and in CreateUserPool alike.
        request = _api_request(cognito, "CreateUserPool", settings, ignored)
        try:
            pool = cognito.create_user_pool(PoolName=name, **request)["UserPool"]
        except ClientError as error:
            raise TemplateError(f"{logical_id}: CreateUserPool failed: {error}") from error
        pool_id = pool["Id"]
        mfas = props.get("EnabledMfas") or []
        if mfas and props.get("MfaConfiguration", "OFF") != "OFF":
            mfa: dict[str, Any] = {"MfaConfiguration": props["MfaConfiguration"]}
            if "SOFTWARE_TOKEN_MFA" in mfas:
                mfa["SoftwareTokenMfaConfiguration"] = {"Enabled": True}
            if "SMS_MFA" in mfas and props.get("SmsConfiguration"):
                mfa["SmsMfaConfiguration"] = {"SmsConfiguration": request["SmsConfiguration"]}
            applied = {"SOFTWARE_TOKEN_MFA", *(["SMS_MFA"] if "SmsMfaConfiguration" in mfa else [])}
            ignored += [f"EnabledMfas.{index}" for index, kind in enumerate(mfas) if kind not in applied]
            cognito.set_user_pool_mfa_config(UserPoolId=pool_id, **mfa)
        self._ignore(logical_id, ignored)
        provider = f"cognito-idp.{self.region}.amazonaws.com/{pool_id}"
        return Resource(
            logical_id,
            "AWS::Cognito::UserPool",
            name,
            pool_id,
            arn=pool["Arn"],
            attributes={
                "Arn": pool["Arn"],
                "UserPoolId": pool_id,
                "ProviderName": provider,
                "ProviderURL": f"https://{provider}",
            },
        )

    def _user_pool_client(self, logical_id: str, props: dict) -> Resource:
        cognito = self.client("cognito-idp")
        ignored: list[str] = []
        settings = {key: value for key, value in props.items() if key != "ClientName"}
        request = _api_request(cognito, "CreateUserPoolClient", settings, ignored)
        name = str(props.get("ClientName") or logical_id)
        client = cognito.create_user_pool_client(ClientName=name, **request)["UserPoolClient"]
        self._ignore(logical_id, ignored)
        attributes = {"ClientId": client["ClientId"], "Name": name}
        if client.get("ClientSecret"):
            attributes["ClientSecret"] = client["ClientSecret"]
        return Resource(
            logical_id, "AWS::Cognito::UserPoolClient", name, client["ClientId"], attributes=attributes
        )

    def _user_pool_group(self, logical_id: str, props: dict) -> Resource:
        cognito = self.client("cognito-idp")
        ignored: list[str] = []
        request = _api_request(cognito, "CreateGroup", props, ignored)
        if "GroupName" not in request:
            request["GroupName"] = logical_id  # CloudFormation would generate one
        group = cognito.create_group(**request)["Group"]
        self._ignore(logical_id, ignored)
        return Resource(logical_id, "AWS::Cognito::UserPoolGroup", group["GroupName"], group["GroupName"])

    def _local_dir(self, logical_id: str, prop: str, value: Any) -> Path:
        if not isinstance(value, str) or value.startswith("s3://"):
            raise TemplateError(
                f"{logical_id}: {prop} must be a local directory for the local stack, not {value!r}"
            )
        path = (self.base_dir / value).resolve()
        if not path.is_dir():
            raise TemplateError(f"{logical_id}: {prop} {value!r} is not a directory ({path})")
        return path

    def _layer(self, logical_id: str, props: dict) -> Resource:
        name = _physical_name(self.deployment.stack_name, logical_id, props.get("LayerName"))
        path = self._local_dir(logical_id, "ContentUri", props.get("ContentUri"))
        arn = f"arn:aws:lambda:{self.region}:{self.deployment.account_id}:layer:{name}:1"
        return Resource(
            logical_id,
            "AWS::Serverless::LayerVersion",
            name,
            arn,
            arn=arn,
            attributes={"Arn": arn, "Path": str(path)},
        )

    def _api(self, logical_id: str, props: dict) -> Resource:
        api_id = _api_id(self.deployment.stack_name, logical_id)
        name = _physical_name(self.deployment.stack_name, logical_id, props.get("Name"))
        arn = f"arn:aws:apigateway:{self.region}::/restapis/{api_id}"
        return Resource(
            logical_id,
            "AWS::Serverless::Api",
            name,
            api_id,
            arn=arn,
            attributes={"RootResourceId": _api_id(api_id, "/")},
        )

    def _function(self, logical_id: str, raw: dict, local_notifications: bool) -> None:
        resolve = self.resolver.resolve
        props = {key: value for key, value in raw.items() if key != "Events"}
        props = resolve(props)
        name = _physical_name(self.deployment.stack_name, logical_id, props.get("FunctionName"))
        arn = f"arn:aws:lambda:{self.region}:{self.deployment.account_id}:function:{name}"
        runtime = str(props.get("Runtime", ""))
        if not runtime.startswith("python"):
            raise TemplateError(f"{logical_id}: only python runtimes run locally, not {runtime!r}")
        if "InlineCode" in props:
            raise TemplateError(f"{logical_id}: InlineCode is not supported locally; use CodeUri")
        handler = str(props.get("Handler", ""))
        if "." not in handler:
            raise TemplateError(
                f"{logical_id}: Handler must look like package.module.function, not {handler!r}"
            )
        code_dir = self._local_dir(logical_id, "CodeUri", props.get("CodeUri"))
        layer_dirs: list[Path] = []
        external: list[str] = []
        for layer_arn in props.get("Layers") or []:
            layer = self.deployment.by_arn(layer_arn)
            if layer is not None and layer.type == "AWS::Serverless::LayerVersion":
                layer_dirs.append(Path(layer.attributes["Path"]))
            else:
                external.append(layer_arn)  # e.g. the public Powertools layer: the venv provides it
        environment = {
            key: _as_env_value(value)
            for key, value in ((props.get("Environment") or {}).get("Variables") or {}).items()
        }
        dead_letter = props.get("DeadLetterQueue") or {}
        invoke_config = props.get("EventInvokeConfig") or {}
        self.deployment.resources[logical_id] = Resource(
            logical_id,
            "AWS::Serverless::Function",
            name,
            name,
            arn=arn,
            attributes={"Arn": arn},
            properties=props,
        )
        events: dict[str, EventSpec] = {}
        for event_name, event in (raw.get("Events") or {}).items():
            spec = EventSpec(event_name, event["Type"], resolve(event.get("Properties") or {}))
            if spec.type == "Api" and "RestApiId" not in spec.properties:
                spec.properties["RestApiId"] = self.deployment.resources["ServerlessRestApi"].ref
            if spec.type == "S3" and local_notifications:
                self._wire_s3_event(logical_id, name, spec, int(props.get("Timeout", 3)))
            events[event_name] = spec
        self.deployment.functions[logical_id] = FunctionSpec(
            logical_id=logical_id,
            name=name,
            arn=arn,
            handler=handler,
            runtime=runtime,
            code_dir=code_dir,
            layer_dirs=layer_dirs,
            environment=environment,
            timeout=int(props.get("Timeout", 3)),
            memory=int(props.get("MemorySize", 128)),
            events=events,
            dead_letter_arn=dead_letter.get("TargetArn"),
            dead_letter_type=dead_letter.get("Type"),
            async_max_retries=int(invoke_config.get("MaximumRetryAttempts", 2)),
            external_layers=external,
        )

    @staticmethod
    def _s3_filter(sam_filter: dict) -> dict:
        rules = (sam_filter.get("S3Key") or {}).get("Rules") or []
        return {"Key": {"FilterRules": [{"Name": rule["Name"], "Value": rule["Value"]} for rule in rules]}}

    def _wire_s3_event(self, logical_id: str, function_name: str, spec: EventSpec, timeout: int) -> None:
        """Local only: the bucket notifies an internal queue that the runner polls for this function."""
        bucket = spec.properties["Bucket"]
        if bucket not in self._bucket_notifications:
            raise TemplateError(
                f"{logical_id}.{spec.name}: S3 events need a bucket of this template, not {bucket!r}"
            )
        queue_name = f"{function_name}-{spec.name}-s3events"[:80]
        # Long enough that an event is never redelivered while the function still runs.
        queue = self._create_queue(
            f"{logical_id}{spec.name}Notifications",
            queue_name,
            {"VisibilityTimeout": str(min(43200, timeout + 30))},
        )
        spec.local_queue_url, spec.local_queue_arn = queue.url, queue.arn
        events = spec.properties["Events"]
        entry = {
            "Id": f"{logical_id}-{spec.name}",
            "QueueArn": queue.arn,
            "Events": [events] if isinstance(events, str) else list(events),
        }
        if spec.properties.get("Filter"):
            entry["Filter"] = self._s3_filter(spec.properties["Filter"])
        self._bucket_notifications[bucket]["QueueConfigurations"].append(entry)

    def _apply_bucket_notifications(self) -> None:
        for bucket, wiring in self._bucket_notifications.items():
            configuration = {key: value for key, value in wiring.items() if value}
            if configuration:
                self.client("s3").put_bucket_notification_configuration(
                    Bucket=bucket, NotificationConfiguration=configuration
                )


def deploy(
    template: dict,
    *,
    stack_name: str = "netzone",
    region: str = "us-east-1",
    account_id: str = "123456789012",
    session: boto3.Session | None = None,
    local_notifications: bool = False,
    parameters: dict[str, Any] | None = None,
    base_dir: str | Path | None = None,
) -> Deployment:
    """Create every resource of `template` (conditions applied) and describe what was created.

    `parameters` override parameter defaults. Relative CodeUri/ContentUri are resolved against
    `base_dir`, by default the template's directory (or the repository root for a plain dict).
    With `local_notifications=True`, each S3 event of a function is wired to an internal SQS
    queue (filters respected) whose URL is on the function's EventSpec, for the local runner.
    """
    if base_dir is None:
        path = getattr(template, "path", None)
        base_dir = path.parent if path else REPO_ROOT
    deployer = _Deployer(
        template,
        stack_name,
        region,
        account_id,
        session or boto3.Session(region_name=region),
        parameters,
        Path(base_dir),
    )
    return deployer.run(local_notifications)
