// AWS IoT Jobs' storage (tables jobs, job_executions, job_templates; job_records.hpp). Plain
// reads and writes: the state machine is cloud/jobs.
#include "cloud/registry/paging.hpp"
#include "cloud/registry/registry.hpp"

namespace zt::cloud::registry {
namespace {

constexpr const char* kJobColumns =
    "SELECT job_id, status, target_selection, document, spec, created_at, last_updated_at, "
    "completed_at FROM jobs";
constexpr const char* kExecutionColumns =
    "SELECT job_id, thing_name, execution_number, status, status_details, version, queued_at, "
    "started_at, last_updated_at, timeout_at, force_canceled, history FROM job_executions";

Job read_job(const Statement& st) {
  return {.id = st.text(0),
          .status = st.text(1),
          .target_selection = st.text(2),
          .document = st.text(3),
          .spec = st.text(4),
          .created_at = st.real(5),
          .last_updated_at = st.real(6),
          .completed_at = st.real(7)};
}

JobExecution read_execution(const Statement& st) {
  return {.job_id = st.text(0),
          .thing_name = st.text(1),
          .execution_number = st.integer(2),
          .status = st.text(3),
          .status_details = st.text(4),
          .version = st.integer(5),
          .queued_at = st.real(6),
          .started_at = st.real(7),
          .last_updated_at = st.real(8),
          .timeout_at = st.real(9),
          .force_canceled = st.integer(10) != 0,
          .history = st.text(11)};
}

JobTemplate read_template(const Statement& st) {
  return {.id = st.text(0), .spec = st.text(1), .created_at = st.real(2)};
}

template <class T, class Read>
Result<std::vector<T>> all_rows(Statement& st, Read read) {
  std::vector<T> out;
  while (true) {
    ZT_TRY_ASSIGN(bool row, st.step());
    if (!row) break;
    out.push_back(read(st));
  }
  return out;
}

}  // namespace

Status Registry::insert_job(const Job& job) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st,
                  db_.prepare("INSERT INTO jobs VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
    return st.bind(1, job.id)
        .bind(2, job.status)
        .bind(3, job.target_selection)
        .bind(4, job.document)
        .bind(5, job.spec)
        .bind(6, job.created_at)
        .bind(7, job.last_updated_at)
        .bind(8, job.completed_at)
        .run();
  });
}

Result<std::optional<Job>> Registry::find_job(std::string_view id) {
  return transaction([&]() -> Result<std::optional<Job>> {
    ZT_TRY_ASSIGN(Statement st, db_.prepare(std::string(kJobColumns) + " WHERE job_id = ?1"));
    st.bind(1, id);
    ZT_TRY_ASSIGN(bool row, st.step());
    if (!row) return std::optional<Job>();
    return std::optional<Job>(read_job(st));
  });
}

Status Registry::update_job(const Job& job) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(
        Statement st,
        db_.prepare("UPDATE jobs SET status = ?2, target_selection = ?3, document = ?4, "
                    "spec = ?5, last_updated_at = ?6, completed_at = ?7 WHERE job_id = ?1"));
    ZT_TRY(st.bind(1, job.id)
               .bind(2, job.status)
               .bind(3, job.target_selection)
               .bind(4, job.document)
               .bind(5, job.spec)
               .bind(6, job.last_updated_at)
               .bind(7, job.completed_at)
               .run());
    if (db_.changes() == 0) return make_error(Errc::not_found, "job " + job.id + " not found");
    return ok();
  });
}

Status Registry::delete_job(std::string_view id) {
  return transaction([&]() -> Status {
    // Each execution goes with a change note, so its device hears that it left the queue.
    ZT_TRY_ASSIGN(Statement things,
                  db_.prepare("SELECT thing_name FROM job_executions WHERE job_id = ?1"));
    things.bind(1, id);
    ZT_TRY_ASSIGN(auto names,
                  all_rows<std::string>(things, [](const Statement& s) { return s.text(0); }));
    for (const auto& thing : names) ZT_TRY(delete_job_execution(id, thing));
    ZT_TRY_ASSIGN(Statement st, db_.prepare("DELETE FROM jobs WHERE job_id = ?1"));
    ZT_TRY(st.bind(1, id).run());
    if (db_.changes() == 0)
      return make_error(Errc::not_found, "job " + std::string(id) + " not found");
    return ok();
  });
}

Result<Page<Job>> Registry::list_jobs(const PageRequest& page, const JobFilter& filter) {
  return transaction([&] {
    return paged_query<Job>(
        db_, kJobColumns,
        "(?3 = '' OR status = ?3) AND (?4 = '' OR target_selection = ?4) AND "
        "(?5 = '' OR instr(spec, ?5) > 0)",
        "job_id", page,
        [&](Statement& st) {
          st.bind(3, filter.status.value_or(""))
              .bind(4, filter.target_selection.value_or(""))
              // A target ARN as it appears in the spec's JSON text (quoted, no escapes needed:
              // ARNs of things and groups have no '"' or '\').
              .bind(5, filter.target ? "\"" + *filter.target + "\"" : std::string());
        },
        read_job, [](const Job& job) { return job.id; });
  });
}

Result<std::vector<Job>> Registry::list_jobs_with_status(std::string_view status) {
  return transaction([&]() -> Result<std::vector<Job>> {
    ZT_TRY_ASSIGN(Statement st,
                  db_.prepare(std::string(kJobColumns) + " WHERE status = ?1 ORDER BY job_id"));
    st.bind(1, status);
    return all_rows<Job>(st, read_job);
  });
}

Status Registry::put_job_execution(const JobExecution& e) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st,
                  db_.prepare("INSERT OR REPLACE INTO job_executions VALUES(?1, ?2, ?3, ?4, ?5, "
                              "?6, ?7, ?8, ?9, ?10, ?11, ?12)"));
    ZT_TRY(st.bind(1, e.job_id)
               .bind(2, e.thing_name)
               .bind(3, e.execution_number)
               .bind(4, e.status)
               .bind(5, e.status_details)
               .bind(6, e.version)
               .bind(7, e.queued_at)
               .bind(8, e.started_at)
               .bind(9, e.last_updated_at)
               .bind(10, e.timeout_at)
               .bind(11, e.force_canceled ? 1 : 0)
               .bind(12, e.history)
               .run());
    note_change({.kind = Change::Kind::job_execution,
                 .id = e.thing_name,
                 .status = e.status,
                 .detail = e.job_id});
    return ok();
  });
}

Result<std::optional<JobExecution>> Registry::find_job_execution(std::string_view job_id,
                                                                 std::string_view thing_name) {
  return transaction([&]() -> Result<std::optional<JobExecution>> {
    ZT_TRY_ASSIGN(Statement st, db_.prepare(std::string(kExecutionColumns) +
                                            " WHERE job_id = ?1 AND thing_name = ?2"));
    st.bind(1, job_id).bind(2, thing_name);
    ZT_TRY_ASSIGN(bool row, st.step());
    if (!row) return std::optional<JobExecution>();
    return std::optional<JobExecution>(read_execution(st));
  });
}

Status Registry::delete_job_execution(std::string_view job_id, std::string_view thing_name) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st,
                  db_.prepare("DELETE FROM job_executions WHERE job_id = ?1 AND thing_name = ?2"));
    ZT_TRY(st.bind(1, job_id).bind(2, thing_name).run());
    if (db_.changes() == 0) return make_error(Errc::not_found, "job execution not found");
    note_change({.kind = Change::Kind::job_execution,
                 .id = std::string(thing_name),
                 .status = "",
                 .detail = std::string(job_id)});
    return ok();
  });
}

Result<Page<JobExecution>> Registry::list_job_executions_for_job(std::string_view job_id,
                                                                 std::string_view status,
                                                                 const PageRequest& page) {
  return transaction([&] {
    return paged_query<JobExecution>(
        db_, kExecutionColumns, "job_id = ?3 AND (?4 = '' OR status = ?4)", "thing_name", page,
        [&](Statement& st) { st.bind(3, job_id).bind(4, status); }, read_execution,
        [](const JobExecution& e) { return e.thing_name; });
  });
}

Result<Page<JobExecution>> Registry::list_job_executions_for_thing(std::string_view thing_name,
                                                                   std::string_view status,
                                                                   const PageRequest& page) {
  return transaction([&] {
    return paged_query<JobExecution>(
        db_, kExecutionColumns, "thing_name = ?3 AND (?4 = '' OR status = ?4)", "job_id", page,
        [&](Statement& st) { st.bind(3, thing_name).bind(4, status); }, read_execution,
        [](const JobExecution& e) { return e.job_id; });
  });
}

Result<std::vector<JobExecution>> Registry::pending_job_executions(std::string_view thing_name) {
  return transaction([&]() -> Result<std::vector<JobExecution>> {
    ZT_TRY_ASSIGN(Statement st,
                  db_.prepare(std::string(kExecutionColumns) +
                              " WHERE thing_name = ?1 AND status IN ('QUEUED', 'IN_PROGRESS') "
                              "ORDER BY queued_at, job_id"));
    st.bind(1, thing_name);
    return all_rows<JobExecution>(st, read_execution);
  });
}

Result<std::vector<std::pair<std::string, int64_t>>> Registry::count_job_executions(
    std::string_view job_id) {
  return transaction([&]() -> Result<std::vector<std::pair<std::string, int64_t>>> {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("SELECT status, COUNT(*) FROM job_executions WHERE "
                                            "job_id = ?1 GROUP BY status"));
    st.bind(1, job_id);
    return all_rows<std::pair<std::string, int64_t>>(
        st, [](const Statement& s) { return std::pair(s.text(0), s.integer(1)); });
  });
}

Result<std::vector<JobExecution>> Registry::expired_job_executions(double now) {
  return transaction([&]() -> Result<std::vector<JobExecution>> {
    ZT_TRY_ASSIGN(Statement st,
                  db_.prepare(std::string(kExecutionColumns) +
                              " WHERE timeout_at > 0 AND timeout_at <= ?1 AND status = "
                              "'IN_PROGRESS' ORDER BY timeout_at LIMIT 1000"));
    st.bind(1, now);
    return all_rows<JobExecution>(st, read_execution);
  });
}

Status Registry::insert_job_template(const JobTemplate& t) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("INSERT INTO job_templates VALUES(?1, ?2, ?3)"));
    return st.bind(1, t.id).bind(2, t.spec).bind(3, t.created_at).run();
  });
}

Result<std::optional<JobTemplate>> Registry::find_job_template(std::string_view id) {
  return transaction([&]() -> Result<std::optional<JobTemplate>> {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("SELECT template_id, spec, created_at FROM "
                                            "job_templates WHERE template_id = ?1"));
    st.bind(1, id);
    ZT_TRY_ASSIGN(bool row, st.step());
    if (!row) return std::optional<JobTemplate>();
    return std::optional<JobTemplate>(read_template(st));
  });
}

Result<Page<JobTemplate>> Registry::list_job_templates(const PageRequest& page) {
  return transaction([&] {
    return paged_query<JobTemplate>(db_, "SELECT template_id, spec, created_at FROM job_templates",
                                    "1", "template_id", page, no_binds(), read_template,
                                    [](const JobTemplate& t) { return t.id; });
  });
}

Status Registry::delete_job_template(std::string_view id) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("DELETE FROM job_templates WHERE template_id = ?1"));
    ZT_TRY(st.bind(1, id).run());
    if (db_.changes() == 0)
      return make_error(Errc::not_found, "job template " + std::string(id) + " not found");
    return ok();
  });
}

}  // namespace zt::cloud::registry
