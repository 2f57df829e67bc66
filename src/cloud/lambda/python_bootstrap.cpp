#include "cloud/lambda/python_bootstrap.hpp"

namespace zt::cloud::lambda {

// clang-format off
const char* const kPythonBootstrap = R"python(# The local cloud's Python runtime bootstrap (ours; it plays the part of AWS's runtime interface
# client). Started by cloud/lambda/runtime.cpp as `python3 -B -c <this>` in the function's code
# directory with the event on stdin. It imports the handler module, calls the handler with the event
# and a context object, and writes the outcome to its stdout as one letter and JSON: "R" + the
# result, or "E" + AWS's error shape {"errorMessage","errorType","requestId","stackTrace"}.
# Whatever the function prints goes to stderr: its log.
import importlib
import importlib.abc
import importlib.util
import json
import os
import sys
import time
import traceback

result_out = os.fdopen(os.dup(1), "w", encoding="utf-8")
os.dup2(2, 1)
sys.stdout = sys.stderr
env = os.environ
request_id = env["ZT_LAMBDA_REQUEST_ID"]
deadline_ms = int(env["ZT_LAMBDA_DEADLINE_MS"])


def finish(kind, body):
    result_out.write(kind + body)
    result_out.flush()
    sys.exit(0)


def fail(error_type, message, stack=()):
    finish("E", json.dumps({"errorMessage": message, "errorType": error_type,
                            "requestId": request_id, "stackTrace": list(stack)}))


def point_sdk_back(endpoint):
    # Debian's boto3 1.26 ignores AWS_ENDPOINT_URL: every client a session creates without an
    # explicit endpoint_url gets the local cloud's (all its services answer on one port). Patched
    # when the function imports botocore, not before: importing it costs ~0.5 s a cold start, which
    # a function that never uses the SDK should not pay.
    def patch(session_module):
        create = session_module.Session.create_client

        def create_client(self, service_name, *args, **kwargs):
            if len(args) < 5 and kwargs.get("endpoint_url") is None:
                kwargs["endpoint_url"] = endpoint
            return create(self, service_name, *args, **kwargs)

        session_module.Session.create_client = create_client

    class Hook(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name != "botocore.session":
                return None
            sys.meta_path.remove(self)
            spec = importlib.util.find_spec(name)
            if spec is None or spec.loader is None:
                return spec
            load = spec.loader.exec_module

            def exec_module(module):
                load(module)
                patch(module)

            spec.loader.exec_module = exec_module
            return spec

    sys.meta_path.insert(0, Hook())


class LambdaContext:
    def __init__(self):
        self.function_name = env["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = env["AWS_LAMBDA_FUNCTION_VERSION"]
        self.invoked_function_arn = env["ZT_LAMBDA_FUNCTION_ARN"]
        self.memory_limit_in_mb = int(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
        self.aws_request_id = request_id
        self.log_group_name = env["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = env["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.identity = None
        self.client_context = None

    def get_remaining_time_in_millis(self):
        return max(0, deadline_ms - int(time.time() * 1000))


def main():
    if env.get("AWS_ENDPOINT_URL"):
        point_sdk_back(env["AWS_ENDPOINT_URL"])
    handler = env["_HANDLER"]
    module_name, _, function_name = handler.rpartition(".")
    if not module_name or not function_name:
        fail("Runtime.MalformedHandlerName",
             "Bad handler '%s': not enough values to unpack (expected 2, got 1)" % handler)
    sys.path.insert(0, env["LAMBDA_TASK_ROOT"])
    try:
        event = json.loads(sys.stdin.buffer.read() or b"null")
    except ValueError as error:
        fail("Runtime.UnmarshalError", "Unable to unmarshal input: %s" % error)
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as error:
        fail("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (module_name, error))
    except SyntaxError as error:
        fail("Runtime.UserCodeSyntaxError", "Syntax error in module '%s': %s" % (module_name, error))
    except Exception as error:  # the module's own code failed while it was imported
        fail(type(error).__name__, str(error), traceback.format_list(traceback.extract_tb(error.__traceback__)))
    function = getattr(module, function_name, None)
    if function is None:
        fail("Runtime.HandlerNotFound",
             "Handler '%s' missing on module '%s'" % (function_name, module_name))
    try:
        result = function(event, LambdaContext())
    except Exception as error:
        fail(type(error).__name__, str(error),
             traceback.format_list(traceback.extract_tb(error.__traceback__)[1:]))
    try:
        body = json.dumps(result)
    except (TypeError, ValueError) as error:
        fail("Runtime.MarshalError", "Unable to marshal response: %s" % error)
    finish("R", body)


main()
)python";
// clang-format on

}  // namespace zt::cloud::lambda
