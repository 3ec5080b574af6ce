// Actions from table rows (see actionspec.h).
#include "actionspec.h"

#include "icons.h"

#include <QAction>
#include <QWidget>

namespace taskbench::gui {

QAction *makeAction(QWidget *owner, const ActionSpec &spec, QObject *context)
{
    const QString icon = QString::fromLatin1(spec.icon);
    auto *a = new QAction(icon.isEmpty() ? QIcon() : themedIcon(icon), spec.text, owner);
    a->setObjectName(QString::fromLatin1(spec.name));
    if (!spec.shortcut.isEmpty())
        a->setShortcut(spec.shortcut);
    a->setToolTip(spec.shortcut.isEmpty()
                      ? spec.tip
                      : QStringLiteral("%1 (%2)").arg(
                          spec.tip, spec.shortcut.toString(QKeySequence::NativeText)));
    a->setStatusTip(spec.tip);
    if (spec.run)
        QObject::connect(a, &QAction::triggered, context ? context : owner, spec.run);
    owner->addAction(a);
    return a;
}

} // namespace taskbench::gui
