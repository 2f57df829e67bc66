"""AWS IoT Jobs' device side over MQTT against `ztp cloud run`, with paho (MQTT 3.1.1) and boto3.

A device subscribed to $aws/things/<thing>/jobs/# sees what AWS documents ("Jobs device MQTT API
operations"): get / start-next / <jobId>/get / <jobId>/update answered on /accepted or /rejected
with its clientToken and a timestamp; notify and notify-next when executions are queued, started,
finished or canceled (notify-next only when the next execution changes); every rejected code a
device can cause (InvalidJson, InvalidRequest, ResourceNotFound, VersionMismatch with the
executionState, InvalidStateTransition). The same thing through boto3's iot-jobs-data client.
"""
import json
import os
import shutil
import sys
import tempfile

import boto3
import botocore.exceptions
import paho.mqtt.client as mqtt

sys.path.insert(0, os.path.dirname(__file__))
from cloud_common import MqttCloud  # noqa: E402
from mqtt5_paho_test import Client  # noqa: E402

failures = []


def check(description, condition, detail=""):
    print(("ok   - " if condition else "FAIL - ") + description + ("" if condition else ": " + str(detail)))
    if not condition:
        failures.append(description)


def main():
    work = tempfile.mkdtemp(prefix="zt-jobs-paho-e2e.")
    cloud = MqttCloud(work, os.path.join(work, "state"))
    device = None
    try:
        cloud.start()
        iot = cloud.iot()
        jobs_data = boto3.session.Session().client("iot-jobs-data", endpoint_url=cloud.url)
        created = iot.create_keys_and_certificate(setAsActive=True)
        cert, key = os.path.join(work, "device.crt"), os.path.join(work, "device.key")
        with open(cert, "w") as f:
            f.write(created["certificatePem"])
        with open(key, "w") as f:
            f.write(created["keyPair"]["PrivateKey"])
        os.chmod(key, 0o600)
        account = created["certificateArn"].split(":")[4]
        region = created["certificateArn"].split(":")[3]
        arn = "arn:aws:iot:%s:%s:" % (region, account)
        # Least privilege: the thing's own jobs topics only.
        iot.create_policy(policyName="LampJobs", policyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "iot:Connect", "Resource": arn + "client/lamp"},
            {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"], "Resource": arn + "topic/$aws/things/lamp/jobs/*"},
            {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": arn + "topicfilter/$aws/things/lamp/jobs/*"}]}))
        iot.attach_policy(policyName="LampJobs", target=created["certificateArn"])
        iot.create_thing(thingName="lamp")

        device = Client(cloud, cert, key, "lamp", mqtt.MQTTv311)
        check("connected", device.connack is not None and device.connack[0] == 0, device.connack)
        base = "$aws/things/lamp/jobs/"
        # Not jobs/#: a device would then receive its own requests.
        filters = ["notify", "notify-next", "+/accepted", "+/rejected", "+/+/accepted", "+/+/rejected"]
        device.paho.subscribe([(base + f, 0) for f in filters])
        check("subscribed", device.expect("suback") == (0,) * len(filters))

        def request(topic, body, expect=1):
            device.paho.publish(base + topic, body if isinstance(body, str) else json.dumps(body), 0)
            got = device.messages(expect, timeout=10)
            return {m.topic[len(base):]: json.loads(m.payload) for m in got}

        def notifications(count):
            return {m.topic[len(base):]: json.loads(m.payload) for m in device.messages(count, timeout=10)}

        got = request("get", {"clientToken": "t-1"})
        body = got.get("get/accepted", {})
        check("get: empty lists", body.get("inProgressJobs") == [] and body.get("queuedJobs") == [], got)
        check("get: clientToken echoed, timestamp in seconds",
              body.get("clientToken") == "t-1" and isinstance(body.get("timestamp"), int), body)

        # A job queued for the thing: notify and notify-next with the document.
        iot.create_job(jobId="leds", targets=[arn + "thing/lamp"],
                       document=json.dumps({"operation": "setLeds", "leds": {"led1": "on"}}))
        got = notifications(2)
        notify, nxt = got.get("notify", {}), got.get("notify-next", {})
        check("notify: QUEUED", [j["jobId"] for j in notify.get("jobs", {}).get("QUEUED", [])] == ["leds"], got)
        check("notify-next: the execution with its document",
              nxt.get("execution", {}).get("jobId") == "leds"
              and nxt["execution"].get("jobDocument") == {"operation": "setLeds", "leds": {"led1": "on"}}
              and nxt["execution"].get("status") == "QUEUED", got)

        got = request("start-next", {"clientToken": "t-2", "statusDetails": {"step": "starting"},
                                     "stepTimeoutInMinutes": 10}, expect=2)
        execution = got.get("start-next/accepted", {}).get("execution", {})
        check("start-next: IN_PROGRESS, version 2",
              execution.get("status") == "IN_PROGRESS" and execution.get("versionNumber") == 2
              and execution.get("statusDetails") == {"step": "starting"}, got)
        check("start-next: notify lists it IN_PROGRESS; no notify-next (the next one is the same)",
              [j["jobId"] for j in got.get("notify", {}).get("jobs", {}).get("IN_PROGRESS", [])] == ["leds"]
              and "notify-next" not in got, got)

        got = request("leds/get", {"includeJobDocument": False, "clientToken": "t-3"})
        execution = got.get("leds/get/accepted", {}).get("execution", {})
        check("<jobId>/get without the document", execution.get("jobId") == "leds" and "jobDocument" not in execution, got)
        got = request("$next/get", {})
        check("$next/get", got.get("$next/get/accepted", {}).get("execution", {}).get("jobId") == "leds", got)

        # The rejected codes.
        got = request("leds/update", "{not json")
        check("InvalidJson", got.get("leds/update/rejected", {}).get("code") == "InvalidJson", got)
        got = request("leds/update", {"status": "QUEUED", "clientToken": "t-4"})
        rejected = got.get("leds/update/rejected", {})
        check("InvalidRequest (status QUEUED)", rejected.get("code") == "InvalidRequest" and rejected.get("clientToken") == "t-4", got)
        got = request("leds/update", {"status": "SUCCEEDED", "statusDetails": {"k": 5}})
        check("InvalidRequest (a statusDetails value that is not a string)",
              got.get("leds/update/rejected", {}).get("code") == "InvalidRequest", got)
        got = request("other/update", {"status": "SUCCEEDED"})
        check("ResourceNotFound", got.get("other/update/rejected", {}).get("code") == "ResourceNotFound", got)
        got = request("leds/update", {"status": "SUCCEEDED", "expectedVersion": 1, "clientToken": "t-5"})
        rejected = got.get("leds/update/rejected", {})
        check("VersionMismatch with the executionState",
              rejected.get("code") == "VersionMismatch" and rejected.get("executionState", {}).get("versionNumber") == 2
              and rejected["executionState"].get("status") == "IN_PROGRESS", got)

        got = request("leds/update", {"status": "SUCCEEDED", "expectedVersion": 2, "statusDetails": {"result": "led1=on"},
                                      "includeJobExecutionState": True, "includeJobDocument": True,
                                      "clientToken": "t-6"}, expect=3)
        accepted = got.get("leds/update/accepted", {})
        check("update: accepted with executionState and jobDocument",
              accepted.get("executionState", {}).get("status") == "SUCCEEDED"
              and accepted["executionState"].get("versionNumber") == 3
              and accepted.get("jobDocument", {}).get("operation") == "setLeds" and accepted.get("clientToken") == "t-6", got)
        check("update: notify with no jobs and notify-next with no execution",
              got.get("notify", {}).get("jobs") == {} and "execution" not in got.get("notify-next", {"execution": 1}), got)
        got = request("leds/update", {"status": "IN_PROGRESS"})
        check("InvalidStateTransition after a terminal state",
              got.get("leds/update/rejected", {}).get("code") == "InvalidStateTransition", got)

        execution = iot.describe_job_execution(jobId="leds", thingName="lamp")["execution"]
        check("control plane sees the device's outcome",
              execution["status"] == "SUCCEEDED" and execution["statusDetails"]["detailsMap"] == {"result": "led1=on"}, execution)

        # Two jobs queued; canceling the next one from the control plane changes notify-next.
        iot.create_job(jobId="first", targets=[arn + "thing/lamp"], document='{"operation":"setLeds","leds":{"led2":"on"}}')
        notifications(2)
        iot.create_job(jobId="second", targets=[arn + "thing/lamp"], document='{"operation":"setLeds","leds":{"led3":"on"}}')
        got = notifications(1)
        check("a second job: notify only (the next one is unchanged)",
              [j["jobId"] for j in got.get("notify", {}).get("jobs", {}).get("QUEUED", [])] == ["first", "second"]
              and "notify-next" not in got, got)
        iot.cancel_job_execution(jobId="first", thingName="lamp")
        got = notifications(2)
        check("canceling the next one: notify-next names the other",
              got.get("notify-next", {}).get("execution", {}).get("jobId") == "second", got)

        # The HTTP device API (boto3 iot-jobs-data).
        pending = jobs_data.get_pending_job_executions(thingName="lamp")
        check("iot-jobs-data get-pending", [j["jobId"] for j in pending["queuedJobs"]] == ["second"], pending)
        started = jobs_data.start_next_pending_job_execution(thingName="lamp")["execution"]
        check("iot-jobs-data start-next: document as text",
              started["jobId"] == "second" and json.loads(started["jobDocument"])["leds"] == {"led3": "on"}, started)
        # iot-jobs-data's model names no exception for a version mismatch: the code is the
        # control plane's (docs/jobs.md), a 409 boto3 raises as a ClientError.
        try:
            jobs_data.update_job_execution(thingName="lamp", jobId="second", status="FAILED", expectedVersion=7)
            check("iot-jobs-data version conflict", False)
        except botocore.exceptions.ClientError as error:
            check("iot-jobs-data version conflict", error.response["Error"]["Code"] == "VersionConflictException"
                  and error.response["ResponseMetadata"]["HTTPStatusCode"] == 409, error.response)
        updated = jobs_data.update_job_execution(thingName="lamp", jobId="second", status="FAILED",
                                                 statusDetails={"reason": "test"}, includeJobExecutionState=True)
        check("iot-jobs-data update", updated["executionState"]["status"] == "FAILED", updated)
        described = jobs_data.describe_job_execution(thingName="lamp", jobId="second")["execution"]
        check("iot-jobs-data describe", described["status"] == "FAILED" and described["statusDetails"] == {"reason": "test"}, described)
    finally:
        if device:
            device.stop()
        cloud.stop()
        if failures:
            print(open(cloud.log_path).read()[-3000:] if getattr(cloud, "log_path", None) else "")
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print("%d check(s) failed" % len(failures))
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
