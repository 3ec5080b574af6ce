// Edits one task's arguments in fields generated from the function's parameters (futures
// shown as references) and returns them: for Edit & retry of a failed task, and for a task
// held at a breakpoint (its inputs shown as their upstream values) before it is released.
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
    enum Purpose {
        RetryFailed, ///< the task failed: re-run it (and its downstream) with the arguments
        ReleaseHeld, ///< the task is held: give it the arguments, then let it run
    };

    EditRetryDialog(const QString &key,
                    const QString &errorText,
                    FunctionPtr function,
                    const std::vector<Value> &arguments,
                    int downstream,
                    QWidget *parent = nullptr,
                    Purpose purpose = RetryFailed);

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
