#include "argumentparsing.h"

#include "taskbench/valuecodec.h"

#include <QObject>

namespace taskbench::gui {

static bool startsWith(const std::string &s, const char *prefix)
{
    return s.rfind(prefix, 0) == 0;
}

ParamKind paramKind(const std::string &type)
{
    if (type == "bool")
        return ParamKind::Bool;
    if (type == "int")
        return ParamKind::Int;
    if (type == "float" || type == "double")
        return ParamKind::Float;
    if (type == "str" || type == "string")
        return ParamKind::Str;
    if (startsWith(type, "bytes"))
        return ParamKind::Bytes;
    if (startsWith(type, "list") || startsWith(type, "tuple"))
        return ParamKind::List;
    if (startsWith(type, "map") || startsWith(type, "dict"))
        return ParamKind::Map;
    if (startsWith(type, "optional["))
        return ParamKind::Optional;
    return ParamKind::Any;
}

std::string innerType(const std::string &type)
{
    const auto open = type.find('[');
    const auto close = type.rfind(']');
    if (open == std::string::npos || close == std::string::npos || close <= open + 1)
        return "any";
    std::string inner = type.substr(open + 1, close - open - 1);
    // map[str, T]: the value type.
    if (startsWith(type, "map") || startsWith(type, "dict")) {
        const auto comma = inner.find(',');
        if (comma != std::string::npos) {
            inner = inner.substr(comma + 1);
            while (!inner.empty() && inner.front() == ' ')
                inner.erase(inner.begin());
        }
    }
    return inner;
}

static std::optional<Value> parseJsonOf(const QString &text, Value::Type want, QString *error)
{
    std::string err;
    auto v = fromJson(text.trimmed().toStdString(), &err);
    if (!v) {
        if (error)
            *error = QObject::tr("Not valid JSON: %1").arg(QString::fromStdString(err));
        return std::nullopt;
    }
    if (v->type() != want && !v->isRef()) {
        if (error)
            *error = QObject::tr("Expected a JSON %1, got %2")
                         .arg(QString::fromLatin1(Value::kindName(want)),
                              QString::fromLatin1(v->kindName()));
        return std::nullopt;
    }
    return v;
}

std::optional<Value> parseTypedText(const std::string &type, const QString &text, QString *error)
{
    const QString t = text.trimmed();
    switch (paramKind(type)) {
    case ParamKind::Bool: {
        const QString l = t.toLower();
        if (l == QLatin1String("true") || l == QLatin1String("yes") || l == QLatin1String("1"))
            return Value(true);
        if (l == QLatin1String("false") || l == QLatin1String("no") || l == QLatin1String("0"))
            return Value(false);
        if (error)
            *error = QObject::tr("Expected true or false");
        return std::nullopt;
    }
    case ParamKind::Int: {
        bool ok = false;
        QString digits = t;
        digits.remove(QLatin1Char('_'));
        const qlonglong v = digits.toLongLong(&ok);
        if (!ok || t.isEmpty()) {
            if (error)
                *error = t.isEmpty() ? QObject::tr("A whole number is required")
                                     : QObject::tr("'%1' is not a whole number").arg(t);
            return std::nullopt;
        }
        return Value(static_cast<long long>(v));
    }
    case ParamKind::Float: {
        bool ok = false;
        const double v = t.toDouble(&ok);
        if (!ok || t.isEmpty()) {
            if (error)
                *error = t.isEmpty() ? QObject::tr("A number is required")
                                     : QObject::tr("'%1' is not a number").arg(t);
            return std::nullopt;
        }
        return Value(v);
    }
    case ParamKind::Str:
        return Value(text.toStdString());
    case ParamKind::Bytes: {
        // Bytes are typed as text (UTF-8) or as JSON {"$bytes": "<base64>"}.
        if (t.startsWith(QLatin1Char('{')))
            return parseJsonOf(t, Value::Type::Bytes, error);
        const QByteArray utf8 = text.toUtf8();
        Bytes b;
        b.data.assign(utf8.begin(), utf8.end());
        return Value(std::move(b));
    }
    case ParamKind::List:
        if (t.isEmpty()) {
            if (error)
                *error = QObject::tr("Expected a JSON list, e.g. [1, 2, 3]");
            return std::nullopt;
        }
        return parseJsonOf(t, Value::Type::List, error);
    case ParamKind::Map:
        if (t.isEmpty()) {
            if (error)
                *error = QObject::tr("Expected a JSON object, e.g. {\"a\": 1}");
            return std::nullopt;
        }
        return parseJsonOf(t, Value::Type::Map, error);
    case ParamKind::Optional:
        if (t.isEmpty() || t == QLatin1String("null") || t == QLatin1String("None"))
            return Value();
        return parseTypedText(innerType(type), text, error);
    case ParamKind::Any:
        return parseArgument(t.toStdString());
    }
    return std::nullopt;
}

bool valueFitsType(const std::string &type, const Value &value, QString *error)
{
    if (value.isRef())
        return true;
    bool ok = true;
    switch (paramKind(type)) {
    case ParamKind::Bool:
        ok = value.isBool();
        break;
    case ParamKind::Int:
        ok = value.isInt();
        break;
    case ParamKind::Float:
        ok = value.isNumber();
        break;
    case ParamKind::Str:
        ok = value.isString();
        break;
    case ParamKind::Bytes:
        ok = value.isBytes();
        break;
    case ParamKind::List:
        if (!value.isList()) {
            ok = false;
            break;
        }
        for (const Value &item : value.toList())
            if (!valueFitsType(innerType(type), item, nullptr)) {
                ok = false;
                break;
            }
        break;
    case ParamKind::Map:
        ok = value.isMap();
        break;
    case ParamKind::Optional:
        ok = value.isNull() || valueFitsType(innerType(type), value, nullptr);
        break;
    case ParamKind::Any:
        ok = true;
        break;
    }
    if (!ok && error)
        *error = QObject::tr("expected %1, got %2")
                     .arg(QString::fromStdString(type), QString::fromStdString(value.typeName()));
    return ok;
}

} // namespace taskbench::gui
