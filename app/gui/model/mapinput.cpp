#include "mapinput.h"

#include "taskbench/valuecodec.h"

#include <QObject>
#include <QRegularExpression>

#include <cmath>

namespace taskbench::gui::mapinput {

namespace {

struct Number
{
    bool isInt = true;
    long long i = 0;
    double d = 0;
};

std::optional<Number> number(const QString &s)
{
    Number n;
    bool ok = false;
    n.i = s.trimmed().toLongLong(&ok);
    if (ok) {
        n.d = double(n.i);
        return n;
    }
    n.d = s.trimmed().toDouble(&ok);
    if (!ok)
        return std::nullopt;
    n.isInt = false;
    return n;
}

std::optional<std::vector<Value>>
makeRange(Number a, Number b, Number step, bool inclusive, QString *error)
{
    auto fail = [&](const QString &m) -> std::optional<std::vector<Value>> {
        if (error)
            *error = m;
        return std::nullopt;
    };
    if (step.d == 0)
        return fail(QObject::tr("The step must not be zero"));
    const bool ints = a.isInt && b.isInt && step.isInt;
    double count = std::floor((b.d - a.d) / step.d) + 1;
    if (!inclusive) {
        // Exclusive end: the last value must be strictly before b.
        const double lastIncl = a.d + (count - 1) * step.d;
        if (std::fabs(lastIncl - b.d) < 1e-12 * std::max(1.0, std::fabs(b.d)))
            count -= 1;
    }
    if (count <= 0)
        return std::vector<Value>{};
    if (count > double(kMaxInputs))
        return fail(QObject::tr("That range has %1 values; the limit is %2")
                        .arg(count, 0, 'f', 0)
                        .arg(kMaxInputs));
    std::vector<Value> out;
    out.reserve(std::size_t(count));
    for (long long k = 0; k < (long long)count; ++k) {
        if (ints)
            out.emplace_back(static_cast<long long>(a.i + k * step.i));
        else
            out.emplace_back(a.d + double(k) * step.d);
    }
    return out;
}

const QRegularExpression &dotsRe()
{
    // A number: 3, -2, 0.5, 1e3 (no trailing dot, so "0..9" splits cleanly).
#define TB_NUM R"([-+]?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?)"
    static const QRegularExpression re(QStringLiteral(R"(^\s*()" TB_NUM R"()\s*\.\.\s*()" TB_NUM
                                                      R"()\s*(?::\s*()" TB_NUM R"())?\s*$)"));
#undef TB_NUM
    return re;
}

const QRegularExpression &rangeRe()
{
    static const QRegularExpression re(QStringLiteral(R"(^\s*range\s*\((.*)\)\s*$)"));
    return re;
}

} // namespace

bool looksLikeRange(const QString &text)
{
    return dotsRe().match(text).hasMatch() || rangeRe().match(text).hasMatch();
}

std::optional<std::vector<Value>> parseRange(const QString &text, QString *error)
{
    auto fail = [&](const QString &m) -> std::optional<std::vector<Value>> {
        if (error)
            *error = m;
        return std::nullopt;
    };
    if (auto m = dotsRe().match(text); m.hasMatch()) {
        auto a = number(m.captured(1));
        auto b = number(m.captured(2));
        std::optional<Number> step = Number{};
        if (m.capturedLength(3) > 0)
            step = number(m.captured(3));
        else {
            step->i = (a && b && b->d < a->d) ? -1 : 1;
            step->d = double(step->i);
        }
        if (!a || !b || !step)
            return fail(QObject::tr("Write a range as start..end or start..end:step"));
        return makeRange(*a, *b, *step, true, error);
    }
    if (auto m = rangeRe().match(text); m.hasMatch()) {
        const QStringList parts = m.captured(1).split(QLatin1Char(','));
        std::vector<Number> nums;
        for (const QString &p : parts) {
            auto n = number(p);
            if (!n)
                return fail(QObject::tr("'%1' is not a number").arg(p.trimmed()));
            nums.push_back(*n);
        }
        Number zero, one;
        one.i = 1;
        one.d = 1;
        if (nums.size() == 1)
            return makeRange(zero, nums[0], one, false, error);
        if (nums.size() == 2)
            return makeRange(nums[0], nums[1], one, false, error);
        if (nums.size() == 3)
            return makeRange(nums[0], nums[1], nums[2], false, error);
        return fail(QObject::tr("range() takes one to three numbers"));
    }
    return fail(QObject::tr("Write a range as 0..9, 0..100:5 or range(10)"));
}

std::optional<std::vector<Value>> parseList(const QString &text, QString *error)
{
    const QString t = text.trimmed();
    if (t.isEmpty()) {
        if (error)
            *error = QObject::tr("Enter at least one value");
        return std::nullopt;
    }
    // A whole JSON array is the list; "[1, 2], [3, 4]" is a list of two lists (split below).
    QString jsonError;
    if (t.startsWith(QLatin1Char('['))) {
        std::string err;
        auto v = fromJson(t.toStdString(), &err);
        if (v && v->isList())
            return v->toList();
        jsonError = QObject::tr("Not valid JSON: %1").arg(QString::fromStdString(err));
    }
    // Split on separators outside quotes and brackets, so "a, b", [1, 2] stay whole.
    std::vector<Value> out;
    QString item;
    int depth = 0;
    bool inString = false;
    auto flush = [&] {
        const QString s = item.trimmed();
        if (!s.isEmpty())
            out.push_back(parseArgument(s.toStdString()));
        item.clear();
    };
    for (int i = 0; i < t.size(); ++i) {
        const QChar c = t[i];
        if (inString) {
            item += c;
            if (c == QLatin1Char('\\') && i + 1 < t.size())
                item += t[++i];
            else if (c == QLatin1Char('"'))
                inString = false;
            continue;
        }
        if (c == QLatin1Char('"')) {
            inString = true;
            item += c;
        } else if (c == QLatin1Char('[') || c == QLatin1Char('{')) {
            ++depth;
            item += c;
        } else if (c == QLatin1Char(']') || c == QLatin1Char('}')) {
            --depth;
            item += c;
        } else if (depth == 0 && (c == QLatin1Char(',') || c == QLatin1Char(';') || c.isSpace())) {
            flush();
        } else {
            item += c;
        }
    }
    if (inString || depth != 0) {
        if (error)
            *error = !jsonError.isEmpty() ? jsonError
                     : inString           ? QObject::tr("A quoted string is not closed")
                                          : QObject::tr("A bracket is not closed");
        return std::nullopt;
    }
    flush();
    return out;
}

std::optional<std::vector<Value>> parseValues(const QString &text, QString *error)
{
    if (looksLikeRange(text))
        return parseRange(text, error);
    return parseList(text, error);
}

std::optional<std::vector<Value>> parseJsonLines(const QString &text, QString *error)
{
    std::vector<Value> out;
    const QStringList lines = text.split(QLatin1Char('\n'));
    for (int i = 0; i < lines.size(); ++i) {
        const QString line = lines[i].trimmed();
        if (line.isEmpty())
            continue;
        std::string err;
        auto v = fromJson(line.toStdString(), &err);
        if (!v) {
            if (error)
                *error = QObject::tr("Line %1: %2").arg(i + 1).arg(QString::fromStdString(err));
            return std::nullopt;
        }
        out.push_back(std::move(*v));
    }
    if (out.empty()) {
        if (error)
            *error = QObject::tr("The file has no values");
        return std::nullopt;
    }
    return out;
}

namespace {

std::optional<std::vector<QStringList>> csvRecords(const QString &text, QString *error)
{
    std::vector<QStringList> records;
    QStringList record;
    QString field;
    bool quoted = false;
    bool fieldStarted = false;
    auto endField = [&] {
        record << field;
        field.clear();
        fieldStarted = false;
    };
    auto endRecord = [&] {
        if (fieldStarted || !field.isEmpty() || !record.isEmpty())
            endField();
        bool blank = record.size() == 1 && record[0].trimmed().isEmpty();
        if (!record.isEmpty() && !blank)
            records.push_back(record);
        record.clear();
    };
    for (int i = 0; i < text.size(); ++i) {
        const QChar c = text[i];
        if (quoted) {
            if (c == QLatin1Char('"')) {
                if (i + 1 < text.size() && text[i + 1] == QLatin1Char('"')) {
                    field += QLatin1Char('"');
                    ++i;
                } else {
                    quoted = false;
                }
            } else {
                field += c;
            }
            continue;
        }
        if (c == QLatin1Char('"')) {
            quoted = true;
            fieldStarted = true;
        } else if (c == QLatin1Char(',')) {
            endField();
            fieldStarted = true;
        } else if (c == QLatin1Char('\n')) {
            endRecord();
        } else if (c != QLatin1Char('\r')) {
            field += c;
            fieldStarted = true;
        }
    }
    if (quoted) {
        if (error)
            *error = QObject::tr("A quoted CSV field is not closed");
        return std::nullopt;
    }
    endRecord();
    return records;
}

Value cellValue(const QString &cell)
{
    const QString t = cell.trimmed();
    if (t.isEmpty())
        return Value(std::string());
    // Numbers, booleans and null become values; anything else stays text (no JSON surprises
    // such as a cell "[x" failing to parse).
    static const QRegularExpression numberRe(
        QStringLiteral(R"(^[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?)$)"));
    if (numberRe.match(t).hasMatch() || t == QLatin1String("true") || t == QLatin1String("false")
        || t == QLatin1String("null"))
        return parseArgument(t.toStdString());
    return Value(cell.toStdString());
}

} // namespace

bool csvLooksLikeHeader(const QString &text)
{
    auto records = csvRecords(text.section(QLatin1Char('\n'), 0, 0), nullptr);
    if (!records || records->empty())
        return false;
    static const QRegularExpression ident(QStringLiteral(R"(^\s*[A-Za-z_][A-Za-z0-9_ ]*\s*$)"));
    for (const QString &cell : records->front())
        if (!ident.match(cell).hasMatch())
            return false;
    return true;
}

std::optional<Table> parseCsv(const QString &text, bool hasHeader, QString *error)
{
    auto records = csvRecords(text, error);
    if (!records)
        return std::nullopt;
    Table table;
    std::size_t first = 0;
    if (hasHeader && !records->empty()) {
        for (const QString &h : records->front())
            table.header << h.trimmed();
        first = 1;
    }
    const int width = hasHeader && !table.header.isEmpty()
                          ? int(table.header.size())
                          : (records->empty() ? 0 : int(records->front().size()));
    for (std::size_t r = first; r < records->size(); ++r) {
        const QStringList &rec = (*records)[r];
        if (int(rec.size()) != width) {
            if (error)
                *error
                    = QObject::tr("Row %1 has %n field(s), expected %2", nullptr, int(rec.size()))
                          .arg(r + 1)
                          .arg(width);
            return std::nullopt;
        }
        std::vector<Value> row;
        row.reserve(std::size_t(rec.size()));
        for (const QString &cell : rec)
            row.push_back(cellValue(cell));
        table.rows.push_back(std::move(row));
    }
    if (table.rows.empty()) {
        if (error)
            *error = QObject::tr("The file has no data rows");
        return std::nullopt;
    }
    return table;
}

} // namespace taskbench::gui::mapinput
