"""boto3 against `ztp cloud run`: typed exceptions, datetimes, paginators, 403 on a bad secret."""
import datetime
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cloud_common import Cloud  # noqa: E402

import boto3  # noqa: E402
import botocore.exceptions  # noqa: E402


def main():
    with tempfile.TemporaryDirectory() as tmp:
        cloud = Cloud(os.path.join(tmp, "state")).start()
        try:
            iot = cloud.client()
            code = iot.get_registration_code()["registrationCode"]
            assert len(code) == 64 and int(code, 16) >= 0, code

            names = ["thing-%02d" % i for i in range(7)]
            for name in names:
                created = iot.create_thing(thingName=name, attributePayload={"attributes": {"n": name[-2:]}})
                assert created["thingArn"] == "arn:aws:iot:us-east-1:%s:thing/%s" % (cloud.account, name)
            # Paginator: nextToken/maxResults, pages of 3 → 3 pages, every thing once.
            pages = list(iot.get_paginator("list_things").paginate(PaginationConfig={"PageSize": 3}))
            assert len(pages) == 3, len(pages)
            seen = [t["thingName"] for p in pages for t in p["things"]]
            assert seen == names, seen
            only = iot.list_things(attributeName="n", attributeValue="03")["things"]
            assert [t["thingName"] for t in only] == ["thing-03"], only

            # UpdateThing with merge and expectedVersion; VersionConflictException is typed.
            iot.update_thing(thingName="thing-01", attributePayload={"attributes": {"x": "1"}, "merge": True},
                             expectedVersion=1)
            described = iot.describe_thing(thingName="thing-01")
            assert described["version"] == 2 and described["attributes"] == {"n": "01", "x": "1"}, described
            try:
                iot.update_thing(thingName="thing-01", expectedVersion=1)
                raise AssertionError("stale expectedVersion accepted")
            except iot.exceptions.VersionConflictException:
                pass

            # CreateKeysAndCertificate; datetimes come back as datetime objects.
            keys = iot.create_keys_and_certificate(setAsActive=True)
            assert "PRIVATE KEY" in keys["keyPair"]["PrivateKey"]
            desc = iot.describe_certificate(certificateId=keys["certificateId"])["certificateDescription"]
            assert desc["status"] == "ACTIVE" and isinstance(desc["creationDate"], datetime.datetime), desc
            # marker/pageSize paginator over certificates.
            for _ in range(2):
                iot.create_keys_and_certificate(setAsActive=False)
            certs = [c for p in iot.get_paginator("list_certificates").paginate(PaginationConfig={"PageSize": 1})
                     for c in p["certificates"]]
            assert len(certs) == 3 and len({c["certificateId"] for c in certs}) == 3, certs

            doc = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}'
            iot.create_policy(policyName="p1", policyDocument=doc)
            try:
                iot.create_policy(policyName="p1", policyDocument=doc)
                raise AssertionError("duplicate policy accepted")
            except iot.exceptions.ResourceAlreadyExistsException as e:
                assert e.response["Error"]["Message"] == \
                    "Policy cannot be created - name already exists (name=p1)", e.response
                assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 409

            try:
                iot.describe_thing(thingName="missing")
                raise AssertionError("missing thing described")
            except iot.exceptions.ResourceNotFoundException:
                pass

            bad = boto3.session.Session(aws_access_key_id="AKIAEXAMPLEEXAMPLE00",
                                        aws_secret_access_key="x" * 40, region_name="us-east-1")
            try:
                bad.client("iot", endpoint_url=cloud.url).list_things()
                raise AssertionError("unknown key accepted")
            except botocore.exceptions.ClientError as e:
                assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 403, e.response
            print("PASS cloud_boto3_test")
        finally:
            cloud.stop()


if __name__ == "__main__":
    main()
