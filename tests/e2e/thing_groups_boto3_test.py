"""boto3 against `ztp cloud run`: thing groups (hierarchy, membership, recursive listings, AWS's
limits and error codes), billing groups, thing types (deprecation, deletion rules) and the V2
principal listings — happy paths, pagination and each documented error code."""
import json
import os
import sys
import tempfile
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cloud_common import Cloud  # noqa: E402

import botocore.auth  # noqa: E402
import botocore.awsrequest  # noqa: E402


def expect(error, call, *args, **kwargs):
    """Runs call and checks it fails with the AWS error code `error`; returns the message."""
    try:
        call(*args, **kwargs)
    except Exception as e:  # botocore's ClientError, typed per code
        code = getattr(e, "response", {}).get("Error", {}).get("Code")
        assert code == error, "%s: expected %s, got %s (%s)" % (call.__name__, error, code, e)
        return e.response["Error"].get("Message", "")
    raise AssertionError("%s succeeded; expected %s" % (call.__name__, error))


def names(items, key="groupName"):
    return [i[key] for i in items]


def paginate(iot, operation, key, page_size=2, **kwargs):
    pages = list(iot.get_paginator(operation).paginate(PaginationConfig={"PageSize": page_size}, **kwargs))
    return pages, [item for page in pages for item in page[key]]


def signed(iot, method, path, headers=None):
    """An operation boto3 1.26 does not know (the V2 listings): SigV4 by botocore, sent raw."""
    credentials = iot._request_signer._credentials
    request = botocore.awsrequest.AWSRequest(method=method, url=iot.meta.endpoint_url + path,
                                             headers=headers or {})
    botocore.auth.SigV4Auth(credentials, "iot", iot.meta.region_name).add_auth(request)
    prepared = request.prepare()
    http = urllib.request.Request(prepared.url, method=method, headers=dict(prepared.headers))
    try:
        with urllib.request.urlopen(http) as reply:
            return reply.status, json.loads(reply.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def thing_groups(iot, account):
    arn = "arn:aws:iot:us-east-1:%s:thinggroup/" % account
    created = iot.create_thing_group(
        thingGroupName="building", thingGroupProperties={
            "thingGroupDescription": "HQ", "attributePayload": {"attributes": {"city": "Paris"}}})
    assert created["thingGroupArn"] == arn + "building" and created["thingGroupId"], created
    # The same request again answers the group; a different one is refused.
    again = iot.create_thing_group(thingGroupName="building", thingGroupProperties={
        "thingGroupDescription": "HQ", "attributePayload": {"attributes": {"city": "Paris"}}})
    assert again["thingGroupId"] == created["thingGroupId"], again
    expect("ResourceAlreadyExistsException", iot.create_thing_group, thingGroupName="building")
    iot.create_thing_group(thingGroupName="floor1", parentGroupName="building")
    iot.create_thing_group(thingGroupName="floor2", parentGroupName="building")
    iot.create_thing_group(thingGroupName="room101", parentGroupName="floor1")
    iot.create_thing_group(thingGroupName="lab")
    expect("ResourceNotFoundException", iot.create_thing_group, thingGroupName="orphan", parentGroupName="nope")
    expect("InvalidRequestException", iot.create_thing_group, thingGroupName="bad name!")

    described = iot.describe_thing_group(thingGroupName="room101")
    meta = described["thingGroupMetadata"]
    assert meta["parentGroupName"] == "floor1", meta
    assert meta["rootToParentThingGroups"] == [
        {"groupName": "building", "groupArn": arn + "building"},
        {"groupName": "floor1", "groupArn": arn + "floor1"}], meta
    assert described["version"] == 1 and "creationDate" in meta, described
    expect("ResourceNotFoundException", iot.describe_thing_group, thingGroupName="nope")

    # Update: merge attributes, version, expectedVersion.
    updated = iot.update_thing_group(thingGroupName="building", expectedVersion=1, thingGroupProperties={
        "attributePayload": {"attributes": {"zip": "75001"}, "merge": True}})
    assert updated["version"] == 2, updated
    props = iot.describe_thing_group(thingGroupName="building")["thingGroupProperties"]
    assert props["attributePayload"]["attributes"] == {"city": "Paris", "zip": "75001"}, props
    assert props["thingGroupDescription"] == "HQ", props
    expect("VersionConflictException", iot.update_thing_group, thingGroupName="building", expectedVersion=1,
           thingGroupProperties={"thingGroupDescription": "x"})
    expect("ResourceNotFoundException", iot.update_thing_group, thingGroupName="nope",
           thingGroupProperties={"thingGroupDescription": "x"})

    # Lists: all, prefix, children, descendants; pages of two.
    pages, groups = paginate(iot, "list_thing_groups", "thingGroups")
    assert names(groups) == ["building", "floor1", "floor2", "lab", "room101"] and len(pages) == 3, groups
    assert names(iot.list_thing_groups(namePrefixFilter="floor")["thingGroups"]) == ["floor1", "floor2"]
    assert names(iot.list_thing_groups(parentGroup="building")["thingGroups"]) == ["floor1", "floor2"]
    assert names(iot.list_thing_groups(parentGroup="building", recursive=True)["thingGroups"]) == [
        "floor1", "floor2", "room101"]
    expect("ResourceNotFoundException", iot.list_thing_groups, parentGroup="nope")

    # Membership, by name and by ARN.
    for i in range(5):
        iot.create_thing(thingName="dev%d" % i)
    iot.add_thing_to_thing_group(thingGroupName="room101", thingName="dev0")
    iot.add_thing_to_thing_group(thingGroupArn=arn + "floor2",
                                 thingArn="arn:aws:iot:us-east-1:%s:thing/dev1" % account)
    iot.add_thing_to_thing_group(thingGroupName="building", thingName="dev2")
    iot.add_thing_to_thing_group(thingGroupName="room101", thingName="dev0")  # idempotent
    iot.add_thing_to_thing_group(thingGroupName="lab", thingName="dev0")
    expect("ResourceNotFoundException", iot.add_thing_to_thing_group, thingGroupName="nope", thingName="dev0")
    expect("ResourceNotFoundException", iot.add_thing_to_thing_group, thingGroupName="lab", thingName="nope")
    # One group per hierarchy (developer guide, static thing groups).
    expect("InvalidRequestException", iot.add_thing_to_thing_group, thingGroupName="floor1", thingName="dev0")
    expect("InvalidRequestException", iot.add_thing_to_thing_group, thingGroupArn="arn:aws:iot:eu-west-1:1:thinggroup/x",
           thingName="dev0")

    assert iot.list_things_in_thing_group(thingGroupName="building")["things"] == ["dev2"]
    pages, things = paginate(iot, "list_things_in_thing_group", "things", thingGroupName="building", recursive=True)
    assert things == ["dev0", "dev1", "dev2"] and len(pages) == 2, (things, pages)
    assert names(iot.list_thing_groups_for_thing(thingName="dev0")["thingGroups"]) == ["lab", "room101"]
    expect("ResourceNotFoundException", iot.list_things_in_thing_group, thingGroupName="nope")
    expect("ResourceNotFoundException", iot.list_thing_groups_for_thing, thingName="nope")

    # UpdateThingGroupsForThing: remove then add in one call.
    iot.update_thing_groups_for_thing(thingName="dev0", thingGroupsToAdd=["floor2"],
                                      thingGroupsToRemove=["room101"])
    assert names(iot.list_thing_groups_for_thing(thingName="dev0")["thingGroups"]) == ["floor2", "lab"]
    iot.remove_thing_from_thing_group(thingGroupArn=arn + "lab", thingName="dev0")
    assert names(iot.list_thing_groups_for_thing(thingName="dev0")["thingGroups"]) == ["floor2"]
    expect("ResourceNotFoundException", iot.update_thing_groups_for_thing, thingName="nope",
           thingGroupsToAdd=["lab"])

    # At most ten groups per thing.
    for i in range(9):
        iot.create_thing_group(thingGroupName="g%d" % i)
        iot.add_thing_to_thing_group(thingGroupName="g%d" % i, thingName="dev3")
    iot.add_thing_to_thing_group(thingGroupName="lab", thingName="dev3")
    iot.create_thing_group(thingGroupName="eleventh")
    expect("InvalidRequestException", iot.add_thing_to_thing_group, thingGroupName="eleventh", thingName="dev3")

    # Delete: refused while the group has children; a missing group is no error (as AWS).
    expect("InvalidRequestException", iot.delete_thing_group, thingGroupName="floor1")
    expect("VersionConflictException", iot.delete_thing_group, thingGroupName="room101", expectedVersion=9)
    iot.delete_thing_group(thingGroupName="room101")
    iot.delete_thing_group(thingGroupName="room101")
    iot.delete_thing_group(thingGroupName="floor1")
    assert names(iot.list_thing_groups(parentGroup="building")["thingGroups"]) == ["floor2"]

    # AttachPolicy to a thing group; to a missing one → ResourceNotFoundException.
    iot.create_policy(policyName="grp", policyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}]}))
    iot.attach_policy(policyName="grp", target=arn + "building")
    assert names(iot.list_attached_policies(target=arn + "building")["policies"], "policyName") == ["grp"]
    expect("ResourceNotFoundException", iot.attach_policy, policyName="grp", target=arn + "missing")


def billing_groups(iot, account):
    arn = "arn:aws:iot:us-east-1:%s:billinggroup/" % account
    created = iot.create_billing_group(billingGroupName="team-a",
                                       billingGroupProperties={"billingGroupDescription": "A"})
    assert created["billingGroupArn"] == arn + "team-a" and created["billingGroupId"], created
    iot.create_billing_group(billingGroupName="team-b")
    iot.create_billing_group(billingGroupName="other")
    expect("ResourceAlreadyExistsException", iot.create_billing_group, billingGroupName="team-a")
    described = iot.describe_billing_group(billingGroupName="team-a")
    assert described["billingGroupProperties"] == {"billingGroupDescription": "A"} and described["version"] == 1
    assert "creationDate" in described["billingGroupMetadata"], described
    expect("ResourceNotFoundException", iot.describe_billing_group, billingGroupName="nope")
    assert iot.update_billing_group(billingGroupName="team-a", expectedVersion=1,
                                    billingGroupProperties={"billingGroupDescription": "AA"})["version"] == 2
    expect("VersionConflictException", iot.update_billing_group, billingGroupName="team-a", expectedVersion=1,
           billingGroupProperties={})
    pages, groups = paginate(iot, "list_billing_groups", "billingGroups")
    assert names(groups) == ["other", "team-a", "team-b"] and len(pages) == 2, groups
    assert names(iot.list_billing_groups(namePrefixFilter="team")["billingGroups"]) == ["team-a", "team-b"]

    iot.add_thing_to_billing_group(billingGroupName="team-a", thingName="dev0")
    iot.add_thing_to_billing_group(billingGroupArn=arn + "team-a", thingName="dev1")
    iot.add_thing_to_billing_group(billingGroupName="team-a", thingName="dev2")
    pages, things = paginate(iot, "list_things_in_billing_group", "things", billingGroupName="team-a")
    assert things == ["dev0", "dev1", "dev2"] and len(pages) == 2, things
    # A thing is in one billing group at most: adding it to another moves it.
    iot.add_thing_to_billing_group(billingGroupName="team-b", thingName="dev0")
    assert iot.describe_thing(thingName="dev0")["billingGroupName"] == "team-b"
    assert iot.list_things_in_billing_group(billingGroupName="team-b")["things"] == ["dev0"]
    assert iot.list_things_in_billing_group(billingGroupName="team-a")["things"] == ["dev1", "dev2"]
    iot.remove_thing_from_billing_group(billingGroupName="team-a", thingName="dev1")
    assert iot.list_things_in_billing_group(billingGroupName="team-a")["things"] == ["dev2"]
    expect("ResourceNotFoundException", iot.add_thing_to_billing_group, billingGroupName="nope", thingName="dev0")
    expect("ResourceNotFoundException", iot.add_thing_to_billing_group, billingGroupName="team-a", thingName="nope")
    expect("ResourceNotFoundException", iot.list_things_in_billing_group, billingGroupName="nope")
    iot.delete_billing_group(billingGroupName="team-b")
    iot.delete_billing_group(billingGroupName="team-b")  # missing: no error, as AWS
    expect("VersionConflictException", iot.delete_billing_group, billingGroupName="team-a", expectedVersion=7)


def thing_types(iot, account):
    for name in ("sensor", "camera", "valve"):
        iot.create_thing_type(thingTypeName=name, thingTypeProperties={
            "thingTypeDescription": name, "searchableAttributes": ["serial"]})
    pages, types = paginate(iot, "list_thing_types", "thingTypes")
    assert names(types, "thingTypeName") == ["camera", "sensor", "valve"] and len(pages) == 2, types
    assert types[0]["thingTypeProperties"]["searchableAttributes"] == ["serial"], types[0]
    assert types[0]["thingTypeArn"] == "arn:aws:iot:us-east-1:%s:thingtype/camera" % account
    only = iot.list_thing_types(thingTypeName="valve")["thingTypes"]
    assert names(only, "thingTypeName") == ["valve"], only

    iot.create_thing(thingName="cam1", thingTypeName="camera")
    expect("InvalidRequestException", iot.delete_thing_type, thingTypeName="camera")  # not deprecated
    iot.deprecate_thing_type(thingTypeName="camera")
    meta = iot.describe_thing_type(thingTypeName="camera")["thingTypeMetadata"]
    assert meta["deprecated"] is True and "deprecationDate" in meta, meta
    # A deprecated type takes no new things; deletion waits five minutes (tests/cloud for the clock).
    expect("InvalidRequestException", iot.create_thing, thingName="cam2", thingTypeName="camera")
    expect("InvalidRequestException", iot.delete_thing_type, thingTypeName="camera")
    iot.deprecate_thing_type(thingTypeName="camera", undoDeprecate=True)
    assert iot.describe_thing_type(thingTypeName="camera")["thingTypeMetadata"]["deprecated"] is False
    iot.create_thing(thingName="cam2", thingTypeName="camera")
    expect("ResourceNotFoundException", iot.deprecate_thing_type, thingTypeName="nope")
    expect("ResourceNotFoundException", iot.delete_thing_type, thingTypeName="nope")


def principals_v2(iot, account):
    keys = [iot.create_keys_and_certificate(setAsActive=True) for _ in range(3)]
    iot.create_thing(thingName="shared")
    iot.attach_thing_principal(thingName="shared", principal=keys[0]["certificateArn"])
    iot.attach_thing_principal(thingName="shared", principal=keys[1]["certificateArn"])
    status, page = signed(iot, "GET", "/things/shared/principals-v2?maxResults=1")
    assert status == 200 and len(page["thingPrincipalObjects"]) == 1 and page["nextToken"], page
    status, rest = signed(iot, "GET", "/things/shared/principals-v2?maxResults=1&nextToken=" +
                          urllib.parse.quote(page["nextToken"], safe=""))
    got = sorted(o["principal"] for o in page["thingPrincipalObjects"] + rest["thingPrincipalObjects"])
    assert got == sorted(k["certificateArn"] for k in keys[:2]) and "nextToken" not in rest, rest
    assert all(o["thingPrincipalType"] == "NON_EXCLUSIVE_THING" for o in rest["thingPrincipalObjects"])
    status, only = signed(iot, "GET", "/things/shared/principals-v2?thingPrincipalType=EXCLUSIVE_THING")
    assert status == 200 and only["thingPrincipalObjects"] == [], only
    status, err = signed(iot, "GET", "/things/nope/principals-v2")
    assert status == 404, (status, err)
    status, things = signed(iot, "GET", "/principals/things-v2",
                            {"x-amzn-principal": keys[0]["certificateArn"]})
    assert status == 200 and things["principalThingObjects"] == [
        {"thingName": "shared", "thingPrincipalType": "NON_EXCLUSIVE_THING"}], things
    status, err = signed(iot, "GET", "/principals/things-v2", {
        "x-amzn-principal": "arn:aws:iot:us-east-1:%s:cert/%s" % (account, "0" * 64)})
    assert status == 404, (status, err)


def dynamic_groups(iot, data, account):
    """Dynamic groups: members are the things the query matches, kept current as things, their
    attributes, shadows and static groups change; no hierarchy, no Add/Remove."""
    iot.update_indexing_configuration(thingIndexingConfiguration={
        "thingIndexingMode": "REGISTRY_AND_SHADOW", "thingConnectivityIndexingMode": "STATUS"})
    for name, floor in (("pump-1", "1"), ("pump-2", "1"), ("pump-3", "2")):
        iot.create_thing(thingName=name, attributePayload={"attributes": {"kind": "pump", "floor": floor}})
    iot.create_thing(thingName="fan-1", attributePayload={"attributes": {"kind": "fan", "floor": "1"}})
    created = iot.create_dynamic_thing_group(thingGroupName="floor1-pumps",
                                             queryString="attributes.kind:pump AND attributes.floor:1")
    assert created["indexName"] == "AWS_Things" and created["queryVersion"] == "2017-09-30", created
    members = lambda g: iot.list_things_in_thing_group(thingGroupName=g)["things"]  # noqa: E731
    assert members("floor1-pumps") == ["pump-1", "pump-2"], members("floor1-pumps")
    described = iot.describe_thing_group(thingGroupName="floor1-pumps")
    assert described["queryString"] == "attributes.kind:pump AND attributes.floor:1", described
    assert described["status"] == "ACTIVE" and described["indexName"] == "AWS_Things", described

    # Things change: the membership follows in the same call.
    iot.update_thing(thingName="pump-3", attributePayload={"attributes": {"floor": "1"}, "merge": True})
    iot.update_thing(thingName="pump-1", attributePayload={"attributes": {"floor": "3"}, "merge": True})
    assert members("floor1-pumps") == ["pump-2", "pump-3"], members("floor1-pumps")
    iot.create_thing(thingName="pump-4", attributePayload={"attributes": {"kind": "pump", "floor": "1"}})
    assert members("floor1-pumps") == ["pump-2", "pump-3", "pump-4"], members("floor1-pumps")
    iot.delete_thing(thingName="pump-4")
    assert names(iot.list_thing_groups_for_thing(thingName="pump-2")["thingGroups"]) == ["floor1-pumps"]

    # Shadows: a query on shadow.reported.
    iot.create_dynamic_thing_group(thingGroupName="hot", queryString="shadow.reported.temp>50")
    assert members("hot") == []
    data.update_thing_shadow(thingName="pump-2", payload=json.dumps({"state": {"reported": {"temp": 80}}}))
    assert members("hot") == ["pump-2"], members("hot")
    data.update_thing_shadow(thingName="pump-2", payload=json.dumps({"state": {"reported": {"temp": 20}}}))
    assert members("hot") == [], members("hot")

    # Static group membership is indexed (thingGroupNames).
    iot.create_thing_group(thingGroupName="maintenance")
    iot.create_dynamic_thing_group(thingGroupName="in-maintenance", queryString="thingGroupNames:maintenance")
    iot.add_thing_to_thing_group(thingGroupName="maintenance", thingName="fan-1")
    assert members("in-maintenance") == ["fan-1"], members("in-maintenance")

    # AWS's refusals: no Add/Remove, no hierarchy, a bad query, a wrong index.
    expect("InvalidRequestException", iot.add_thing_to_thing_group, thingGroupName="hot", thingName="fan-1")
    expect("InvalidRequestException", iot.remove_thing_from_thing_group, thingGroupName="floor1-pumps",
           thingName="pump-2")
    expect("InvalidRequestException", iot.create_thing_group, thingGroupName="child", parentGroupName="hot")
    expect("InvalidQueryException", iot.create_dynamic_thing_group, thingGroupName="bad",
           queryString="attributes.kind:(pump")
    expect("ResourceNotFoundException", iot.create_dynamic_thing_group, thingGroupName="bad",
           queryString="thingName:x", indexName="AWS_Other")
    expect("ResourceAlreadyExistsException", iot.create_dynamic_thing_group, thingGroupName="hot",
           queryString="thingName:x")

    # Update the query: the members are recomputed; version and expectedVersion as static groups.
    assert iot.update_dynamic_thing_group(thingGroupName="floor1-pumps", expectedVersion=1,
                                          thingGroupProperties={}, queryString="attributes.kind:pump")["version"] == 2
    assert members("floor1-pumps") == ["pump-1", "pump-2", "pump-3"], members("floor1-pumps")
    expect("VersionConflictException", iot.update_dynamic_thing_group, thingGroupName="floor1-pumps",
           expectedVersion=1, thingGroupProperties={})
    expect("InvalidRequestException", iot.update_dynamic_thing_group, thingGroupName="maintenance",
           thingGroupProperties={})
    iot.delete_dynamic_thing_group(thingGroupName="floor1-pumps")
    assert names(iot.list_thing_groups_for_thing(thingName="pump-2")["thingGroups"]) == []
    expect("ResourceNotFoundException", iot.describe_thing_group, thingGroupName="floor1-pumps")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        cloud = Cloud(os.path.join(tmp, "state")).start()
        try:
            iot = cloud.client()
            thing_groups(iot, cloud.account)
            billing_groups(iot, cloud.account)
            thing_types(iot, cloud.account)
            principals_v2(iot, cloud.account)
            import boto3
            data = boto3.session.Session().client("iot-data", endpoint_url=cloud.url)
            dynamic_groups(iot, data, cloud.account)
        finally:
            cloud.stop()
    print("thing groups boto3 OK")


if __name__ == "__main__":
    main()
