#include "choicepicker.h"

#include "statusstyle.h"

#include <QAbstractItemView>
#include <QCompleter>
#include <QFocusEvent>
#include <QLineEdit>

namespace taskbench::gui {

ChoicePicker::ChoicePicker(QWidget *parent)
    : QComboBox(parent)
{
    setEditable(true);
    // Typed text selects an entry; it never adds one.
    setInsertPolicy(QComboBox::NoInsert);
    auto *completer = new QCompleter(model(), this);
    completer->setCaseSensitivity(Qt::CaseInsensitive);
    completer->setFilterMode(Qt::MatchContains);
    completer->setCompletionMode(QCompleter::PopupCompletion);
    setCompleter(completer);
    lineEdit()->setPlaceholderText(tr("type to search"));
    setPending(false);

    connect(lineEdit(), &QLineEdit::textChanged, this, &ChoicePicker::onTextChanged);
    connect(lineEdit(), &QLineEdit::returnPressed, this, &ChoicePicker::commitText);
    connect(this, &QComboBox::currentIndexChanged, this, [this] {
        if (m_pending && lineEdit()->text() == itemText(currentIndex()))
            m_pending = false;
        updateState();
    });
}

void ChoicePicker::addChoice(const QString &text,
                             const QVariant &data,
                             const QIcon &icon,
                             const QString &toolTip)
{
    addItem(icon, text, data);
    if (!toolTip.isEmpty())
        setItemData(count() - 1, toolTip, Qt::ToolTipRole);
}

QList<int> ChoicePicker::matches(const QString &text) const
{
    QList<int> out;
    const QString t = text.trimmed();
    for (int i = 0; i < count(); ++i)
        if (itemText(i).contains(t, Qt::CaseInsensitive))
            out << i;
    return out;
}

bool ChoicePicker::commitText()
{
    const QString text = lineEdit()->text().trimmed();
    if (text.isEmpty()) {
        revertText();
        return currentIndex() >= 0;
    }
    int index = -1;
    if (currentIndex() >= 0 && itemText(currentIndex()).compare(text, Qt::CaseInsensitive) == 0)
        index = currentIndex();
    if (index < 0)
        index = findText(text, Qt::MatchFixedString);
    if (index < 0) {
        const QList<int> candidates = matches(text);
        if (candidates.size() == 1)
            index = candidates.front();
    }
    if (index < 0) {
        setPending(true, text);
        emit textRejected(text);
        return false;
    }
    if (index != currentIndex())
        setCurrentIndex(index);
    revertText(); // the entry's own spelling
    return true;
}

void ChoicePicker::revertText()
{
    const QString text = currentIndex() >= 0 ? itemText(currentIndex()) : QString();
    if (lineEdit()->text() != text) {
        m_syncing = true;
        lineEdit()->setText(text);
        m_syncing = false;
    }
    setPending(false);
}

void ChoicePicker::onTextChanged(const QString &raw)
{
    if (m_syncing)
        return;
    const QString text = raw.trimmed();
    if (text.isEmpty()) {
        // Cleared to search: nothing is committed and nothing is wrong yet.
        setPending(false);
        return;
    }
    if (currentIndex() >= 0 && itemText(currentIndex()).compare(text, Qt::CaseInsensitive) == 0) {
        setPending(false);
        return;
    }
    const int index = findText(text, Qt::MatchFixedString);
    if (index < 0) {
        setPending(true, text);
        return;
    }
    // The text names an entry: commit it now, so a tool that sets the text (a screen reader,
    // a test over AT-SPI) makes the choice without a key press.
    m_syncing = true;
    setCurrentIndex(index);
    m_syncing = false;
    setPending(false);
    if (completer() && completer()->popup() && completer()->popup()->isVisible())
        completer()->popup()->hide();
}

void ChoicePicker::setPending(bool pending, const QString &text)
{
    m_pending = pending;
    m_pendingText = pending ? text : QString();
    updateState();
}

void ChoicePicker::updateState()
{
    QLineEdit *edit = lineEdit();
    const QString current = currentIndex() >= 0 ? itemText(currentIndex()) : QString();
    if (m_pending) {
        QPalette pal = edit->palette();
        pal.setColor(QPalette::Text, statusColor(FutureStatus::Error));
        edit->setPalette(pal);
        const QString why = tr("No entry matches \"%1\"; the choice is still %2")
                                .arg(m_pendingText, current.isEmpty() ? tr("none") : current);
        edit->setToolTip(why);
        edit->setAccessibleDescription(why);
        return;
    }
    edit->setPalette(QPalette());
    edit->setToolTip(QString());
    // The description names the committed choice: the text alone may be half typed.
    edit->setAccessibleDescription(
        current.isEmpty()
            ? tr("Nothing chosen. Type to search the entries, or press Alt+Down for the list.")
            : tr("%1 chosen. Type to search the entries, or press Alt+Down for the list.")
                  .arg(current));
}

void ChoicePicker::syncAccessibleName()
{
    // On Linux the combo's accessible name is its current text (the label is a relation), so
    // the text field inside carries the name a tool looks it up by.
    if (lineEdit() && lineEdit()->accessibleName() != accessibleName())
        lineEdit()->setAccessibleName(accessibleName());
}

bool ChoicePicker::event(QEvent *event)
{
    if (event->type() == QEvent::Polish || event->type() == QEvent::Show)
        syncAccessibleName();
    return QComboBox::event(event);
}

void ChoicePicker::focusOutEvent(QFocusEvent *event)
{
    QComboBox::focusOutEvent(event);
    if (event->reason() == Qt::PopupFocusReason)
        return;
    if (m_pending || lineEdit()->text() != itemText(currentIndex()))
        revertText();
}

} // namespace taskbench::gui
