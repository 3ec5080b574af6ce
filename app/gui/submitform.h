// The submit form: pick a task function, fill the fields generated from its parameters,
// set the options (key, pure, retries, priority) and submit. Invalid input is shown inline
// next to its field and nothing is submitted.
#pragma once

#include "taskoptionsbox.h"

#include "taskbench/client.h"
#include "taskbench/functionregistry.h"

#include <QWidget>

#include <functional>
#include <vector>

class QAbstractItemModel;
class QCheckBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;

namespace taskbench::gui {

class ArgumentField;
class FunctionChooser;

class SubmitForm : public QWidget
{
    Q_OBJECT
public:
    explicit SubmitForm(QWidget *parent = nullptr);

    void setFunctions(const std::vector<FunctionPtr> &functions);
    void setCurrentFunction(const QString &qualifiedName);
    QString currentFunction() const;
    FunctionPtr currentFunctionInfo() const;

    void setFutureKeyModel(QAbstractItemModel *model, int column);
    void setKeyValidator(std::function<bool(const QString &)> known);
    void setSelectionProvider(std::function<QStringList()> provider);

    const std::vector<ArgumentField *> &fields() const { return m_fields; }
    ArgumentField *field(const QString &name) const;
    QPushButton *submitButton() const { return m_submit; }
    QLineEdit *keyEdit() const { return m_options->keyEdit(); }
    QCheckBox *pureCheck() const { return m_options->pureCheck(); }
    QSpinBox *retriesSpin() const { return m_options->retriesSpin(); }
    QSpinBox *prioritySpin() const { return m_options->prioritySpin(); }

    /// Validates every field; emits submitRequested and returns true only if all are valid.
    bool trySubmit();
    /// An error from the engine (unknown future, wrong type) shown at the top of the form.
    void showFormError(const QString &message);
    QString formError() const;

signals:
    void submitRequested(const QString &function,
                         const std::vector<Value> &args,
                         const SubmitOptions &opts);
    void functionChanged(const QString &qualifiedName);

private:
    void rebuildFields();

    FunctionChooser *m_chooser = nullptr;
    QLabel *m_signature = nullptr;
    QLabel *m_doc = nullptr;
    QWidget *m_fieldsHost = nullptr;
    QFormLayout *m_fieldsLayout = nullptr;
    std::vector<ArgumentField *> m_fields;
    TaskOptionsBox *m_options = nullptr;
    QLabel *m_formError = nullptr;
    QPushButton *m_submit = nullptr;
    QAbstractItemModel *m_keyModel = nullptr;
    int m_keyColumn = 0;
    std::function<bool(const QString &)> m_known;
    std::function<QStringList()> m_selection;
};

} // namespace taskbench::gui
