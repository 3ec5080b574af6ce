// The run history's schema (see schema_p.h): the tables as migration steps, and the
// statements that write them during a recording.
#include "schema_p.h"

#include "taskbench/history/historystore.h"

#include <iterator>

namespace taskbench::history::schema {

namespace {

// Schema 1, the first released schema. Never edit a step once released: add a new one.
const char *const kSchemaV1 = R"sql(
CREATE TABLE sessions(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  started_us INTEGER NOT NULL,
  ended_us INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL,
  app TEXT NOT NULL DEFAULT '',
  title TEXT NOT NULL DEFAULT '',
  workers INTEGER NOT NULL DEFAULT 0,
  threads_per_worker INTEGER NOT NULL DEFAULT 1,
  processes INTEGER NOT NULL DEFAULT 0,
  pid INTEGER NOT NULL DEFAULT 0,
  host TEXT NOT NULL DEFAULT '');
CREATE TABLE plugins(
  session_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  path TEXT NOT NULL,
  hash TEXT NOT NULL DEFAULT '',
  functions TEXT NOT NULL DEFAULT '',
  PRIMARY KEY(session_id, name, path));
CREATE TABLE tasks(
  session_id INTEGER NOT NULL,
  task_id INTEGER NOT NULL,
  key TEXT NOT NULL,
  function TEXT NOT NULL,
  grp TEXT NOT NULL DEFAULT '',
  deps TEXT NOT NULL DEFAULT '',
  args TEXT NOT NULL DEFAULT '',
  options TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  worker INTEGER NOT NULL DEFAULT -1,
  submitted_us INTEGER NOT NULL DEFAULT 0,
  started_us INTEGER NOT NULL DEFAULT 0,
  finished_us INTEGER NOT NULL DEFAULT 0,
  result_stored INTEGER NOT NULL DEFAULT 0,
  result TEXT NOT NULL DEFAULT '',
  result_type TEXT NOT NULL DEFAULT '',
  result_size INTEGER NOT NULL DEFAULT -1,
  error_type TEXT NOT NULL DEFAULT '',
  error_message TEXT NOT NULL DEFAULT '',
  error_root TEXT NOT NULL DEFAULT '',
  traceback TEXT NOT NULL DEFAULT '',
  story TEXT NOT NULL DEFAULT '',
  runs TEXT NOT NULL DEFAULT '',
  PRIMARY KEY(session_id, task_id));
CREATE INDEX tasks_status ON tasks(session_id, status)
)sql";

// Schema 2: captured task output, workers (Perfetto track names), task log lines, and an
// index for searching by function.
const char *const kSchemaV2 = R"sql(
ALTER TABLE tasks ADD COLUMN output TEXT NOT NULL DEFAULT '';
CREATE TABLE workers(
  session_id INTEGER NOT NULL,
  worker_id INTEGER NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  threads INTEGER NOT NULL DEFAULT 0,
  added_us INTEGER NOT NULL DEFAULT 0,
  removed_us INTEGER NOT NULL DEFAULT 0,
  reason TEXT NOT NULL DEFAULT '',
  PRIMARY KEY(session_id, worker_id));
CREATE TABLE logs(
  session_id INTEGER NOT NULL,
  task_id INTEGER NOT NULL,
  time_us INTEGER NOT NULL,
  text TEXT NOT NULL);
CREATE INDEX logs_task ON logs(session_id, task_id);
CREATE INDEX tasks_function ON tasks(session_id, function)
)sql";

// Schema 3: what recording a large session costs. The task counts per status live in the
// session row (kept by the recorder in the transaction that writes the tasks), so listing
// sessions reads no task rows, and the two secondary task indexes go: each one was another
// b-tree insert per recorded task (a third of the write time), while searches match with
// '%text%' patterns that an index cannot serve anyway. Counts of existing sessions are
// computed once, here, while the status index still exists.
const char *const kSchemaV3 = R"sql(
ALTER TABLE sessions ADD COLUMN counts TEXT NOT NULL DEFAULT '';
UPDATE sessions SET counts = coalesce((SELECT group_concat(c.status || ' ' || c.n, ',')
  FROM (SELECT session_id, status, count(*) AS n FROM tasks GROUP BY session_id, status) AS c
  WHERE c.session_id = sessions.id), '');
DROP INDEX tasks_function;
DROP INDEX tasks_status
)sql";

// Schema 4: what the last attempt used, as columns to sort and filter by (every attempt's is
// in runs); NULL where unknown (thread workers' memory, a failed attempt's result).
const char *const kSchemaV4 = R"sql(
ALTER TABLE tasks ADD COLUMN peak_rss_bytes INTEGER;
ALTER TABLE tasks ADD COLUMN cpu_s REAL;
ALTER TABLE tasks ADD COLUMN result_bytes INTEGER
)sql";

// Schema 5: a task served from the result cache, and the session that computed its value
// (0 unknown); NULL for a task computed in its own session. Its story's "from cache" note.
const char *const kSchemaV5 = R"sql(
ALTER TABLE tasks ADD COLUMN cached_from INTEGER
)sql";

const char *const kSteps[] = {kSchemaV1, kSchemaV2, kSchemaV3, kSchemaV4, kSchemaV5};
static_assert(std::size(kSteps) == kSchemaVersion, "one migration step per schema version");

} // namespace

const std::vector<std::string> &migrationSteps()
{
    static const std::vector<std::string> steps(std::begin(kSteps), std::end(kSteps));
    return steps;
}

const char *const kInsertSession
    = "INSERT INTO sessions(started_us, status, app, title, workers, threads_per_worker, "
      "processes, pid, host) VALUES(?, 'running', ?, ?, ?, ?, ?, ?, ?)";
const char *const kFinishSession = "UPDATE sessions SET status = ?, ended_us = ? WHERE id = ?";
const char *const kUpdateCounts = "UPDATE sessions SET counts = ? WHERE id = ?";
const char *const kUpsertTask
    = "INSERT OR REPLACE INTO tasks(session_id, task_id, key, function, grp, deps, args, "
      "options, state, status, attempts, worker, submitted_us, started_us, finished_us, "
      "result_stored, result, result_type, result_size, error_type, error_message, "
      "error_root, traceback, output, story, runs, peak_rss_bytes, cpu_s, result_bytes, "
      "cached_from) "
      "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
      "?, ?)";
const char *const kAppendStory
    = "UPDATE tasks SET story = story || ? WHERE session_id = ? AND task_id = ?";
const char *const kInsertLog
    = "INSERT INTO logs(session_id, task_id, time_us, text) VALUES(?, ?, ?, ?)";
const char *const kUpsertWorker
    = "INSERT OR REPLACE INTO workers(session_id, worker_id, name, threads, added_us, "
      "removed_us, reason) VALUES(?, ?, ?, ?, ?, ?, ?)";
const char *const kUpsertPlugin
    = "INSERT OR REPLACE INTO plugins(session_id, name, version, path, hash, functions) "
      "VALUES(?, ?, ?, ?, ?, ?)";

// The result cache's table: created by the cache itself (CREATE IF NOT EXISTS), apart from
// the numbered migrations, so that a history written by an older Taskbench gains it on the
// first cached run without a schema version of its own.
const char *const kCreateResultCache = R"sql(
CREATE TABLE IF NOT EXISTS result_cache(
  key TEXT NOT NULL,
  function TEXT NOT NULL,
  plugin_sha256 TEXT NOT NULL,
  value BLOB NOT NULL,
  checksum INTEGER NOT NULL,
  size INTEGER NOT NULL,
  last_used INTEGER NOT NULL,
  session_id INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(key, function));
CREATE INDEX IF NOT EXISTS result_cache_lru ON result_cache(last_used)
)sql";
const char *const kStoreCached
    = "INSERT OR REPLACE INTO result_cache(key, function, plugin_sha256, value, checksum, size, "
      "last_used, session_id) VALUES(?,?,?,?,?,?,?,?)";
// Every entry a batch of lookups used gets the batch's stamp, in one statement (a JSON list
// of row ids): a rerun of a 200,000-task map touches 200,000 entries.
const char *const kTouchCached
    = "UPDATE result_cache SET last_used=?1 WHERE rowid IN (SELECT value FROM json_each(?2))";
const char *const kRemoveCached
    = "DELETE FROM result_cache WHERE key=? AND function=? AND plugin_sha256=?";
const char *const kReadCached
    = "SELECT value, checksum, session_id, rowid FROM result_cache WHERE key=? "
      "AND function=? AND plugin_sha256=?";

} // namespace taskbench::history::schema
