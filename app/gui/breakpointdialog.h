// "Add breakpoint": which tasks to hold before they start — by function, by key or by group
// (a map call) — and from which attempt on (2 catches a retry). The pattern is filled in from
// the selected future for the kind chosen, and can be typed.
#pragma once

#include "taskbench/steering.h"

#include <QDialog>
#include <QString>

class QLineEdit;
class QPushButton;
class QSpinBox;

namespace taskbench::gui {

class ChoicePicker;

class BreakpointDialog : public QDialog
{
    Q_OBJECT
public:
    /// What the selected future offers for each kind of match (empty when none is selected).
    struct Suggestions
    {
        QString key;
        QString function;
        QString group;
    };

    explicit BreakpointDialog(const Suggestions &suggestions, QWidget *parent = nullptr);

    /// The breakpoint as entered (valid after accept()).
    Breakpoint breakpoint() const;

    ChoicePicker *matchPicker() const { return m_match; }
    QLineEdit *patternEdit() const { return m_pattern; }
    QSpinBox *minAttemptSpin() const { return m_minAttempt; }

    void accept() override;

private:
    void suggestPattern();
    void updateOk(QPushButton *ok) const;

    Suggestions m_suggestions;
    ChoicePicker *m_match;
    QLineEdit *m_pattern;
    QSpinBox *m_minAttempt;
    bool m_patternTyped = false;
};

} // namespace taskbench::gui
