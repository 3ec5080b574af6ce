// Edit & retry: shows a failed task's arguments in editable fields (generated from the
// function's parameters, futures shown as references) and returns the edited arguments.
#pragma once

#include "taskbench/functionregistry.h"

#include <QDialog>

#include <vector>

class QLabel;

namespace taskbench::gui {

class ArgumentField;

class EditRetryDialog : public QDialog
{
    Q_OBJECT
public:
    EditRetryDialog(const QString &key,
                    const QString &errorText,
                    FunctionPtr function,
                    const std::vector<Value> &arguments,
                    int downstream,
                    QWidget *parent = nullptr);

    /// The edited arguments (valid after accept()).
    const std::vector<Value> &arguments() const { return m_result; }
    const std::vector<ArgumentField *> &fields() const { return m_fields; }

    void accept() override;

private:
    FunctionPtr m_function;
    std::vector<ArgumentField *> m_fields;
    std::vector<Value> m_result;
    QLabel *m_error;
};

} // namespace taskbench::gui
