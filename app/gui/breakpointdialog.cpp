#include "breakpointdialog.h"

#include "choicepicker.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace taskbench::gui {

namespace {

Breakpoint::Match matchOf(const ChoicePicker *picker)
{
    return Breakpoint::Match(picker->currentData().toInt());
}

} // namespace

BreakpointDialog::BreakpointDialog(const Suggestions &suggestions, QWidget *parent)
    : QDialog(parent)
    , m_suggestions(suggestions)
{
    setWindowTitle(tr("Add breakpoint"));
    setAccessibleName(tr("Add breakpoint"));
    auto *layout = new QVBoxLayout(this);
    auto *note = new QLabel(tr("Matching tasks are held (status \"held\") before they start, "
                               "until you release them or step."),
                            this);
    note->setWordWrap(true);
    layout->addWidget(note);

    auto *form = new QFormLayout;
    m_match = new ChoicePicker(this);
    m_match->addChoice(tr("Function"),
                       int(Breakpoint::Match::Function),
                       QIcon(),
                       tr("Every task of this function (\"tutorial.add\")"));
    m_match->addChoice(
        tr("Key"), int(Breakpoint::Match::Key), QIcon(), tr("The one task with this key"));
    m_match->addChoice(tr("Group"),
                       int(Breakpoint::Match::Group),
                       QIcon(),
                       tr("Every task of this group (a map call's)"));
    m_match->setAccessibleName(tr("Break on"));
    auto *matchLabel = new QLabel(tr("&Break on:"), this);
    matchLabel->setBuddy(m_match);
    form->addRow(matchLabel, m_match);

    m_pattern = new QLineEdit(this);
    m_pattern->setAccessibleName(tr("Breakpoint pattern"));
    m_pattern->setPlaceholderText(tr("a function, key or group name"));
    auto *patternLabel = new QLabel(tr("&Name:"), this);
    patternLabel->setBuddy(m_pattern);
    form->addRow(patternLabel, m_pattern);

    m_minAttempt = new QSpinBox(this);
    m_minAttempt->setRange(1, 1000);
    m_minAttempt->setAccessibleName(tr("From attempt"));
    m_minAttempt->setToolTip(tr("Hold only from this attempt on: 2 catches the first retry"));
    auto *attemptLabel = new QLabel(tr("From &attempt:"), this);
    attemptLabel->setBuddy(m_minAttempt);
    form->addRow(attemptLabel, m_minAttempt);
    layout->addLayout(form);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("&Add breakpoint"));
    buttons->button(QDialogButtonBox::Ok)->setAccessibleName(tr("Add breakpoint"));
    buttons->button(QDialogButtonBox::Cancel)->setAccessibleName(tr("Cancel"));
    connect(buttons, &QDialogButtonBox::accepted, this, &BreakpointDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &BreakpointDialog::reject);
    layout->addWidget(buttons);

    // A typed name stays when the kind changes; a suggested one follows it.
    connect(m_pattern, &QLineEdit::textEdited, this, [this] { m_patternTyped = true; });
    connect(m_match, &QComboBox::currentIndexChanged, this, &BreakpointDialog::suggestPattern);
    suggestPattern();
    updateOk(buttons->button(QDialogButtonBox::Ok));
    connect(m_pattern, &QLineEdit::textChanged, this, [this, buttons] {
        updateOk(buttons->button(QDialogButtonBox::Ok));
    });
}

void BreakpointDialog::updateOk(QPushButton *ok) const
{
    ok->setEnabled(!m_pattern->text().trimmed().isEmpty());
}

void BreakpointDialog::suggestPattern()
{
    if (m_patternTyped)
        return;
    switch (matchOf(m_match)) {
    case Breakpoint::Match::Function:
        m_pattern->setText(m_suggestions.function);
        break;
    case Breakpoint::Match::Key:
        m_pattern->setText(m_suggestions.key);
        break;
    case Breakpoint::Match::Group:
        m_pattern->setText(m_suggestions.group);
        break;
    }
}

Breakpoint BreakpointDialog::breakpoint() const
{
    Breakpoint b;
    b.match = matchOf(m_match);
    b.pattern = m_pattern->text().trimmed().toStdString();
    b.minAttempt = m_minAttempt->value();
    return b;
}

void BreakpointDialog::accept()
{
    if (m_match->hasPendingText() && !m_match->commitText())
        return;
    if (m_pattern->text().trimmed().isEmpty())
        return;
    QDialog::accept();
}

} // namespace taskbench::gui
