// One generated input of the submit form, for one parameter of a task function: a typed
// editor (spin box, check box, line edit or JSON editor), a switch to use an existing future
// (or several, as a list) instead of a literal, and an inline error label under it.
#pragma once

#include "taskbench/sdk.h"
#include "taskbench/value.h"

#include <QWidget>

#include <functional>
#include <optional>

class QAbstractItemModel;
class QCheckBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QSpinBox;
class QStackedWidget;
class QToolButton;

namespace taskbench::gui {

class ChoicePicker;

class ArgumentField : public QWidget
{
    Q_OBJECT
public:
    enum Mode { Literal, OneFuture, FutureList };

    explicit ArgumentField(const sdk::ParamSpec &param, QWidget *parent = nullptr);

    const sdk::ParamSpec &param() const { return m_param; }
    /// The widget that should take focus and be the form label's buddy.
    QWidget *focusWidget() const;

    /// Completion of future keys (the futures model, key column).
    void setFutureKeys(QAbstractItemModel *model, int column);
    /// Tells whether a key names a future the GUI holds.
    void setKeyValidator(std::function<bool(const QString &)> known) { m_known = std::move(known); }
    /// Returns the keys currently selected in the futures table (for "Use selection").
    void setSelectionProvider(std::function<QStringList()> provider)
    {
        m_selection = std::move(provider);
    }

    Mode mode() const { return m_modeValue; }
    void setMode(Mode mode);
    /// Sets the editor from text as the user would type it (tests, Edit & retry).
    void setText(const QString &text);
    void setValue(const Value &value);
    /// Future keys for the future modes (comma separated for a list).
    void setFutureKeys(const QStringList &keys);

    /// The argument, or nullopt with the inline error shown.
    std::optional<Value> value();
    void showError(const QString &message);
    void clearError();
    QString errorText() const;
    bool hasError() const;

signals:
    void edited();

private:
    void useSelection();

    sdk::ParamSpec m_param;
    Mode m_modeValue = Literal;
    QStackedWidget *m_stack = nullptr;
    QWidget *m_literal = nullptr;
    QSpinBox *m_int = nullptr;
    QDoubleSpinBox *m_float = nullptr;
    QCheckBox *m_bool = nullptr;
    QLineEdit *m_line = nullptr;
    QPlainTextEdit *m_json = nullptr;
    QLineEdit *m_futures = nullptr;
    QToolButton *m_useSelection = nullptr;
    ChoicePicker *m_mode = nullptr;
    QLabel *m_error = nullptr;
    std::function<bool(const QString &)> m_known;
    std::function<QStringList()> m_selection;
};

} // namespace taskbench::gui
