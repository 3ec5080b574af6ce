// One action described as a row of a table (name, icon, text, shortcut, tip, what it does):
// the main window's actions and the steering actions are built from such tables.
#pragma once

#include <QKeySequence>
#include <QString>

#include <functional>

class QAction;
class QObject;
class QWidget;

namespace taskbench::gui {

struct ActionSpec
{
    const char *name; ///< the action's objectName (found by it: MainWindow::action(), tests)
    const char *icon; ///< a themed icon's name, or ""
    QString text;
    QKeySequence shortcut;
    QString tip;
    std::function<void()> run; ///< on triggered; empty for an action connected by its owner
};

/// The action, added to `owner` (its shortcut works in the whole window); `run` is called
/// in `context` (the owner when null), so it stops once that object is gone.
QAction *makeAction(QWidget *owner, const ActionSpec &spec, QObject *context = nullptr);

} // namespace taskbench::gui
