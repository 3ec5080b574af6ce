// English plurals without a translation file: the GUI writes counted messages the Qt way,
// tr("%n task(s)", nullptr, n), and this translator turns "(s)" into "" or "s" by n (and
// "(es)" into "" or "es": "miss(es)").
// A real translation installed later takes precedence (installed translators are asked
// newest first).
#pragma once

#include <QTranslator>

namespace taskbench::gui {

class EnglishPlurals : public QTranslator
{
    Q_OBJECT
public:
    using QTranslator::QTranslator;

    bool isEmpty() const override { return false; }
    QString translate(const char *context,
                      const char *sourceText,
                      const char *disambiguation = nullptr,
                      int n = -1) const override;
};

} // namespace taskbench::gui
