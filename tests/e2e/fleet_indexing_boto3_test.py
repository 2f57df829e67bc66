"""Fleet indexing with boto3 against `ztp cloud run`: Get/UpdateIndexingConfiguration (modes,
managed and custom fields, refusals), SearchIndex over registry and shadow fields (paging with
nextToken, InvalidQueryException, the index OFF), DescribeIndex/ListIndices, and GetStatistics,
GetCardinality, GetPercentiles, GetBucketsAggregation (InvalidAggregationException)."""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cloud_common import Cloud  # noqa: E402

import boto3  # noqa: E402
import botocore.exceptions  # noqa: E402


def expect_error(code, call, **kwargs):
    try:
        call(**kwargs)
    except botocore.exceptions.ClientError as error:
        got = error.response["Error"]["Code"]
        assert got == code, "%s: expected %s, got %s (%s)" % (call.__name__, code, got, error)
        return error.response["Error"]["Message"]
    raise AssertionError("%s(%s) succeeded, expected %s" % (call.__name__, kwargs, code))


def names(answer):
    return [t["thingName"] for t in answer["things"]]


def main():
    with tempfile.TemporaryDirectory() as tmp:
        cloud = Cloud(os.path.join(tmp, "state")).start()
        try:
            iot = cloud.client()
            data = boto3.session.Session().client("iot-data", endpoint_url=cloud.url)
            run(iot, data)
        finally:
            cloud.stop()
    print("fleet indexing boto3: ok")


def run(iot, data):
    # Off at first, as on a new AWS account: the index does not exist.
    config = iot.get_indexing_configuration()
    assert config["thingIndexingConfiguration"]["thingIndexingMode"] == "OFF", config
    assert "managedFields" not in config["thingIndexingConfiguration"], config
    assert config["thingGroupIndexingConfiguration"]["thingGroupIndexingMode"] == "OFF", config
    assert iot.list_indices()["indexNames"] == []
    expect_error("ResourceNotFoundException", iot.search_index, queryString="thingName:*")
    expect_error("ResourceNotFoundException", iot.describe_index, indexName="AWS_Things")

    # Refused configurations: connectivity without thing indexing, a shadow custom field in
    # REGISTRY mode, a managed field as a custom one, an unknown mode.
    msg = expect_error("InvalidRequestException", iot.update_indexing_configuration,
                       thingIndexingConfiguration={"thingIndexingMode": "OFF",
                                                   "thingConnectivityIndexingMode": "STATUS"})
    assert "thingIndexMode must not be set to OFF" in msg, msg
    expect_error("InvalidRequestException", iot.update_indexing_configuration,
                 thingIndexingConfiguration={"thingIndexingMode": "REGISTRY",
                                             "customFields": [{"name": "shadow.reported.temp", "type": "Number"}]})
    expect_error("InvalidRequestException", iot.update_indexing_configuration,
                 thingIndexingConfiguration={"thingIndexingMode": "REGISTRY",
                                             "customFields": [{"name": "thingName", "type": "String"}]})
    expect_error("InvalidRequestException", iot.update_indexing_configuration,
                 thingIndexingConfiguration={"thingIndexingMode": "SOMETIMES"})

    iot.update_indexing_configuration(
        thingIndexingConfiguration={
            "thingIndexingMode": "REGISTRY_AND_SHADOW", "thingConnectivityIndexingMode": "STATUS",
            "namedShadowIndexingMode": "ON", "filter": {"namedShadowNames": ["config"]},
            "customFields": [{"name": "attributes.serial", "type": "Number"},
                             {"name": "attributes.color", "type": "String"},
                             {"name": "shadow.reported.temp", "type": "Number"}]},
        thingGroupIndexingConfiguration={"thingGroupIndexingMode": "OFF"})
    config = iot.get_indexing_configuration()["thingIndexingConfiguration"]
    managed = {f["name"]: f["type"] for f in config["managedFields"]}
    for name, kind in [("thingName", "String"), ("thingId", "String"), ("registry.version", "Number"),
                       ("shadow.hasDelta", "Boolean"), ("connectivity.connected", "Boolean"),
                       ("connectivity.disconnectReason", "String")]:
        assert managed.get(name) == kind, (name, managed)
    assert [f["name"] for f in config["customFields"]] == ["attributes.serial", "attributes.color",
                                                           "shadow.reported.temp"], config
    assert config["filter"] == {"namedShadowNames": ["config"]}, config
    assert iot.list_indices()["indexNames"] == ["AWS_Things"]
    index = iot.describe_index(indexName="AWS_Things")
    assert index["indexStatus"] == "ACTIVE", index
    assert index["schema"] == "REGISTRY_AND_SHADOW_AND_CONNECTIVITY_STATUS", index
    expect_error("ResourceNotFoundException", iot.describe_index, indexName="AWS_ThingGroups")
    expect_error("ResourceNotFoundException", iot.search_index, indexName="Nope", queryString="*")

    # A small fleet: 12 sensors, 3 of them red; shadows with temperatures.
    iot.create_thing_type(thingTypeName="Sensor")
    for i in range(12):
        color = "red" if i % 4 == 0 else "blue"
        iot.create_thing(thingName="sensor-%02d" % i, thingTypeName="Sensor",
                         attributePayload={"attributes": {"color": color, "serial": str(100 + i)}})
        data.update_thing_shadow(thingName="sensor-%02d" % i, payload=json.dumps(
            {"state": {"reported": {"temp": 20 + i}, "desired": {"temp": 25 if i == 3 else 20 + i}}}))
    iot.create_thing(thingName="gateway-1", attributePayload={"attributes": {"color": "Red"}})
    data.update_thing_shadow(thingName="gateway-1", shadowName="config",
                             payload=json.dumps({"state": {"reported": {"rate": 5}}}))

    found = iot.search_index(queryString="thingName:sensor-03")
    assert names(found) == ["sensor-03"], found
    thing = found["things"][0]
    assert thing["thingTypeName"] == "Sensor" and thing["attributes"]["color"] == "blue", thing
    shadow = json.loads(thing["shadow"])  # a JSON string, as AWS returns it
    assert shadow["reported"]["temp"] == 23 and shadow["hasDelta"] is True and shadow["delta"] == {"temp": 25}, shadow
    assert thing["connectivity"] == {"connected": False}, thing
    assert "registryVersion" not in thing, thing

    assert names(iot.search_index(queryString="attributes.color:red")) == \
        ["gateway-1", "sensor-00", "sensor-04", "sensor-08"]
    assert names(iot.search_index(queryString="attributes.color:red AND thingTypeName:Sensor")) == \
        ["sensor-00", "sensor-04", "sensor-08"]
    assert names(iot.search_index(queryString="shadow.reported.temp>29")) == ["sensor-10", "sensor-11"]
    assert names(iot.search_index(queryString="shadow.reported.temp:[21 TO 23}")) == ["sensor-01", "sensor-02"]
    assert names(iot.search_index(queryString="shadow.hasDelta:true")) == ["sensor-03"]
    assert names(iot.search_index(queryString="thingName:sensor-1? OR thingName:gate*")) == \
        ["gateway-1", "sensor-10", "sensor-11"]
    assert names(iot.search_index(queryString="NOT thingTypeName:Sensor")) == ["gateway-1"]
    assert names(iot.search_index(queryString="shadow.name.config.reported.rate:5")) == ["gateway-1"]
    assert names(iot.search_index(queryString="connectivity.connected:true")) == []
    assert len(iot.search_index(queryString="*")["things"]) == 13

    # Paging: pages of 5 over the 12 sensors, the token handed back as given.
    seen, token, pages = [], None, 0
    while True:
        kwargs = {"queryString": "thingName:sensor-*", "maxResults": 5}
        if token:
            kwargs["nextToken"] = token
        page = iot.search_index(**kwargs)
        pages += 1
        seen += names(page)
        token = page.get("nextToken")
        if not token:
            break
    assert pages == 3 and seen == ["sensor-%02d" % i for i in range(12)], (pages, seen)
    expect_error("InvalidRequestException", iot.search_index, queryString="*", nextToken="not base64!")

    # InvalidQueryException: syntax, 13 terms, two leading wildcards.
    for bad in ["thingName:(a", "thingName:", "attributes.color:a@b",
                " OR ".join("thingName:t%d" % i for i in range(13)), "thingName:*a OR thingTypeName:*b"]:
        msg = expect_error("InvalidQueryException", iot.search_index, queryString=bad)
        assert msg.startswith("Syntax error in query string"), msg

    # Aggregations.
    stats = iot.get_statistics(queryString="thingTypeName:Sensor", aggregationField="shadow.reported.temp")
    s = stats["statistics"]
    assert s["count"] == 12 and s["minimum"] == 20 and s["maximum"] == 31 and s["sum"] == 306, s
    assert abs(s["average"] - 25.5) < 1e-9 and abs(s["variance"] - 143 / 12) < 1e-9, s
    count = iot.get_statistics(queryString="attributes.color:red")["statistics"]
    assert count == {"count": 4}, count
    strings = iot.get_statistics(queryString="*", aggregationField="attributes.color")["statistics"]
    assert strings == {"count": 13}, strings
    assert iot.get_cardinality(queryString="*", aggregationField="attributes.color")["cardinality"] == 3
    percentiles = iot.get_percentiles(queryString="thingTypeName:Sensor", aggregationField="attributes.serial",
                                      percents=[0, 50, 100])["percentiles"]
    assert [(p["percent"], p["value"]) for p in percentiles] == [(0, 100), (50, 105.5), (100, 111)], percentiles
    buckets = iot.get_buckets_aggregation(queryString="*", aggregationField="attributes.color",
                                          bucketsAggregationType={"termsAggregation": {"maxBuckets": 2}})
    assert buckets["totalCount"] == 13 and buckets["buckets"][0] == {"keyValue": "blue", "count": 9}, buckets
    assert len(buckets["buckets"]) == 2, buckets
    expect_error("InvalidAggregationException", iot.get_statistics, queryString="*",
                 aggregationField="attributes.unindexed")
    expect_error("InvalidAggregationException", iot.get_percentiles, queryString="*",
                 aggregationField="attributes.color")
    expect_error("InvalidQueryException", iot.get_cardinality, queryString="((", aggregationField="thingName")

    # Turned OFF again: the index is gone.
    iot.update_indexing_configuration(thingIndexingConfiguration={"thingIndexingMode": "OFF"})
    expect_error("ResourceNotFoundException", iot.search_index, queryString="*")
    expect_error("ResourceNotFoundException", iot.get_statistics, queryString="*")
    assert iot.list_indices()["indexNames"] == []


if __name__ == "__main__":
    main()
