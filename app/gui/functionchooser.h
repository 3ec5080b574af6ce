// The function picker of the Submit and Map forms: the functions it offers, the one chosen
// (kept by name when the plugins reload) and a signal when the choice changes.
#pragma once

#include "taskbench/functionregistry.h"

#include <QObject>
#include <QString>

#include <functional>
#include <vector>

class QFormLayout;
class QWidget;

namespace taskbench::gui {

class ChoicePicker;

class FunctionChooser : public QObject
{
    Q_OBJECT
public:
    /// Adds the picker to `form` as a row, with `label` as its buddy.
    FunctionChooser(QFormLayout *form,
                    QWidget *parent,
                    const QString &label,
                    const QString &accessibleName);

    ChoicePicker *picker() const { return m_picker; }
    /// Offers the functions `offer` accepts (all without one). The current function stays
    /// chosen when it is still offered, else the first is; changed() comes either way.
    void setFunctions(const std::vector<FunctionPtr> &functions,
                      const std::function<bool(const FunctionInfo &)> &offer = {});
    /// Chooses a function by its qualified name; an unknown name changes nothing.
    void setCurrent(const QString &qualifiedName);
    QString currentName() const;
    /// The chosen function; null when none is offered.
    const FunctionPtr &current() const { return m_current; }

signals:
    void changed(const QString &qualifiedName);

private:
    ChoicePicker *m_picker = nullptr;
    std::vector<FunctionPtr> m_functions;
    FunctionPtr m_current;
};

} // namespace taskbench::gui
