// AWS Lambda's control plane and Invoke (rest-json, API version 2015-03-31: Lambda API reference),
// for the stock `aws lambda` CLI and boto3. Functions are stored in the registry
// (registry_lambda.cpp) and run by cloud/lambda. Errors are Lambda's: ResourceNotFoundException
// "Function not found: <arn>", ResourceConflictException, InvalidParameterValueException, ...
// Invoke runs the function after the handler's transaction (Reply::deferred), off the registry
// worker, so a function that calls back into the local cloud's API is not waiting on itself.
#include <regex>

#include "cloud/api/handler_util.hpp"
#include "cloud/iam/policy_document.hpp"
#include "cloud/lambda/invoker.hpp"
#include "cloud/lambda/permissions.hpp"
#include "cloud/lambda/zip_archive.hpp"
#include "crypto/digest.hpp"

namespace zt::cloud::api {
namespace {

using nlohmann::json;
using registry::LambdaFunction;

constexpr const char* kPrefix = "/2015-03-31/functions";
// Lambda quotas: invocation payload 6 MB synchronous, 1 MB asynchronous; environment variables
// 4 KB in all.
constexpr size_t kMaxSyncPayload = 6 * 1024 * 1024;
constexpr size_t kMaxAsyncPayload = 1024 * 1024;
constexpr size_t kMaxEnvironmentBytes = 4096;

ApiError invalid_parameter(std::string_view message) {
  return api_error(400, "InvalidParameterValueException", message, {{"Type", "User"}});
}
ApiError resource_not_found(std::string_view message) {
  return api_error(404, "ResourceNotFoundException", message, {{"Type", "User"}});
}
ApiError conflict(std::string_view message) {
  return api_error(409, "ResourceConflictException", message, {{"Type", "User"}});
}

// A member check of common/json.hpp failed: Lambda calls that InvalidParameterValueException.
template <class T>
ApiResult<T> checked(Result<T> value) {
  if (!value) return invalid_parameter(value.error().message);
  return std::move(*value);
}

lambda::Invoker& invoker(ServiceContext& ctx) { return *ctx.lambda; }

std::string arn_of(ServiceContext& ctx, const std::string& name) {
  return lambda::function_arn(ctx.region, ctx.account_id, name);
}

// FunctionName: a name, a full ARN or a partial one (<account>:function:<name>), as the API
// reference allows; a qualifier other than $LATEST names a version we do not have.
ApiResult<std::string> function_name(ServiceContext& ctx, std::string_view given) {
  static const std::regex arn(
      "(?:arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):)?(?:(\\d{12}):function:)?([a-zA-Z0-9_-]{1,64})"
      "(?::(\\$LATEST|[a-zA-Z0-9_-]{1,128}))?");
  std::match_results<std::string_view::const_iterator> match;
  if (given.size() > 170 || !std::regex_match(given.begin(), given.end(), match, arn)) {
    return invalid_parameter("1 validation error detected: Value '" +
                             std::string(given.substr(0, 200)) +
                             "' at 'functionName' failed to satisfy constraint: Member must "
                             "satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?"
                             "([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?"
                             "([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?");
  }
  std::string name = match[3].str();
  if ((match[1].matched && match[1].str() != ctx.region) ||
      (match[2].matched && match[2].str() != ctx.account_id) ||
      (match[4].matched && match[4].str() != "$LATEST")) {
    return resource_not_found("Function not found: " + arn_of(ctx, name) +
                              (match[4].matched ? ":" + match[4].str() : ""));
  }
  return name;
}

ApiResult<LambdaFunction> existing(ServiceContext& ctx, const std::string& name) {
  ZT_API_TRY_ASSIGN(auto function, ctx.registry.find_lambda_function(name));
  if (!function) return resource_not_found("Function not found: " + arn_of(ctx, name));
  return std::move(*function);
}

ApiResult<std::string> qualifier_checked(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, function_name(ctx, request.path.at("FunctionName")));
  if (auto qualifier = request.query_value("Qualifier"); qualifier && *qualifier != "$LATEST")
    return resource_not_found("Function not found: " + arn_of(ctx, name) + ":" + *qualifier);
  return name;
}

json configuration(ServiceContext& ctx, const LambdaFunction& function) {
  json variables = parse_json(function.environment).value_or(json::object());
  json out = {{"FunctionName", function.name},
              {"FunctionArn", arn_of(ctx, function.name)},
              {"Runtime", function.runtime},
              {"Role", function.role},
              {"Handler", function.handler},
              {"CodeSize", function.code_size},
              {"Description", function.description},
              {"Timeout", function.timeout},
              {"MemorySize", function.memory_size},
              {"LastModified", function.last_modified},
              {"CodeSha256", function.code_sha256},
              {"Version", "$LATEST"},
              {"TracingConfig", {{"Mode", "PassThrough"}}},
              {"RevisionId", function.revision_id},
              {"State", "Active"},
              {"LastUpdateStatus", "Successful"},
              {"PackageType", "Zip"},
              {"Architectures", json::array({"x86_64"})},
              {"EphemeralStorage", {{"Size", 512}}}};
  if (variables.is_object() && !variables.empty()) out["Environment"] = {{"Variables", variables}};
  return out;
}

// The role: an IAM role ARN (its form), of a role that exists in this account and whose trust
// policy lets lambda.amazonaws.com assume it — AWS refuses CreateFunction otherwise with
// InvalidParameterValueException "The role defined for the function cannot be assumed by Lambda."
// (Lambda API reference, CreateFunction errors). The trust policy's Conditions are not evaluated
// (docs/lambda-and-iam.md).
ApiResult<void> check_role(ServiceContext& ctx, const std::string& role) {
  static const std::regex pattern(
      "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+");
  if (role.size() > 2048 || !std::regex_match(role, pattern)) {
    return invalid_parameter("1 validation error detected: Value '" + role.substr(0, 200) +
                             "' at 'role' failed to satisfy constraint: Member must satisfy "
                             "regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?"
                             "[a-zA-Z_0-9+=,.@\\-_/]+");
  }
  ZT_API_TRY_ASSIGN(auto found, ctx.registry.find_role_by_arn(role));
  if (!found || !iam::trust_document_allows_service(found->trust_policy, "lambda.amazonaws.com"))
    return invalid_parameter("The role defined for the function cannot be assumed by Lambda.");
  return {};
}

// Environment.Variables: names [a-zA-Z][a-zA-Z0-9_]+, string values, 4 KB in all, none of the
// keys Lambda reserves (Lambda developer guide, "Defined runtime environment variables").
ApiResult<std::string> environment_of(const json& body) {
  ZT_API_TRY_ASSIGN(const json* environment, checked(object_member(body, "Environment")));
  if (!environment) return std::string("{}");
  ZT_API_TRY_ASSIGN(const json* variables,
                    checked(object_member(*environment, "Variables", "Environment.Variables")));
  if (!variables) return std::string("{}");
  static const std::regex name_pattern("[a-zA-Z][a-zA-Z0-9_]+");
  static const char* kReserved[] = {"_HANDLER",
                                    "_X_AMZN_TRACE_ID",
                                    "AWS_DEFAULT_REGION",
                                    "AWS_REGION",
                                    "AWS_EXECUTION_ENV",
                                    "AWS_LAMBDA_FUNCTION_NAME",
                                    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                                    "AWS_LAMBDA_FUNCTION_VERSION",
                                    "AWS_LAMBDA_INITIALIZATION_TYPE",
                                    "AWS_LAMBDA_LOG_GROUP_NAME",
                                    "AWS_LAMBDA_LOG_STREAM_NAME",
                                    "AWS_ACCESS_KEY",
                                    "AWS_ACCESS_KEY_ID",
                                    "AWS_SECRET_ACCESS_KEY",
                                    "AWS_SESSION_TOKEN",
                                    "AWS_LAMBDA_RUNTIME_API",
                                    "LAMBDA_TASK_ROOT",
                                    "LAMBDA_RUNTIME_DIR"};
  size_t total = 0;
  std::vector<std::string> reserved;
  for (const auto& [name, value] : variables->items()) {
    if (!value.is_string())
      return invalid_parameter("Environment.Variables." + name.substr(0, 100) +
                               " must be a string");
    if (!std::regex_match(name, name_pattern))
      return invalid_parameter("environment variable name '" + name.substr(0, 100) +
                               "' must match [a-zA-Z]([a-zA-Z0-9_])+");
    for (const char* key : kReserved) {
      if (name == key) reserved.push_back(name);
    }
    total += name.size() + value.get_ref<const std::string&>().size();
  }
  if (!reserved.empty()) {
    std::string list;
    for (const auto& name : reserved) list += (list.empty() ? "" : ",") + name;
    return invalid_parameter(
        "Lambda was unable to configure your environment variables because the environment "
        "variables you have provided contains reserved keys that are currently not supported for "
        "modification. Reserved keys used in this request: " +
        list);
  }
  if (total > kMaxEnvironmentBytes) {
    return invalid_parameter(
        "Lambda was unable to configure your environment variables because the environment "
        "variables you have provided exceeded the 4KB limit. String measured: " +
        std::to_string(total));
  }
  return variables->dump();
}

struct Code {
  std::vector<uint8_t> zip;
  std::string sha256;  // base64
};

// Code.ZipFile (base64 in the JSON), checked as a zip archive (central directory, entry names,
// sizes) without unpacking it: unpacking happens at the first invocation.
ApiResult<Code> zip_code(const json& holder, std::string_view where) {
  for (const char* unsupported : {"S3Bucket", "S3Key", "S3ObjectVersion", "ImageUri"}) {
    if (holder.contains(unsupported)) {
      return invalid_parameter(std::string(where) + unsupported +
                               " is not supported by the local cloud: upload the zip as ZipFile");
    }
  }
  ZT_API_TRY_ASSIGN(auto text,
                    checked(string_member(holder, "ZipFile", std::string(where) + "ZipFile")));
  if (!text) return invalid_parameter(std::string(where) + "ZipFile is required");
  auto zip = base64_decode(*text);
  if (!zip) return invalid_parameter(std::string(where) + "ZipFile is not base64");
  lambda::ZipLimits limits;
  auto entries = lambda::inspect_zip(*zip, limits);
  if (!entries) {
    if (entries.error().code == Errc::parse) {
      return invalid_parameter(
          "Could not unzip uploaded file. Please check your file, then try to upload again.");
    }
    return invalid_parameter(entries.error().message);
  }
  auto digest = crypto::sha256(*zip);
  return Code{std::move(*zip), base64_encode(digest)};
}

// The configuration members CreateFunction and UpdateFunctionConfiguration share, applied to
// `function` (only those present in `body`).
ApiResult<void> apply_configuration(ServiceContext& ctx, const json& body,
                                    LambdaFunction& function) {
  ZT_API_TRY_ASSIGN(auto runtime, checked(string_member(body, "Runtime")));
  if (runtime) {
    if (!lambda::is_supported_runtime(*runtime)) {
      return invalid_parameter("Value " + runtime->substr(0, 100) +
                               " at 'runtime' is not supported by the local cloud: python3.7 … "
                               "python3.13, provided, provided.al2, provided.al2023");
    }
    function.runtime = *runtime;
  }
  ZT_API_TRY_ASSIGN(auto role, checked(string_member(body, "Role")));
  if (role) {
    ZT_API_TRY(check_role(ctx, *role));
    function.role = *role;
  }
  ZT_API_TRY_ASSIGN(auto handler, checked(string_member(body, "Handler")));
  if (handler) {
    static const std::regex pattern("[^\\s]{1,128}");
    if (!std::regex_match(*handler, pattern))
      return invalid_parameter("Handler must match [^\\s]+ and be at most 128 characters");
    function.handler = *handler;
  }
  ZT_API_TRY_ASSIGN(auto description, checked(string_member(body, "Description")));
  if (description) {
    if (description->size() > 256)
      return invalid_parameter("Description must be at most 256 characters");
    function.description = *description;
  }
  ZT_API_TRY_ASSIGN(auto timeout, checked(integer_member(body, "Timeout", "Timeout", 1, 900)));
  if (timeout) function.timeout = *timeout;
  ZT_API_TRY_ASSIGN(auto memory,
                    checked(integer_member(body, "MemorySize", "MemorySize", 128, 10240)));
  if (memory) function.memory_size = *memory;
  if (body.contains("Environment")) {
    ZT_API_TRY_ASSIGN(function.environment, environment_of(body));
  }
  ZT_API_TRY_ASSIGN(const json* layers, checked(array_member(body, "Layers")));
  if (layers && !layers->empty())
    return invalid_parameter("Layers are not supported by the local cloud");
  return {};
}

ApiResult<void> check_revision(const json& body, const LambdaFunction& function) {
  ZT_API_TRY_ASSIGN(auto revision, checked(string_member(body, "RevisionId")));
  if (revision && *revision != function.revision_id) {
    return api_error(412, "PreconditionFailedException",
                     "The Revision Id provided does not match the latest Revision Id. Call the "
                     "GetFunction/GetAlias API to retrieve the latest Revision Id",
                     {{"Type", "User"}});
  }
  return {};
}

ApiResult<Reply> create_function(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(json body, json_body(request, true));
  ZT_API_TRY_ASSIGN(auto given, checked(string_member(body, "FunctionName")));
  if (!given) return invalid_parameter("FunctionName is required");
  ZT_API_TRY_ASSIGN(std::string name, function_name(ctx, *given));
  ZT_API_TRY_ASSIGN(auto package, checked(string_member(body, "PackageType")));
  if (package && *package != "Zip")
    return invalid_parameter("PackageType " + package->substr(0, 50) +
                             " is not supported: Zip only");
  LambdaFunction function{.name = name};
  ZT_API_TRY(apply_configuration(ctx, body, function));
  if (function.runtime.empty()) return invalid_parameter("Runtime is required for a .zip package");
  if (function.handler.empty()) return invalid_parameter("Handler is required for a .zip package");
  if (function.role.empty()) return invalid_parameter("Role is required");
  ZT_API_TRY_ASSIGN(const json* code_member, checked(object_member(body, "Code")));
  if (!code_member) return invalid_parameter("Code is required");
  ZT_API_TRY_ASSIGN(Code code, zip_code(*code_member, "Code."));
  ZT_API_TRY_ASSIGN(auto taken, ctx.registry.find_lambda_function(name));
  if (taken) return conflict("Function already exist: " + name);
  function.code_sha256 = code.sha256;
  function.code_size = static_cast<int64_t>(code.zip.size());
  function.last_modified = lambda::last_modified_now();
  function.revision_id = new_uuid();
  ZT_API_TRY(ctx.registry.insert_lambda_function(function, code.zip));
  return json_reply(configuration(ctx, function), 201);
}

ApiResult<Reply> get_function(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, qualifier_checked(ctx, request));
  ZT_API_TRY_ASSIGN(LambdaFunction function, existing(ctx, name));
  // AWS answers a presigned S3 URL for the package; the local cloud has no S3
  // (docs/lambda-and-iam.md, "What differs from AWS").
  return json_reply(
      {{"Configuration", configuration(ctx, function)}, {"Code", {{"RepositoryType", "S3"}}}});
}

ApiResult<Reply> get_function_configuration(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, qualifier_checked(ctx, request));
  ZT_API_TRY_ASSIGN(LambdaFunction function, existing(ctx, name));
  return json_reply(configuration(ctx, function));
}

ApiResult<Reply> list_functions(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(auto page, page_request(request, "Marker", "MaxItems", 10000));
  if (!request.query_value("MaxItems")) page.limit = 50;
  page.ascending = true;
  ZT_API_TRY_ASSIGN(auto functions, ctx.registry.list_lambda_functions(page));
  json out = {{"Functions", json::array()}};
  for (const auto& function : functions.items)
    out["Functions"].push_back(configuration(ctx, function));
  if (!functions.next_key.empty()) out["NextMarker"] = page_token(functions.next_key);
  return json_reply(out);
}

ApiResult<Reply> update_function_code(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, function_name(ctx, request.path.at("FunctionName")));
  ZT_API_TRY_ASSIGN(json body, json_body(request, true));
  ZT_API_TRY_ASSIGN(LambdaFunction function, existing(ctx, name));
  ZT_API_TRY(check_revision(body, function));
  ZT_API_TRY_ASSIGN(Code code, zip_code(body, ""));
  ZT_API_TRY_ASSIGN(auto dry_run, checked(bool_member(body, "DryRun")));
  function.code_sha256 = code.sha256;
  function.code_size = static_cast<int64_t>(code.zip.size());
  function.command.reset();  // a command function given a package runs the package from now on
  if (dry_run.value_or(false)) return json_reply(configuration(ctx, function));
  function.last_modified = lambda::last_modified_now();
  function.revision_id = new_uuid();
  ZT_API_TRY(ctx.registry.update_lambda_function(function, std::span<const uint8_t>(code.zip)));
  return json_reply(configuration(ctx, function));
}

ApiResult<Reply> update_function_configuration(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, function_name(ctx, request.path.at("FunctionName")));
  ZT_API_TRY_ASSIGN(json body, json_body(request, true));
  ZT_API_TRY_ASSIGN(LambdaFunction function, existing(ctx, name));
  ZT_API_TRY(check_revision(body, function));
  ZT_API_TRY(apply_configuration(ctx, body, function));
  function.last_modified = lambda::last_modified_now();
  function.revision_id = new_uuid();
  ZT_API_TRY(ctx.registry.update_lambda_function(function));
  return json_reply(configuration(ctx, function));
}

ApiResult<Reply> delete_function(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, qualifier_checked(ctx, request));
  ZT_API_TRY(existing(ctx, name));
  ZT_API_TRY(ctx.registry.delete_lambda_function(name));
  return Reply{204, "", {{"x-amzn-RequestId", new_uuid()}}};
}

Reply invocation_reply(const lambda::Outcome& outcome, const std::string& request_id, bool tail) {
  Reply reply{200,
              outcome.payload,
              {{"Content-Type", "application/json"},
               {"x-amzn-RequestId", request_id},
               {"X-Amz-Executed-Version", "$LATEST"}}};
  if (outcome.function_error) reply.headers.emplace_back("X-Amz-Function-Error", "Unhandled");
  if (tail) {
    // The last 4 KB of the invocation's log, base64 (API reference, Invoke: LogResult).
    std::string log =
        outcome.log.size() <= 4096 ? outcome.log : outcome.log.substr(outcome.log.size() - 4096);
    reply.headers.emplace_back("X-Amz-Log-Result", base64_encode(as_bytes(log)));
  }
  return reply;
}

ApiResult<Reply> invoke(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, qualifier_checked(ctx, request));
  std::string type = request.header("X-Amz-Invocation-Type").value_or("RequestResponse");
  std::string log_type = request.header("X-Amz-Log-Type").value_or("None");
  if (type != "RequestResponse" && type != "Event" && type != "DryRun") {
    return invalid_parameter("1 validation error detected: Value '" + type.substr(0, 50) +
                             "' at 'invocationType' failed to satisfy constraint: Member must "
                             "satisfy enum value set: [Event, RequestResponse, DryRun]");
  }
  if (log_type != "None" && log_type != "Tail") {
    return invalid_parameter("1 validation error detected: Value '" + log_type.substr(0, 50) +
                             "' at 'logType' failed to satisfy constraint: Member must satisfy "
                             "enum value set: [Tail, None]");
  }
  size_t limit = type == "Event" ? kMaxAsyncPayload : kMaxSyncPayload;
  if (request.body().size() > limit) {
    return api_error(413, "RequestTooLargeException",
                     "Request must be smaller than " + std::to_string(limit) +
                         " bytes for the InvokeFunction operation",
                     {{"Type", "User"}});
  }
  std::string payload = request.body().empty() ? "{}" : request.body();
  if (auto parsed = parse_json(payload); !parsed) {
    return api_error(400, "InvalidRequestContentException",
                     "Could not parse request body into json: " + parsed.error().message,
                     {{"Type", "User"}});
  }
  ZT_API_TRY(existing(ctx, name));
  if (type == "DryRun") return Reply{204, "", {{"x-amzn-RequestId", new_uuid()}}};
  if (type == "Event") {
    auto queued = invoker(ctx).invoke_async(name, payload);
    if (!queued) {
      return api_error(
          429, "TooManyRequestsException", queued.error().message,
          {{"Type", "User"}, {"Reason", "ReservedFunctionConcurrentInvocationLimitExceeded"}});
    }
    return Reply{202, "", {{"x-amzn-RequestId", *queued}}};
  }
  // RequestResponse: after the transaction, on the server's function threads.
  Reply reply;
  reply.deferred = [&lambda = invoker(ctx), name, payload = std::move(payload),
                    tail = log_type == "Tail"]() -> Reply {
    std::string request_id = new_uuid();
    auto outcome = lambda.invoke(name, payload, request_id);
    if (!outcome) {
      if (outcome.error().code == Errc::not_found)
        return error_reply(resource_not_found("Function not found: " + name));
      return error_reply(
          api_error(502, "ServiceException", outcome.error().message, {{"Type", "Service"}}));
    }
    return invocation_reply(*outcome, request_id, tail);
  };
  return reply;
}

ApiResult<Reply> add_permission(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, qualifier_checked(ctx, request));
  ZT_API_TRY_ASSIGN(json body, json_body(request, true));
  ZT_API_TRY_ASSIGN(LambdaFunction function, existing(ctx, name));
  ZT_API_TRY(check_revision(body, function));
  lambda::PermissionRequest permission;
  ZT_API_TRY_ASSIGN(auto sid, checked(string_member(body, "StatementId")));
  ZT_API_TRY_ASSIGN(auto action, checked(string_member(body, "Action")));
  ZT_API_TRY_ASSIGN(auto principal, checked(string_member(body, "Principal")));
  ZT_API_TRY_ASSIGN(permission.source_arn, checked(string_member(body, "SourceArn")));
  ZT_API_TRY_ASSIGN(permission.source_account, checked(string_member(body, "SourceAccount")));
  static const std::regex sid_pattern("[a-zA-Z0-9_.-]{1,100}");
  static const std::regex action_pattern("(lambda:[*]|lambda:[a-zA-Z]+|[*])");
  if (!sid || !std::regex_match(*sid, sid_pattern))
    return invalid_parameter("StatementId is required and must match ([a-zA-Z0-9-_.]+), 1..100");
  if (!action || !std::regex_match(*action, action_pattern))
    return invalid_parameter("Action is required and must match (lambda:[*]|lambda:[a-zA-Z]+|[*])");
  if (!principal || principal->empty() || principal->size() > 256)
    return invalid_parameter("Principal is required");
  if (permission.source_arn && permission.source_arn->size() > 1024)
    return invalid_parameter("SourceArn must be at most 1024 characters");
  permission.statement_id = *sid;
  permission.action = *action;
  permission.principal = *principal;
  json statement = lambda::permission_statement(permission, arn_of(ctx, name));
  auto added = ctx.registry.add_lambda_permission(
      {.function_name = name, .sid = *sid, .statement = statement.dump()});
  if (!added && added.error().code == Errc::already_exists) {
    return conflict("The statement id (" + *sid +
                    ") provided already exists. Please provide a new statement id, or remove the "
                    "existing statement.");
  }
  ZT_API_TRY(added);
  function.revision_id = new_uuid();
  ZT_API_TRY(ctx.registry.update_lambda_function(function));
  return json_reply({{"Statement", statement.dump()}}, 201);
}

ApiResult<Reply> remove_permission(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, qualifier_checked(ctx, request));
  ZT_API_TRY_ASSIGN(LambdaFunction function, existing(ctx, name));
  const std::string& sid = request.path.at("StatementId");
  ZT_API_TRY_ASSIGN(bool removed, ctx.registry.remove_lambda_permission(name, sid));
  if (!removed)
    return resource_not_found("Statement " + sid.substr(0, 100) +
                              " is not found in resource policy.");
  function.revision_id = new_uuid();
  ZT_API_TRY(ctx.registry.update_lambda_function(function));
  return Reply{204, "", {{"x-amzn-RequestId", new_uuid()}}};
}

ApiResult<Reply> get_policy(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, qualifier_checked(ctx, request));
  ZT_API_TRY_ASSIGN(LambdaFunction function, existing(ctx, name));
  ZT_API_TRY_ASSIGN(auto permissions, ctx.registry.lambda_permissions(name));
  if (permissions.empty()) return resource_not_found("The resource you requested does not exist.");
  std::vector<json> statements;
  for (const auto& permission : permissions)
    statements.push_back(parse_json(permission.statement).value_or(json::object()));
  return json_reply({{"Policy", lambda::policy_document(statements).dump()},
                     {"RevisionId", function.revision_id}});
}

}  // namespace

void add_lambda_routes(Router& r) {
  std::string functions = kPrefix;
  std::string function = functions + "/{FunctionName}";
  r.add("POST", functions, "CreateFunction", create_function);
  r.add("GET", functions + "/", "ListFunctions", list_functions);
  r.add("GET", function, "GetFunction", get_function);
  r.add("DELETE", function, "DeleteFunction", delete_function);
  r.add("GET", function + "/configuration", "GetFunctionConfiguration", get_function_configuration);
  r.add("PUT", function + "/configuration", "UpdateFunctionConfiguration",
        update_function_configuration);
  r.add("PUT", function + "/code", "UpdateFunctionCode", update_function_code);
  r.add("POST", function + "/invocations", "Invoke", invoke);
  r.add("POST", function + "/policy", "AddPermission", add_permission);
  r.add("GET", function + "/policy", "GetPolicy", get_policy);
  r.add("DELETE", function + "/policy/{StatementId}", "RemovePermission", remove_permission);
}

}  // namespace zt::cloud::api
