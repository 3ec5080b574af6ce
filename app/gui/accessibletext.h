// Text of a named label that assistive tools can read. Over AT-SPI, Qt 6.4 exposes a QLabel
// that has an accessible name by that name alone (no Text interface), so "Submit error"
// would be all a screen reader hears of the error. setLabelText() also puts the text in
// the label's accessible description, which screen readers read after the name.
#pragma once

#include <QLabel>

namespace taskbench::gui {

inline void setLabelText(QLabel *label, const QString &text)
{
    label->setText(text);
    if (label->accessibleDescription() != text)
        label->setAccessibleDescription(text);
}

} // namespace taskbench::gui
