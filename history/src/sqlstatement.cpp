#include "sqlstatement_p.h"

#include <stdexcept>

#include <sqlite3.h>

namespace taskbench::history {

Statement::~Statement()
{
    finalize();
}

bool Statement::prepare(sqlite3 *db, const char *sql)
{
    finalize();
    m_db = db;
    return sqlite3_prepare_v2(db, sql, -1, &m_stmt, nullptr) == SQLITE_OK;
}

void Statement::finalize()
{
    sqlite3_finalize(m_stmt);
    m_stmt = nullptr;
}

void Statement::text(int i, std::string_view s)
{
    sqlite3_bind_text(m_stmt, i, s.data(), int(s.size()), SQLITE_STATIC);
}

void Statement::copyText(int i, std::string_view s)
{
    sqlite3_bind_text(m_stmt, i, s.data(), int(s.size()), SQLITE_TRANSIENT);
}

void Statement::copyBlob(int i, std::string_view bytes)
{
    sqlite3_bind_blob(m_stmt, i, bytes.data(), int(bytes.size()), SQLITE_TRANSIENT);
}

void Statement::number(int i, std::int64_t v)
{
    sqlite3_bind_int64(m_stmt, i, v);
}

void Statement::real(int i, double v)
{
    sqlite3_bind_double(m_stmt, i, v);
}

void Statement::null(int i)
{
    sqlite3_bind_null(m_stmt, i);
}

void Statement::run()
{
    const int rc = sqlite3_step(m_stmt);
    sqlite3_reset(m_stmt);
    if (rc != SQLITE_DONE)
        throw std::runtime_error(sqlite3_errmsg(m_db));
}

int Statement::step()
{
    return sqlite3_step(m_stmt);
}

void Statement::reset()
{
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
}

std::string_view Statement::columnText(int i) const
{
    const auto *p = reinterpret_cast<const char *>(sqlite3_column_text(m_stmt, i));
    return p ? std::string_view(p, std::size_t(sqlite3_column_bytes(m_stmt, i)))
             : std::string_view();
}

std::string_view Statement::columnBlob(int i) const
{
    const auto *p = static_cast<const char *>(sqlite3_column_blob(m_stmt, i));
    return p ? std::string_view(p, std::size_t(sqlite3_column_bytes(m_stmt, i)))
             : std::string_view();
}

std::int64_t Statement::columnInt(int i) const
{
    return sqlite3_column_int64(m_stmt, i);
}

int Statement::columnType(int i) const
{
    return sqlite3_column_type(m_stmt, i);
}

} // namespace taskbench::history
