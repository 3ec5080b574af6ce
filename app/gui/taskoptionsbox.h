// The "Options" box of the Submit and Map forms: pure, retries and priority (and, for a
// single call, its key), with each form's own labels and accessible names, read back as the
// SubmitOptions the engine takes.
#pragma once

#include "taskbench/client.h"

#include <QGroupBox>
#include <QString>

class QCheckBox;
class QLineEdit;
class QSpinBox;

namespace taskbench::gui {

class TaskOptionsBox : public QGroupBox
{
    Q_OBJECT
public:
    /// Each control's visible label (with its mnemonic) and accessible name.
    struct Texts
    {
        QString pure, pureName;
        QString retries, retriesName;
        QString priority, priorityName;
        bool withKey = false; ///< a Key field first (a single call's own key)
    };
    TaskOptionsBox(const Texts &texts, QWidget *parent = nullptr);

    /// Key (trimmed; empty: automatic), pure, retries and priority as set.
    SubmitOptions options() const;

    QLineEdit *keyEdit() const { return m_key; } ///< null without a Key field
    QCheckBox *pureCheck() const { return m_pure; }
    QSpinBox *retriesSpin() const { return m_retries; }
    QSpinBox *prioritySpin() const { return m_priority; }

private:
    QLineEdit *m_key = nullptr;
    QCheckBox *m_pure = nullptr;
    QSpinBox *m_retries = nullptr;
    QSpinBox *m_priority = nullptr;
};

} // namespace taskbench::gui
