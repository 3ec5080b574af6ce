#include "argumentfield.h"

#include "accessibletext.h"
#include "argumentparsing.h"
#include "choicepicker.h"
#include "icons.h"
#include "statusstyle.h"

#include "taskbench/valuecodec.h"

#include <QCheckBox>
#include <QCompleter>
#include <QDoubleSpinBox>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QSpinBox>
#include <QStackedWidget>
#include <QToolButton>
#include <QVBoxLayout>

#include <limits>

namespace taskbench::gui {

ArgumentField::ArgumentField(const sdk::ParamSpec &param, QWidget *parent)
    : QWidget(parent)
    , m_param(param)
{
    const QString name = QString::fromStdString(param.name);
    const QString type = QString::fromStdString(param.type);
    auto *outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->setSpacing(2);
    auto *row = new QHBoxLayout;
    row->setSpacing(4);
    outer->addLayout(row);

    m_stack = new QStackedWidget(this);
    row->addWidget(m_stack, 1);

    const ParamKind kind = paramKind(param.type);
    switch (kind) {
    case ParamKind::Int:
        m_int = new QSpinBox(this);
        m_int->setRange(std::numeric_limits<int>::min(), std::numeric_limits<int>::max());
        m_int->setAccelerated(true);
        if (param.hasDefault && param.defaultValue.isInt())
            m_int->setValue(int(param.defaultValue.toInt()));
        connect(m_int, &QSpinBox::valueChanged, this, &ArgumentField::edited);
        m_literal = m_int;
        break;
    case ParamKind::Float:
        m_float = new QDoubleSpinBox(this);
        m_float->setRange(-1e15, 1e15);
        m_float->setDecimals(6);
        if (param.hasDefault && param.defaultValue.isNumber())
            m_float->setValue(param.defaultValue.toDouble());
        connect(m_float, &QDoubleSpinBox::valueChanged, this, &ArgumentField::edited);
        m_literal = m_float;
        break;
    case ParamKind::Bool:
        m_bool = new QCheckBox(name, this);
        if (param.hasDefault && param.defaultValue.isBool())
            m_bool->setChecked(param.defaultValue.toBool());
        connect(m_bool, &QCheckBox::toggled, this, &ArgumentField::edited);
        m_literal = m_bool;
        break;
    case ParamKind::List:
    case ParamKind::Map: {
        m_json = new QPlainTextEdit(this);
        m_json->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
        m_json->setTabChangesFocus(true);
        m_json->setPlaceholderText(kind == ParamKind::List ? tr("JSON list, e.g. [1, 2, 3]")
                                                           : tr("JSON object, e.g. {\"a\": 1}"));
        m_json->setFixedHeight(m_json->fontMetrics().lineSpacing() * 3 + 12);
        if (param.hasDefault)
            m_json->setPlainText(QString::fromStdString(toJson(param.defaultValue)));
        connect(m_json, &QPlainTextEdit::textChanged, this, &ArgumentField::edited);
        m_literal = m_json;
        break;
    }
    default:
        m_line = new QLineEdit(this);
        m_line->setClearButtonEnabled(true);
        if (kind == ParamKind::Any)
            m_line->setPlaceholderText(tr("JSON value or text"));
        else if (kind == ParamKind::Optional)
            m_line->setPlaceholderText(tr("empty for none"));
        if (param.hasDefault) {
            const Value &d = param.defaultValue;
            m_line->setText(d.isString() ? QString::fromStdString(d.toString())
                                         : QString::fromStdString(toJson(d)));
        }
        connect(m_line, &QLineEdit::textEdited, this, &ArgumentField::edited);
        m_literal = m_line;
        break;
    }
    m_literal->setAccessibleName(name);
    m_literal->setAccessibleDescription(tr("Argument %1 of type %2").arg(name, type));
    m_literal->setToolTip(tr("%1: %2").arg(name, type));
    m_stack->addWidget(m_literal);

    // Future mode: a key (or several) with completion from the futures table.
    auto *futurePage = new QWidget(this);
    auto *fl = new QHBoxLayout(futurePage);
    fl->setContentsMargins(0, 0, 0, 0);
    fl->setSpacing(2);
    m_futures = new QLineEdit(futurePage);
    m_futures->setClearButtonEnabled(true);
    m_futures->setAccessibleName(tr("%1 future key").arg(name));
    m_futures->setPlaceholderText(tr("future key"));
    connect(m_futures, &QLineEdit::textEdited, this, &ArgumentField::edited);
    fl->addWidget(m_futures, 1);
    m_useSelection = new QToolButton(futurePage);
    m_useSelection->setIcon(themedIcon(QStringLiteral("filter")));
    m_useSelection->setToolTip(tr("Use the futures selected in the table"));
    m_useSelection->setAccessibleName(tr("Use selected futures for %1").arg(name));
    connect(m_useSelection, &QToolButton::clicked, this, &ArgumentField::useSelection);
    fl->addWidget(m_useSelection);
    m_stack->addWidget(futurePage);

    m_mode = new ChoicePicker(this);
    m_mode->addItem(tr("Value"), int(Literal));
    m_mode->addItem(tr("Future"), int(OneFuture));
    m_mode->addItem(tr("Futures (list)"), int(FutureList));
    m_mode->setAccessibleName(tr("%1 source").arg(name));
    m_mode->setToolTip(tr("Pass a literal value, an existing future, or a list of futures"));
    m_mode->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    connect(m_mode, &QComboBox::currentIndexChanged, this, [this](int i) {
        setMode(Mode(m_mode->itemData(i).toInt()));
    });
    row->addWidget(m_mode, 0, Qt::AlignTop);

    m_error = new QLabel(this);
    m_error->setWordWrap(true);
    m_error->setAccessibleName(tr("%1 error").arg(name));
    QPalette pal = m_error->palette();
    pal.setColor(QPalette::WindowText, statusColor(FutureStatus::Error));
    m_error->setPalette(pal);
    m_error->hide();
    outer->addWidget(m_error);
    connect(this, &ArgumentField::edited, this, &ArgumentField::clearError);
}

QWidget *ArgumentField::focusWidget() const
{
    return m_modeValue == Literal ? m_literal : static_cast<QWidget *>(m_futures);
}

void ArgumentField::setFutureKeys(QAbstractItemModel *model, int column)
{
    auto *completer = new QCompleter(model, this);
    completer->setCompletionColumn(column);
    completer->setCaseSensitivity(Qt::CaseInsensitive);
    completer->setFilterMode(Qt::MatchContains);
    m_futures->setCompleter(completer);
}

void ArgumentField::setMode(Mode mode)
{
    m_modeValue = mode;
    m_stack->setCurrentIndex(mode == Literal ? 0 : 1);
    m_futures->setPlaceholderText(mode == FutureList ? tr("keys, comma separated")
                                                     : tr("future key"));
    const int i = m_mode->findData(int(mode));
    if (i != m_mode->currentIndex())
        m_mode->setCurrentIndex(i);
    clearError();
}

void ArgumentField::setText(const QString &text)
{
    if (m_int)
        m_int->setValue(text.toInt());
    else if (m_float)
        m_float->setValue(text.toDouble());
    else if (m_bool)
        m_bool->setChecked(text == QLatin1String("true") || text == QLatin1String("1"));
    else if (m_json)
        m_json->setPlainText(text);
    else if (m_line)
        m_line->setText(text);
}

void ArgumentField::setValue(const Value &value)
{
    if (value.isRef()) {
        setMode(OneFuture);
        m_futures->setText(QString::fromStdString(value.toRef().key));
        return;
    }
    if (value.isList() && !value.toList().empty()) {
        bool allRefs = true;
        QStringList keys;
        for (const Value &v : value.toList()) {
            allRefs = allRefs && v.isRef();
            if (v.isRef())
                keys << QString::fromStdString(v.toRef().key);
        }
        if (allRefs) {
            setMode(FutureList);
            m_futures->setText(keys.join(QStringLiteral(", ")));
            return;
        }
    }
    setMode(Literal);
    if (value.isString() && m_line)
        m_line->setText(QString::fromStdString(value.toString()));
    else if (value.isBool())
        setText(value.toBool() ? QStringLiteral("true") : QStringLiteral("false"));
    else
        setText(QString::fromStdString(toJson(value)));
}

void ArgumentField::setFutureKeys(const QStringList &keys)
{
    m_futures->setText(keys.join(QStringLiteral(", ")));
}

void ArgumentField::useSelection()
{
    if (!m_selection)
        return;
    const QStringList keys = m_selection();
    if (keys.isEmpty()) {
        showError(tr("Select futures in the table first"));
        return;
    }
    if (m_modeValue == OneFuture && keys.size() > 1)
        setMode(FutureList);
    m_futures->setText(m_modeValue == OneFuture ? keys.front() : keys.join(QStringLiteral(", ")));
    emit edited();
}

std::optional<Value> ArgumentField::value()
{
    QString error;
    if (m_modeValue != Literal) {
        QStringList keys;
        for (const QString &k : m_futures->text().split(QLatin1Char(','), Qt::SkipEmptyParts))
            if (!k.trimmed().isEmpty())
                keys << k.trimmed();
        if (keys.isEmpty()) {
            showError(m_modeValue == OneFuture ? tr("Enter the key of a future")
                                               : tr("Enter one or more future keys"));
            return std::nullopt;
        }
        if (m_modeValue == OneFuture && keys.size() > 1) {
            showError(tr("One future only; choose \"Futures (list)\" for several"));
            return std::nullopt;
        }
        for (const QString &k : keys) {
            if (m_known && !m_known(k)) {
                showError(tr("No future with key %1").arg(k));
                return std::nullopt;
            }
        }
        if (m_modeValue == OneFuture)
            return Value::ref(keys.front().toStdString());
        Value::List list;
        for (const QString &k : keys)
            list.push_back(Value::ref(k.toStdString()));
        return Value(std::move(list));
    }
    if (m_int)
        return Value(m_int->value());
    if (m_float)
        return Value(m_float->value());
    if (m_bool)
        return Value(m_bool->isChecked());
    const QString text = m_json ? m_json->toPlainText() : m_line->text();
    auto v = parseTypedText(m_param.type, text, &error);
    if (!v) {
        showError(error);
        return std::nullopt;
    }
    if (!valueFitsType(m_param.type, *v, &error)) {
        showError(error);
        return std::nullopt;
    }
    return v;
}

void ArgumentField::showError(const QString &message)
{
    setLabelText(m_error, message);
    m_error->show();
    QWidget *w = focusWidget();
    w->setAccessibleDescription(message);
}

void ArgumentField::clearError()
{
    if (m_error->isHidden())
        return;
    m_error->clear();
    m_error->hide();
}

QString ArgumentField::errorText() const
{
    return m_error->isHidden() ? QString() : m_error->text();
}

bool ArgumentField::hasError() const
{
    return !m_error->isHidden();
}

} // namespace taskbench::gui
