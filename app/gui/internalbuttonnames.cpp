// Names for Qt's internal buttons (see internalbuttonnames.h).
#include "internalbuttonnames.h"

#include <QAction>
#include <QApplication>
#include <QEvent>
#include <QLineEdit>
#include <QToolBar>
#include <QToolButton>

namespace taskbench::gui {

namespace {

constexpr const char *kFilterName = "taskbench_internal_button_names";

void nameButton(QToolButton *button)
{
    if (!button->accessibleName().isEmpty())
        return;
    if (button->objectName() == QLatin1String("qt_toolbar_ext_button")) {
        auto *bar = qobject_cast<QToolBar *>(button->parentWidget());
        const QString what = bar && !bar->accessibleName().isEmpty() ? bar->accessibleName()
                             : bar                                   ? bar->windowTitle()
                                                                     : QString();
        button->setAccessibleName(
            what.isEmpty() ? QApplication::translate("InternalButtons", "More tools")
                           : QApplication::translate("InternalButtons", "More %1").arg(what));
        button->setToolTip(button->accessibleName());
        return;
    }
    if (!qobject_cast<QLineEdit *>(button->parentWidget()))
        return;
    QAction *action = button->defaultAction();
    if (!action)
        return;
    // Qt's clear action has an object name but no text (Qt 6.4).
    if (action->text().isEmpty()
        && action->objectName() == QLatin1String("_q_qlineeditclearaction"))
        action->setText(QApplication::translate("InternalButtons", "Clear"));
    const QString name = action->text().remove(QLatin1Char('&'));
    if (!name.isEmpty()) {
        button->setAccessibleName(name);
        return;
    }
    // Polished as QLineEdit::addAction() makes it, before the caller can set a text: name
    // the button when the action gets one.
    QObject::connect(action, &QAction::changed, button, [button, action] {
        const QString text = action->text().remove(QLatin1Char('&'));
        if (button->accessibleName().isEmpty() && !text.isEmpty())
            button->setAccessibleName(text);
    });
}

class InternalButtonNamer : public QObject
{
public:
    using QObject::QObject;

protected:
    bool eventFilter(QObject *watched, QEvent *event) override
    {
        if (event->type() == QEvent::Polish)
            if (auto *button = qobject_cast<QToolButton *>(watched))
                nameButton(button);
        return false;
    }
};

} // namespace

void nameInternalButtons()
{
    if (!qApp || qApp->findChild<QObject *>(QLatin1String(kFilterName), Qt::FindDirectChildrenOnly))
        return;
    auto *namer = new InternalButtonNamer(qApp);
    namer->setObjectName(QLatin1String(kFilterName));
    qApp->installEventFilter(namer);
}

void nameInternalButtonsOf(QWidget *root)
{
    for (QToolButton *button : root->findChildren<QToolButton *>())
        nameButton(button);
}

} // namespace taskbench::gui
