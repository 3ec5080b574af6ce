// One prepared SQLite statement on a raw connection, for the history's two writers that go
// through SQLite's C API (the session writer and the result cache): binding UTF-8 directly
// is several times cheaper per row than Qt SQL. Finalized with its owner (which must go
// before the connection closes).
#pragma once

#include <cstdint>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace taskbench::history {

class Statement
{
public:
    Statement() = default;
    ~Statement();
    Statement(const Statement &) = delete;
    Statement &operator=(const Statement &) = delete;

    bool prepare(sqlite3 *db, const char *sql);
    void finalize();

    /// Binds without copying (SQLITE_STATIC): `s` must outlive the next run() or step().
    void text(int i, std::string_view s);
    /// Binds a copy (SQLITE_TRANSIENT).
    void copyText(int i, std::string_view s);
    void copyBlob(int i, std::string_view bytes);
    void number(int i, std::int64_t v);
    void real(int i, double v);
    void null(int i);

    /// Steps and resets; throws std::runtime_error with SQLite's message unless it is done.
    void run();
    /// One step (SQLITE_ROW, SQLITE_DONE or an error code); reset() when done with it.
    int step();
    /// Resets and clears the bindings.
    void reset();

    /// The current row's columns (valid until the next step or reset).
    std::string_view columnText(int i) const;
    std::string_view columnBlob(int i) const;
    std::int64_t columnInt(int i) const;
    int columnType(int i) const;

private:
    sqlite3 *m_db = nullptr;
    sqlite3_stmt *m_stmt = nullptr;
};

} // namespace taskbench::history
