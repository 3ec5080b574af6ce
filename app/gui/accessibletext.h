// Text of a named label that assistive tools can read. Over AT-SPI, Qt 6.4 exposes a QLabel
// that has an accessible name by that name alone (no Text interface), so "Submit error"
// would be all a screen reader hears of the error. setLabelText() also puts the text in
// the label's accessible description, which screen readers read after the name; rich text
// (the Details overview table, the plugin details) is described by its plain text, since a
// screen reader would otherwise read the markup.
#pragma once

#include <QLabel>
#include <QTextDocument>
#include <QTextDocumentFragment>

namespace taskbench::gui {

/// What a screen reader should read of @p text shown in @p label.
inline QString spokenLabelText(const QLabel *label, const QString &text)
{
    const bool rich = label->textFormat() == Qt::RichText
                      || (label->textFormat() == Qt::AutoText && Qt::mightBeRichText(text));
    return rich ? QTextDocumentFragment::fromHtml(text).toPlainText().trimmed() : text;
}

/// Sets @p text on @p label and keeps its accessible description equal to it; @p spoken,
/// when given, is read instead (a plain-text rendering of a rich-text label).
inline void setLabelText(QLabel *label, const QString &text, const QString &spoken = {})
{
    if (label->text() != text)
        label->setText(text);
    const QString description = spoken.isEmpty() ? spokenLabelText(label, text) : spoken;
    if (label->accessibleDescription() != description)
        label->setAccessibleDescription(description);
}

} // namespace taskbench::gui
