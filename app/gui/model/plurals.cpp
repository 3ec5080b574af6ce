#include "plurals.h"

namespace taskbench::gui {

QString EnglishPlurals::translate(const char *, const char *sourceText, const char *, int n) const
{
    if (n < 0 || !sourceText)
        return {};
    QString text = QString::fromUtf8(sourceText);
    if (!text.contains(QLatin1String("(s)")) && !text.contains(QLatin1String("(es)")))
        return {};
    text.replace(QLatin1String("(s)"), n == 1 ? QString() : QStringLiteral("s"));
    text.replace(QLatin1String("(es)"), n == 1 ? QString() : QStringLiteral("es"));
    return text;
}

} // namespace taskbench::gui
