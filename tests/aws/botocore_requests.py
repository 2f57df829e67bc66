#!/usr/bin/python3
"""Writes tests/aws/data/botocore_requests.json: the signed requests botocore (the AWS SDK for
Python, which the aws CLI is built on) sends for the IAM, Lambda and IoT calls `ztp aws
deploy-jitr` makes, for real AWS (no endpoint override), at a fixed time with the SigV4 suite's
example credentials. tests/aws/aws_requests_test.cpp builds the same calls with our clients and
compares. Nothing is sent: a before-send hook captures each request and answers a stub.

  python3 tests/aws/botocore_requests.py

Generated with botocore 1.43.11 (the aws CLI v1.45's; it signs IoT as "iot" — botocore 1.29 still
signed it as "execute-api", the old signing name, reference/aws-iot.md §1.1).
"""
import datetime
import json
import os

import botocore.auth
import botocore.awsrequest
import botocore.session

FIXED = datetime.datetime(2015, 8, 30, 12, 36, 0)


class FixedDatetime(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return FIXED


botocore.auth.datetime.datetime = FixedDatetime  # botocore up to 1.3x
if hasattr(botocore.auth, "get_current_datetime"):  # newer botocore
    botocore.auth.get_current_datetime = lambda *args, **kwargs: FIXED

ZIP = b"PK\x05\x06" + b"\x00" * 18  # an empty zip: the body member is what matters here
TRUST = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
CALLS = [
    ("iam", "create_role", {"RoleName": "ZTLambdaJITRRole", "AssumeRolePolicyDocument": TRUST}),
    ("iam", "get_role", {"RoleName": "ZTLambdaJITRRole"}),
    ("iam", "put_role_policy", {"RoleName": "ZTLambdaJITRRole", "PolicyName": "ZTLambdaJITRPolicy",
                                "PolicyDocument": '{"Version":"2012-10-17","Statement":[]}'}),
    ("iam", "attach_role_policy", {"RoleName": "ZTLambdaJITRRole", "PolicyArn":
                                   "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}),
    ("iam", "list_attached_role_policies", {"RoleName": "ZTLambdaJITRRole"}),
    ("iam", "delete_role", {"RoleName": "ZTLambdaJITRRole"}),
    ("lambda", "create_function", {"FunctionName": "ZTLambdaJITR", "Runtime": "python3.12",
                                   "Role": "arn:aws:iam::123456789012:role/ZTLambdaJITRRole",
                                   "Handler": "lambda_function.lambda_handler", "Timeout": 30,
                                   "Code": {"ZipFile": ZIP}}),
    ("lambda", "get_function", {"FunctionName": "ZTLambdaJITR"}),
    ("lambda", "add_permission", {"FunctionName": "ZTLambdaJITR", "StatementId": "iot-jitr",
                                  "Action": "lambda:InvokeFunction", "Principal": "iot.amazonaws.com",
                                  "SourceArn": "arn:aws:iot:us-west-2:123456789012:rule/ZeroTouchJustInTimeRegistration",
                                  "SourceAccount": "123456789012"}),
    ("lambda", "remove_permission", {"FunctionName": "ZTLambdaJITR", "StatementId": "iot-jitr"}),
    ("lambda", "delete_function", {"FunctionName": "ZTLambdaJITR"}),
    ("iot", "create_topic_rule", {"ruleName": "ZeroTouchJustInTimeRegistration", "topicRulePayload": {
        "sql": "SELECT * FROM '$aws/events/certificates/registered/#'", "awsIotSqlVersion": "2016-03-23",
        "ruleDisabled": False,
        "actions": [{"lambda": {"functionArn": "arn:aws:lambda:us-west-2:123456789012:function:ZTLambdaJITR"}}]}}),
    ("iot", "get_topic_rule", {"ruleName": "ZeroTouchJustInTimeRegistration"}),
    ("iot", "delete_topic_rule", {"ruleName": "ZeroTouchJustInTimeRegistration"}),
]


def main():
    session = botocore.session.get_session()
    captured = []

    def capture(request, **_):
        captured.append(request)
        return botocore.awsrequest.AWSResponse(request.url, 200, {}, None)

    out = []
    for service, operation, params in CALLS:
        client = session.create_client(service, region_name="us-west-2",
                                       aws_access_key_id="AKIDEXAMPLE",
                                       aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
        client.meta.events.register("before-send", capture)
        try:
            getattr(client, operation)(**params)
        except Exception:  # the stub answer does not parse as every output shape; the request is what counts
            pass
        request = captured[-1]
        body = request.body or b""
        out.append({"service": service, "operation": operation, "params": json.loads(json.dumps(params, default=lambda b: b.decode("latin-1"))),
                    "method": request.method, "url": request.url,
                    "headers": {k: (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()
                                if k.lower() != "user-agent"},
                    "body": body.decode() if isinstance(body, bytes) else body})
    out.insert(0, {"botocore": botocore.__version__})
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "botocore_requests.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


main()
