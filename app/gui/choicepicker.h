// The one widget for every choice among fixed entries in the workbench (functions, input
// source, value or future mode, status filter, log level, cluster settings). Qt 6.4's
// QComboBox cannot be set over AT-SPI: it has no Selection interface and its list items'
// only action does nothing. The picker is an editable combo box instead: its text can be
// typed, searched (a completer lists the entries containing it) or set by an assistive tool
// (EditableText), and the entry the text names is committed at once. Text that names no
// entry is shown as such, in red with a description, and never committed; Enter takes the
// only entry containing it, leaving the field puts the current entry's text back. Up and
// Down step through the entries, Alt+Down (or F4) opens the list. It stays a QComboBox, so
// currentData(), findData() and currentIndexChanged work as before.
#pragma once

#include <QComboBox>

namespace taskbench::gui {

class ChoicePicker : public QComboBox
{
    Q_OBJECT
public:
    explicit ChoicePicker(QWidget *parent = nullptr);

    /// Adds an entry with the data currentData() returns and an optional tooltip.
    void addChoice(const QString &text,
                   const QVariant &data,
                   const QIcon &icon = QIcon(),
                   const QString &toolTip = QString());

    /// True while the text names no entry: it is shown but the current entry is unchanged.
    bool hasPendingText() const { return m_pending; }
    /// Commits the entry the text names, or else the only entry containing it; false (with
    /// the text marked) when there is none or several.
    bool commitText();
    /// Puts the current entry's text back (clears a pending text).
    void revertText();

    /// Entries whose text contains `text` (case-insensitive), in list order.
    QList<int> matches(const QString &text) const;

signals:
    /// The text named no entry when the user tried to commit it (Enter).
    void textRejected(const QString &text);

protected:
    bool event(QEvent *event) override;
    void focusOutEvent(QFocusEvent *event) override;

private:
    void onTextChanged(const QString &text);
    void setPending(bool pending, const QString &text = QString());
    void updateState();
    void syncAccessibleName();

    bool m_pending = false;
    QString m_pendingText;
    bool m_syncing = false;
};

} // namespace taskbench::gui
