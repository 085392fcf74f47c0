"""The template reader (infra/local/template.py) against in-process moto: what template.yaml creates."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from local.template import TemplateError, UnsupportedResourceError, deploy, load_template


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield boto3.Session(region_name="us-east-1")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_short_tags_become_intrinsic_functions(tmp_path: Path) -> None:
    template = load_template(
        write(
            tmp_path,
            """
            Resources:
              Q:
                Type: AWS::SQS::Queue
                Properties:
                  A: !Ref X
                  B: !GetAtt T.StreamArn
                  C: !Sub "${AWS::StackName}-x"
                  D: !If [Cond, !Join ["-", [a, b]], !Select [0, [x]]]
                  E: !Not [!Equals [!Ref P, ""]]
            """,
        )
    )
    properties = template["Resources"]["Q"]["Properties"]
    assert properties["A"] == {"Ref": "X"}
    assert properties["B"] == {"Fn::GetAtt": ["T", "StreamArn"]}
    assert properties["C"] == {"Fn::Sub": "${AWS::StackName}-x"}
    assert properties["D"] == {
        "Fn::If": ["Cond", {"Fn::Join": ["-", ["a", "b"]]}, {"Fn::Select": [0, ["x"]]}]
    }
    assert properties["E"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "P"}, ""]}]}
    assert template.path == (tmp_path / "template.yaml").resolve()


def test_the_project_template_deploys_with_deterministic_names(aws: boto3.Session) -> None:
    deployment = deploy(load_template("template.yaml"), session=aws)

    assert deployment.name_of("FeedBucket") == "netzone-feeds-123456789012"
    assert deployment.name_of("CatalogTable") == "netzone-CatalogTable"
    assert deployment.resources["CatalogTable"].stream_arn
    assert deployment.resources["JobsTable"].stream_arn is None
    assert deployment.skipped == ["OperationsEmailSubscription"]  # AlarmEmail is empty by default
    assert deployment.outputs["FeedBucketName"] == "netzone-feeds-123456789012"
    assert deployment.outputs["ApiUrl"].endswith(".execute-api.us-east-1.amazonaws.com/v1")
    assert deployment.outputs["MatchQueueUrl"] == deployment.resources["MatchQueue"].url

    dynamodb = aws.client("dynamodb")
    ttl = dynamodb.describe_time_to_live(TableName="netzone-IdempotencyTable")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiration"}
    catalog = dynamodb.describe_table(TableName="netzone-CatalogTable")["Table"]
    assert catalog["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert {key["AttributeName"] for key in catalog["KeySchema"]} == {"pk", "sk"}

    sqs = aws.client("sqs")
    attributes = sqs.get_queue_attributes(
        QueueUrl=deployment.resources["MatchQueue"].url, AttributeNames=["All"]
    )
    redrive = json.loads(attributes["Attributes"]["RedrivePolicy"])
    assert redrive == {
        "deadLetterTargetArn": deployment.resources["MatchDeadLetterQueue"].arn,
        "maxReceiveCount": 5,
    }
    assert attributes["Attributes"]["VisibilityTimeout"] == "360"
    versioning = aws.client("s3").get_bucket_versioning(Bucket="netzone-feeds-123456789012")
    assert versioning["Status"] == "Enabled"
    alarms = aws.client("cloudwatch").describe_alarms()["MetricAlarms"]
    assert {alarm["AlarmName"] for alarm in alarms} == {
        "netzone-MatchDeadLetterAlarm",
        "netzone-FeedIngestDeadLetterAlarm",
    }


def test_functions_get_the_merged_resolved_environment(aws: boto3.Session) -> None:
    deployment = deploy(load_template("template.yaml"), session=aws)

    ingest = deployment.functions["FeedIngestFunction"]
    env = deployment.env_for("FeedIngestFunction")
    assert env["POWERTOOLS_SERVICE_NAME"] == "feed_ingest"  # the function's own value wins
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "Netzone"  # from Globals
    assert env["CATALOG_TABLE"] == "netzone-CatalogTable"
    assert env["FEED_BUCKET"] == "netzone-feeds-123456789012"
    assert env["MATCH_QUEUE_URL"] == deployment.resources["MatchQueue"].url
    assert ingest.handler == "feed_ingest.app.handler"
    assert (ingest.module, ingest.function) == ("feed_ingest.app", "handler")
    assert ingest.code_dir.name == "functions"
    assert [path.name for path in ingest.layer_dirs] == ["core"]
    assert (ingest.timeout, ingest.memory) == (900, 1024)
    assert ingest.dead_letter_arn == deployment.resources["FeedIngestDeadLetterQueue"].arn
    match = deployment.functions["RecordMatchFunction"]
    assert (match.timeout, match.memory) == (60, 512)
    assert match.events["RecordBatches"].properties["Queue"] == deployment.resources["MatchQueue"].arn
    api_events = deployment.functions["DiscoveryApiFunction"].events
    assert api_events["GetBib"].properties["RestApiId"] == deployment.resources["NetzoneApi"].ref


def test_local_notifications_wire_s3_events_to_a_queue(aws: boto3.Session) -> None:
    deployment = deploy(load_template("template.yaml"), session=aws, local_notifications=True)

    event = deployment.functions["FeedIngestFunction"].events["FeedDropped"]
    assert event.local_queue_url and event.local_queue_arn
    configuration = aws.client("s3").get_bucket_notification_configuration(
        Bucket="netzone-feeds-123456789012"
    )
    (queue,) = configuration["QueueConfigurations"]
    assert queue["QueueArn"] == event.local_queue_arn
    assert queue["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": "feeds/"}]


def test_a_true_condition_creates_the_resource(aws: boto3.Session) -> None:
    deployment = deploy(
        load_template("template.yaml"), session=aws, parameters={"AlarmEmail": "ops@example.org"}
    )

    assert deployment.skipped == []
    assert deployment.resources["OperationsEmailSubscription"].arn.startswith(
        deployment.resources["OperationsTopic"].arn
    )


def test_an_unknown_resource_type_fails_before_anything_is_created(
    aws: boto3.Session, tmp_path: Path
) -> None:
    template = load_template(
        write(
            tmp_path,
            """
            Resources:
              Table:
                Type: AWS::DynamoDB::Table
                Properties:
                  AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
                  KeySchema: [{AttributeName: id, KeyType: HASH}]
              Pipe:
                Type: AWS::Pipes::Pipe
                Properties: {Name: pipe}
            """,
        )
    )
    with pytest.raises(UnsupportedResourceError, match=r"Pipe has type 'AWS::Pipes::Pipe'"):
        deploy(template, session=aws)
    assert aws.client("dynamodb").list_tables()["TableNames"] == []


def test_dependencies_are_created_first_and_cycles_are_errors(aws: boto3.Session, tmp_path: Path) -> None:
    template = load_template(
        write(
            tmp_path,
            """
            Resources:
              Work:
                Type: AWS::SQS::Queue
                Properties:
                  RedrivePolicy: {deadLetterTargetArn: !GetAtt Dead.Arn, maxReceiveCount: 3}
              Dead:
                Type: AWS::SQS::Queue
                Properties: {QueueName: !Sub "${AWS::StackName}-dead-${AWS::Region}"}
            Outputs:
              Dead:
                Value: !GetAtt Dead.QueueName
            """,
        )
    )
    deployment = deploy(template, session=aws, stack_name="demo")
    assert list(deployment.resources) == ["Dead", "Work"]
    assert deployment.outputs == {"Dead": "demo-dead-us-east-1"}

    template["Resources"]["Dead"]["Properties"] = {
        "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["Work", "Arn"]}}
    }
    with pytest.raises(TemplateError, match="circular dependency"):
        deploy(template, session=aws, stack_name="cycle")


def test_an_unknown_attribute_names_what_exists(aws: boto3.Session, tmp_path: Path) -> None:
    template = load_template(
        write(
            tmp_path,
            """
            Resources:
              Q:
                Type: AWS::SQS::Queue
              T:
                Type: AWS::SNS::Topic
                Properties: {DisplayName: !GetAtt Q.Nope}
            """,
        )
    )
    with pytest.raises(TemplateError, match=r"!GetAtt Q.Nope: .*\(known: Arn, QueueName, QueueUrl\)"):
        deploy(template, session=aws)


def test_the_staff_user_pool_its_client_and_groups_are_created(aws: boto3.Session) -> None:
    deployment = deploy(load_template("template.yaml"), session=aws)
    cognito = aws.client("cognito-idp")

    pool = deployment.resources["StaffUserPool"]
    pool_id = pool.ref
    assert pool.name == "netzone-staff"
    assert pool.arn == f"arn:aws:cognito-idp:us-east-1:123456789012:userpool/{pool_id}"
    assert pool.attributes["ProviderURL"] == f"https://cognito-idp.us-east-1.amazonaws.com/{pool_id}"
    described = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert described["Name"] == "netzone-staff"
    assert described["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert described["Policies"]["PasswordPolicy"]["MinimumLength"] == 12
    assert described["AutoVerifiedAttributes"] == ["email"]
    assert described["MfaConfiguration"] == "OPTIONAL"
    attributes = {attribute["Name"]: attribute for attribute in described["SchemaAttributes"]}
    assert attributes["custom:member"]["AttributeDataType"] == "String"
    assert attributes["custom:member"]["StringAttributeConstraints"] == {"MinLength": "0", "MaxLength": "32"}
    mfa = cognito.get_user_pool_mfa_config(UserPoolId=pool_id)
    assert mfa["SoftwareTokenMfaConfiguration"] == {"Enabled": True}
    assert deployment.ignored == {}  # everything the template says is applied

    client_id = deployment.resources["StaffUserPoolClient"].ref
    client = cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)["UserPoolClient"]
    assert client["ClientName"] == "netzone-staff"
    assert "ALLOW_USER_PASSWORD_AUTH" in client["ExplicitAuthFlows"]
    assert "ClientSecret" not in client
    groups = {group["GroupName"] for group in cognito.list_groups(UserPoolId=pool_id)["Groups"]}
    assert groups == {"central_admin", "member_admin", "cataloger", "circulation"}
    assert deployment.resources["MemberAdminGroup"].ref == "member_admin"

    assert deployment.outputs["StaffUserPoolId"] == pool_id
    assert deployment.outputs["StaffUserPoolClientId"] == client_id
    assert deployment.env_for("NetworkApiFunction")["STAFF_USER_POOL_ID"] == pool_id


def test_user_pool_properties_are_converted_and_the_unapplied_ones_recorded(
    aws: boto3.Session, tmp_path: Path
) -> None:
    template = load_template(
        write(
            tmp_path,
            """
            Resources:
              Pool:
                Type: AWS::Cognito::UserPool
                Properties:
                  Policies: {PasswordPolicy: {MinimumLength: "10", RequireSymbols: "false"}}
                  LambdaConfig: {PreSignUp: arn:aws:lambda:us-east-1:123456789012:function:f}
                  UserPoolTags: {team: "library"}
                  AdminCreateUserConfig: {AllowAdminCreateUserOnly: "true", Unheard: 1}
              Client:
                Type: AWS::Cognito::UserPoolClient
                Properties: {UserPoolId: !Ref Pool, GenerateSecret: true}
              Group:
                Type: AWS::Cognito::UserPoolGroup
                Properties: {UserPoolId: !Ref Pool, Precedence: "3"}
            Outputs:
              Issuer: {Value: !GetAtt Pool.ProviderURL}
              Secret: {Value: !GetAtt Client.ClientSecret}
            """,
        )
    )
    deployment = deploy(template, session=aws, stack_name="demo")

    pool_id = deployment.resources["Pool"].ref
    described = aws.client("cognito-idp").describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert described["Name"] == "demo-Pool"
    assert described["Policies"]["PasswordPolicy"] == {"MinimumLength": 10, "RequireSymbols": False}
    assert deployment.ignored == {"Pool": ["LambdaConfig", "AdminCreateUserConfig.Unheard"]}
    assert deployment.outputs["Issuer"].endswith(f"/{pool_id}")
    assert deployment.outputs["Secret"]
    group = aws.client("cognito-idp").get_group(UserPoolId=pool_id, GroupName="Group")["Group"]
    assert group["Precedence"] == 3


def test_api_routes_carry_the_authorizer_sam_attaches(aws: boto3.Session) -> None:
    from local.api import routes_from

    routes = {
        (route.method, route.path): route
        for route in routes_from(deploy(load_template("template.yaml"), session=aws))
    }

    members = routes[("ANY", "/members/{proxy+}")]
    assert members.function == "NetworkApiFunction"
    assert members.stage == "v1"
    assert members.authorizer is not None and members.authorizer.name == "StaffAuthorizer"
    assert members.authorizer.header == "Authorization"
    (pool_id,) = members.authorizer.pools
    assert members.authorizer.pools[pool_id] == f"https://cognito-idp.us-east-1.amazonaws.com/{pool_id}"
    assert routes[("GET", "/openapi.json")].authorizer is None
    assert routes[("GET", "/bibs/{id}")].authorizer is None


def test_the_implicit_api_takes_its_default_authorizer_from_globals(
    aws: boto3.Session, tmp_path: Path
) -> None:
    from local.api import routes_from

    (tmp_path / "code").mkdir()
    template = load_template(
        write(
            tmp_path,
            """
            Globals:
              Api:
                Auth:
                  DefaultAuthorizer: Staff
                  Authorizers: {Staff: {UserPoolArn: !GetAtt Pool.Arn}}
            Resources:
              Pool:
                Type: AWS::Cognito::UserPool
              Fn:
                Type: AWS::Serverless::Function
                Properties:
                  Runtime: python3.12
                  Handler: app.handler
                  CodeUri: code/
                  Events:
                    Private: {Type: Api, Properties: {Path: /private, Method: GET}}
                    Public: {Type: Api, Properties: {Path: /public, Method: GET, Auth: {Authorizer: NONE}}}
            """,
        )
    )
    routes = {route.path: route for route in routes_from(deploy(template, session=aws))}

    assert routes["/private"].authorizer is not None and routes["/private"].authorizer.name == "Staff"
    assert routes["/private"].stage == "Prod"
    assert routes["/public"].authorizer is None


def test_a_generated_secret_is_created_and_its_ref_is_the_arn(tmp_path: Path, aws: boto3.Session) -> None:
    template = write(
        tmp_path,
        """
        Resources:
          Signing:
            Type: AWS::SecretsManager::Secret
            Properties:
              Description: signs things
              GenerateSecretString: {PasswordLength: 48, ExcludePunctuation: true}
          Given:
            Type: AWS::SecretsManager::Secret
            Properties:
              SecretString: fixed-value
        """,
    )
    deployment = deploy(load_template(template), session=aws, stack_name="s")
    secrets = aws.client("secretsmanager")
    generated = secrets.get_secret_value(SecretId=deployment.resources["Signing"].ref)["SecretString"]
    assert len(generated) == 48 and generated.isalnum()
    assert deployment.resources["Signing"].ref.startswith("arn:aws:secretsmanager:")
    assert (
        secrets.get_secret_value(SecretId=deployment.resources["Given"].ref)["SecretString"] == "fixed-value"
    )
